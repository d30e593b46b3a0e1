import path from 'node:path'
import type { Drive } from '../../watchers/drive-source.js'
import type { TrayActions, TrayView } from './tray.js'

/**
 * The tray menu as fixed slots. systray2 cannot add or remove entries after start, only hide them, so the menu
 * has room for DRIVE_SLOTS drives and PROMPT_SLOTS pending files, and apply() shows the ones in use.
 */
export const DRIVE_SLOTS = 4
export const PROMPT_SLOTS = 5

export interface MenuEntry {
  title: string
  tooltip: string
  enabled: boolean
  hidden: boolean
  checked: boolean
  items?: MenuEntry[]
  /** Called by the systray2 click handler (systray2 hands back the same object). */
  click?: () => void
}

export interface TrayMenu {
  status: MenuEntry
  create: MenuEntry
  driveSlots: MenuEntry[]
  saveAs: MenuEntry
  outbox: MenuEntry
  promptSlots: MenuEntry[]
  openInbox: MenuEntry
  pause: MenuEntry
  quit: MenuEntry
  /** The drives and prompts the slots stand for right now (set by applyView, read by the click handlers). */
  current: { drives: Drive[]; pending: TrayView['pending'] }
  /** Top-level entries in order, separators included as null. */
  top: (MenuEntry | null)[]
}

const entry = (title: string, extra: Partial<MenuEntry> = {}): MenuEntry => ({ title, tooltip: title, enabled: true, hidden: false, checked: false, ...extra })

export function buildMenu(actions: TrayActions): TrayMenu {
  const current: TrayMenu['current'] = { drives: [], pending: [] }
  const driveSlots = Array.from({ length: DRIVE_SLOTS }, (_, i) =>
    entry(' ', {
      hidden: true,
      click: () => {
        const drive = current.drives[i]
        if (drive) actions.createOnDrive(drive)
      },
    }),
  )
  const promptSlots = Array.from({ length: PROMPT_SLOTS }, (_, i) =>
    entry(' ', {
      hidden: true,
      click: () => {
        const prompt = current.pending[i]
        if (prompt) actions.accept(prompt.id)
      },
    }),
  )
  const saveAs = entry('Save as…', { click: () => actions.saveAs() })
  const outbox = entry('In the outbox folder', { click: () => actions.createInOutbox() })
  const pause: MenuEntry = entry('Pause watching')
  pause.click = () => actions.setPaused(!pause.checked)
  const menu: TrayMenu = {
    status: entry('Ferry', { enabled: false }),
    create: entry('Create sync file', { items: [...driveSlots, saveAs, outbox] }),
    driveSlots,
    saveAs,
    outbox,
    promptSlots,
    openInbox: entry('Open inbox folder', { click: () => actions.openInbox() }),
    pause,
    quit: entry('Quit Ferry', { click: () => actions.quit() }),
    current,
    top: [],
  }
  menu.top = [menu.status, null, menu.create, ...promptSlots, null, menu.openInbox, menu.pause, menu.quit]
  return menu
}

/** Fills the slots from the view; returns the entries whose text or visibility changed. */
export function applyView(menu: TrayMenu, view: TrayView): MenuEntry[] {
  menu.current.drives = view.drives.slice(0, DRIVE_SLOTS)
  menu.current.pending = view.pending.slice(0, PROMPT_SLOTS)
  const changed: MenuEntry[] = []
  const set = (e: MenuEntry, patch: Partial<MenuEntry>) => {
    const differs = Object.entries(patch).some(([k, v]) => e[k as keyof MenuEntry] !== v)
    if (!differs) return
    Object.assign(e, patch)
    changed.push(e)
  }
  set(menu.status, { title: view.statusLine, tooltip: view.tooltip })
  menu.driveSlots.forEach((slot, i) => {
    const drive = view.drives[i]
    set(slot, drive ? { title: `On ${drive.label}`, tooltip: `Write a new sync file to ${drive.label}/ferry`, hidden: false } : { hidden: true })
  })
  menu.promptSlots.forEach((slot, i) => {
    const p = view.pending[i]
    const where = p?.drive ? ` on ${p.drive}` : ''
    set(slot, p ? { title: `Sync with ${path.basename(p.path)}${where}`, tooltip: p.path, hidden: false } : { hidden: true })
  })
  set(menu.pause, { checked: view.paused, title: view.paused ? 'Resume watching' : 'Pause watching' })
  return changed
}
