import { randomBytes } from 'node:crypto'
import { linkSync, readFileSync, statSync, unlinkSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { FerryError } from '../errors.js'

/**
 * One writer at a time per data folder, across processes. The lock file holds the owner's PID; a
 * lock left by a process that died (SIGKILL, power cut) is taken over at once because its PID is gone. We do not
 * use mtime-based locks (proper-lockfile): after a crash they keep the folder busy until they go stale, which a
 * user retrying a sync would see as a spurious "busy". Readers never take this lock (LMDB readers never block).
 */
export interface WriterLock {
  release(): void
}

export function acquireWriterLock(dataDir: string, purpose: string): WriterLock {
  const lockPath = path.join(dataDir, 'writer.lock')
  // The lock's content is written to a private file first and hard-linked into place: link() fails if the lock
  // exists and is atomic otherwise, so the lock never exists without its owner's PID (a process killed between
  // creating and writing an O_EXCL file would leave an empty lock nobody could judge).
  const draft = `${lockPath}.${process.pid}.${randomBytes(4).toString('hex')}`
  writeFileSync(draft, JSON.stringify({ pid: process.pid, host: os.hostname(), purpose, since: new Date().toISOString() }), { mode: 0o600 })
  try {
    return takeLock(lockPath, draft)
  } finally {
    removeDraft(draft)
  }
}

/** What rmSync(draft, { force: true }) does for a file, without loading fs's rimraf (~0.5 ms of every command's start). */
function removeDraft(draft: string): void {
  try {
    unlinkSync(draft)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
  }
}

function takeLock(lockPath: string, draft: string): WriterLock {
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      linkSync(draft, lockPath)
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
      if ((holder && holder.host === os.hostname() && !isAlive(holder.pid)) || (!holder && isOlderThan(lockPath, UNREADABLE_LOCK_STALE_MS))) {
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

// A lock whose content cannot be read (left by an older Ferry that wrote it in place, or damaged) is given this
// long before it counts as abandoned.
const UNREADABLE_LOCK_STALE_MS = 5_000

function isOlderThan(file: string, ms: number): boolean {
  const stats = statSync(file, { throwIfNoEntry: false })
  return stats !== undefined && Date.now() - stats.mtimeMs > ms
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}
