import type { Logger } from 'pino'
import { openFolder, saveAsDialog } from '../notify/dialogs.js'
import type { Tray, TrayActions } from '../notify/tray/tray.js'
import { trayView } from '../notify/tray/view.js'
import type { Daemon } from './daemon.js'
import type { DaemonEventName } from './events.js'
import { newSyncFilePath } from './targets.js'

/** Events after which the tray's picture may have changed. */
const REDRAW_ON: DaemonEventName[] = [
  'drive-added',
  'drive-removed',
  'prompt-added',
  'prompt-removed',
  'job-queued',
  'job-started',
  'job-progress',
  'job-finished',
  'job-failed',
  'paused-changed',
]

/** Keeps the tray in step with the daemon: one redraw per event, at most every 250 ms during a job's progress. */
export function attachTrayConsumer(daemon: Daemon, tray: Tray): () => void {
  let last = 0
  const offs = REDRAW_ON.map((name) =>
    daemon.events.on(name, () => {
      const now = Date.now()
      if (name === 'job-progress' && now - last < 250) return
      last = now
      tray.update(trayView(daemon))
    }),
  )
  return () => offs.forEach((off) => off())
}

/** What the tray's entries do; failures are reported by the job's own notification, never thrown into the tray. */
export function trayActions(daemon: Daemon, quit: () => void, log: Logger): TrayActions {
  const quietly = (what: string, p: Promise<unknown>) => void p.catch((err: unknown) => log.debug({ err }, `${what} did not complete`))
  return {
    createOnDrive: (drive) => quietly('create on drive', daemon.createOnDrive(drive)),
    createInOutbox: () => quietly('create in outbox', daemon.createInOutbox()),
    saveAs: () =>
      quietly(
        'save as',
        (async () => {
          const suggested = await newSyncFilePath(daemon.deps.settings.outbox, daemon.engine.project.name)
          const answer = await saveAsDialog(suggested)
          if (answer.kind === 'chosen') return daemon.createFile(answer.path)
          if (answer.kind === 'unavailable') {
            log.info('no save dialog on this computer; writing the sync file to the outbox folder')
            return daemon.createInOutbox()
          }
          return undefined
        })(),
      ),
    accept: (id) => quietly('accept', daemon.accept(id)),
    openInbox: () => openFolder(daemon.deps.settings.inbox),
    setPaused: (paused) => daemon.setPaused(paused),
    quit,
  }
}
