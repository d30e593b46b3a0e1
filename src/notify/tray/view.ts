import path from 'node:path'
import type { Daemon } from '../../daemon/daemon.js'
import type { TrayView } from './tray.js'

/** The tray's picture of the daemon: icon state, status line (project, observations, last sync), slots. */
export function trayView(daemon: Daemon): TrayView {
  const status = daemon.status()
  const running = daemon.jobs.running()
  const state = running ? 'syncing' : status.pending.length > 0 ? 'attention' : 'idle'
  const observations = status.observations === null ? '' : ` · ${status.observations} observation${status.observations === 1 ? '' : 's'}`
  const last = status.lastSync ? ` · last sync ${new Date(status.lastSync.at).toLocaleString()}` : ''
  const statusLine = `${status.project?.name ?? 'Ferry'}${observations}${last}`
  let tooltip = `Ferry — ${status.project?.name ?? ''}`
  if (running) {
    const p = running.progress
    const percent = p && p.total.bytes > 0 ? ` ${Math.floor((100 * p.done.bytes) / p.total.bytes)}%` : ''
    tooltip = `Ferry — syncing ${path.basename(running.path)}${percent}`
  } else if (status.pending.length > 0) {
    tooltip = `Ferry — ${status.pending.length} file(s) waiting to sync`
  } else if (status.paused) {
    tooltip = 'Ferry — paused'
  }
  return { state, statusLine, tooltip, drives: status.drives, pending: status.pending, paused: status.paused }
}
