import { closeSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { FerryError } from '../errors.js'

/**
 * One writer at a time per data folder, across processes. A file created with O_EXCL holds the owner's PID; a
 * lock left by a process that died (SIGKILL, power cut) is taken over at once because its PID is gone. We do not
 * use mtime-based locks (proper-lockfile): after a crash they keep the folder busy until they go stale, which a
 * user retrying a sync would see as a spurious "busy". Readers never take this lock (LMDB readers never block).
 */
export interface WriterLock {
  release(): void
}

export function acquireWriterLock(dataDir: string, purpose: string): WriterLock {
  const lockPath = path.join(dataDir, 'writer.lock')
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const fd = openSync(lockPath, 'wx', 0o600)
      writeSync(fd, JSON.stringify({ pid: process.pid, host: os.hostname(), purpose, since: new Date().toISOString() }))
      closeSync(fd)
      let released = false
      return {
        release() {
          if (released) return
          released = true
          try {
            unlinkSync(lockPath)
          } catch {
            // Already gone: nothing to release.
          }
        },
      }
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
      const holder = readHolder(lockPath)
      if (holder && holder.host === os.hostname() && !isAlive(holder.pid)) {
        try {
          unlinkSync(lockPath)
        } catch {
          // Someone else cleaned it up first; try again.
        }
        continue
      }
      const what = holder?.purpose === 'sync' ? 'a sync is already running' : 'another Ferry command is changing this data'
      throw new FerryError('busy', `Ferry cannot start: ${what} (process ${holder?.pid ?? 'unknown'}). Wait for it to finish, then try again.`)
    }
  }
  throw new FerryError('busy', 'Ferry could not take the data folder lock. Try again in a moment.')
}

function readHolder(lockPath: string): { pid: number; host: string; purpose: string } | undefined {
  try {
    const parsed = JSON.parse(readFileSync(lockPath, 'utf8')) as { pid?: unknown; host?: unknown; purpose?: unknown }
    if (typeof parsed.pid !== 'number') return undefined
    return { pid: parsed.pid, host: String(parsed.host), purpose: String(parsed.purpose) }
  } catch {
    // A lock file being written right now, or damaged: treat as held by an unknown live process.
    return undefined
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}
