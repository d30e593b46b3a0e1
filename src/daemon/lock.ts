import { mkdir, open, readFile, rm } from 'node:fs/promises'
import path from 'node:path'
import { FerryError } from '../errors.js'

/** Name of the PID file that makes the daemon one per data folder. */
export const LOCK_NAME = 'daemon.pid'

export interface DaemonLock {
  release(): Promise<void>
}

/**
 * Takes the data folder's daemon lock: a file created exclusively, holding our PID. A lock whose PID no longer
 * runs (a crash, a reboot) is stale and taken over.
 */
export async function acquireDaemonLock(dataDir: string): Promise<DaemonLock> {
  await mkdir(dataDir, { recursive: true })
  const file = path.join(dataDir, LOCK_NAME)
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const handle = await open(file, 'wx')
      await handle.writeFile(`${process.pid}\n`)
      await handle.close()
      return {
        release: async () => {
          // Only remove the file if it is still ours (never another daemon's after a takeover).
          if ((await readLockPid(dataDir)) === process.pid) await rm(file, { force: true })
        },
      }
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
    }
    const holder = await readLockPid(dataDir)
    if (holder !== null && holder !== process.pid && isAlive(holder) && (await mayBeFerryDaemon(holder))) {
      throw new FerryError('busy', `Ferry's daemon is already running for ${dataDir} (process ${holder}). Use "ferry status" to talk to it.`)
    }
    // Stale (dead PID or unreadable): remove and try again.
    await rm(file, { force: true })
  }
  throw new FerryError('busy', `Ferry could not take the daemon lock in ${dataDir}. Remove ${file} if no daemon is running.`)
}

export async function readLockPid(dataDir: string): Promise<number | null> {
  const text = await readFile(path.join(dataDir, LOCK_NAME), 'utf8').catch(() => '')
  const pid = Number.parseInt(text.trim(), 10)
  return Number.isInteger(pid) && pid > 0 ? pid : null
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    // EPERM: it exists but belongs to someone else; still alive.
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/**
 * Whether a live process may be a Ferry daemon. After a crash and a reboot, the PID in a left-over lock can belong to
 * any process; where the system shows a process's command line (Linux's /proc), one that is not `… daemon …` is not
 * ours and its lock is stale. Elsewhere, or when it cannot be read, a live PID is taken to be a daemon.
 */
async function mayBeFerryDaemon(pid: number): Promise<boolean> {
  const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => null)
  if (cmdline === null) return true
  return cmdline.split('\0').includes('daemon')
}
