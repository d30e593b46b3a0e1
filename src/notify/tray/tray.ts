import type { Drive } from '../../watchers/drive-source.js'
import type { TrayIconState } from './icons.js'

/** What the tray shows; built from the daemon's state by view.ts. */
export interface TrayView {
  state: TrayIconState
  statusLine: string
  tooltip: string
  drives: Drive[]
  pending: { id: string; path: string; drive: string | null }[]
  paused: boolean
}

/** What the tray's menu entries do. */
export interface TrayActions {
  createOnDrive(drive: Drive): void
  saveAs(): void
  createInOutbox(): void
  accept(promptId: string): void
  openInbox(): void
  setPaused(paused: boolean): void
  quit(): void
}

/** The tray icon: systray2 for real (systray-tray.ts), a recording fake in test/daemon. */
export interface Tray {
  update(view: TrayView): void
  stop(): Promise<void>
}
