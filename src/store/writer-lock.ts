import { randomBytes } from 'node:crypto'
import { linkSync, readFileSync, renameSync, statSync, unlinkSync, writeFileSync } from 'node:fs'
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
      const found = readLock(lockPath)
      if (!found) continue // released just now: try again
      const { holder } = found
      if ((holder && holder.host === os.hostname() && !isAlive(holder.pid)) || (!holder && isOlderThan(lockPath, UNREADABLE_LOCK_STALE_MS))) {
        breakStaleLock(lockPath, found.content)
        continue
      }
      const what = holder?.purpose === 'sync' ? 'a sync is already running' : 'another Ferry command is changing this data'
      throw new FerryError('busy', `Ferry cannot start: ${what} (process ${holder?.pid ?? 'unknown'}). Wait for it to finish, then try again.`)
    }
  }
  throw new FerryError('busy', 'Ferry could not take the data folder lock. Try again in a moment.')
}

/**
 * Removes the lock judged stale, and only that one. Two processes can judge the same dead lock at once: had each
 * simply unlinked writer.lock, the slower could remove the lock the faster had just taken, and both would write.
 * A rename is atomic, so whoever renames the lock aside holds whichever file was there; if its content is not the
 * one judged, it is a live lock taken since (whose content names a live process, so it never equals a dead one's),
 * and it goes back. Not by inode: a file created just after another is deleted often gets its inode number.
 * (Should a third process take the lock in that instant, the put-back fails and two would hold it: the window is
 * a rename and a link, after a crash, with three processes racing.)
 */
export function breakStaleLock(lockPath: string, judgedContent: string): void {
  const aside = `${lockPath}.stale.${process.pid}.${randomBytes(4).toString('hex')}`
  try {
    renameSync(lockPath, aside)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return // someone else removed it first
    throw err
  }
  try {
    if (readFileSync(aside, 'utf8') !== judgedContent) {
      try {
        linkSync(aside, lockPath)
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
      }
    }
  } finally {
    removeDraft(aside)
  }
}

/** The lock's content and its holder, if readable. */
function readLock(lockPath: string): { holder: Holder | undefined; content: string } | undefined {
  let content: string
  try {
    content = readFileSync(lockPath, 'utf8')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw err
  }
  return { holder: parseHolder(content), content }
}

interface Holder {
  pid: number
  host: string
  purpose: string
}

function parseHolder(text: string): Holder | undefined {
  try {
    const parsed = JSON.parse(text) as { pid?: unknown; host?: unknown; purpose?: unknown }
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
