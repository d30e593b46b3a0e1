import path from 'node:path'
import type { Logger } from 'pino'
import { choosePrompter } from '../notify/choose-prompter.js'
import type { Prompter } from '../notify/prompter.js'
import { SystrayTray } from '../notify/tray/systray-tray.js'
import { trayView } from '../notify/tray/view.js'
import { logDir } from '../paths.js'
import { platformDriveSource } from '../watchers/platform.js'
import { startUsbHint, type UsbHint } from '../watchers/usb-hint.js'
import { AlwaysList } from './always.js'
import { loadSettings, type Flags } from './config.js'
import { ControlServer } from './control-server.js'
import { Daemon } from './daemon.js'
import type { SyncEngine } from './engine.js'
import { acquireDaemonLock, type DaemonLock } from './lock.js'
import { createLogger, logFile } from './log.js'
import { socketPath } from './protocol.js'
import { openRealEngine } from './real-engine.js'
import { attachTrayConsumer, trayActions } from './tray-consumer.js'

export interface RunOptions extends Flags {
  dataDir: string
}

/**
 * `ferry daemon`: assembles the real parts around Daemon and runs until SIGTERM, SIGINT or the tray's Quit.
 * Resolves once everything is stopped: watchers, the running job (aborted at a safe point), the tray program,
 * notifications, the control socket, the store, the lock. Anything already started is stopped if start fails.
 */
export async function runDaemon(opts: RunOptions): Promise<void> {
  const settings = loadSettings(opts)
  const log = createLogger({ dir: logDir(), level: settings.logLevel, maxBytes: settings.logMaxBytes, keep: settings.logKeep, stdout: true })
  const cleanups: (() => Promise<void> | void)[] = []
  const cleanup = async () => {
    for (const step of cleanups.reverse()) {
      try {
        await step()
      } catch (err) {
        log.warn({ err }, 'a part of Ferry did not stop cleanly')
      }
    }
  }
  let stopRequested!: () => void
  const stopped = new Promise<void>((resolve) => (stopRequested = resolve))
  // Registered first so a signal during start-up still stops cleanly; repeated signals are ignored.
  const onSignal = (signal: NodeJS.Signals) => {
    log.info({ signal }, 'stopping')
    stopRequested()
  }
  process.on('SIGTERM', onSignal)
  process.on('SIGINT', onSignal)
  try {
    const lock: DaemonLock = await acquireDaemonLock(opts.dataDir)
    cleanups.push(() => lock.release())
    const engine: SyncEngine = await openRealEngine(opts.dataDir, settings.projectName, log)
    cleanups.push(() => engine.close())
    const always = new AlwaysList(path.join(opts.dataDir, 'always-drives.json'))
    await always.load()
    const prompter: Prompter = await choosePrompter(settings.notifications, log)
    cleanups.push(() => prompter.close())
    const drives = platformDriveSource(settings.mediaRoots, settings.pollMs)
    const daemon = new Daemon({ settings, engine, drives, prompter, always, log, logFile: logFile(logDir()) })
    cleanups.push(() => daemon.stop())
    const control = new ControlServer(socketPath(opts.dataDir), daemon, log)
    await control.start()
    cleanups.push(() => control.stop())
    await daemon.start()
    const hint: UsbHint | null = await startUsbHint(() => void daemon.driveWatcher.refresh(), log)
    if (hint) cleanups.push(() => hint.stop())
    if (settings.tray) {
      daemon.trayState = 'starting'
      try {
        const tray = await SystrayTray.start(trayActions(daemon, () => stopRequested(), log), trayView(daemon), log, () => (daemon.trayState = 'headless'))
        daemon.trayState = 'shown'
        const detach = attachTrayConsumer(daemon, tray)
        cleanups.push(() => tray.stop())
        cleanups.push(detach)
        log.info({ trayPid: tray.pid }, 'tray icon shown')
      } catch (err) {
        daemon.trayState = 'headless'
        log.info({ reason: (err as Error).message }, 'running without a tray icon')
      }
    } else {
      log.info('running without a tray icon (turned off)')
    }
    log.info({ dataDir: opts.dataDir, socket: socketPath(opts.dataDir), log: logFile(logDir()) }, 'Ferry daemon ready')
  } catch (err) {
    await cleanup()
    process.off('SIGTERM', onSignal)
    process.off('SIGINT', onSignal)
    throw err
  }
  await stopped
  await cleanup()
  log.info('Ferry daemon stopped')
  process.off('SIGTERM', onSignal)
  process.off('SIGINT', onSignal)
  // Everything is closed; should a library still hold the event loop open, do not hang on it. unref(): this timer
  // alone never keeps the process alive.
  setTimeout(() => process.exit(process.exitCode ?? 0), 3000).unref()
}

export type { Logger }
