import { createHash } from 'node:crypto'
import { mkdirSync, realpathSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { acquireWriterLock, type WriterLock } from '../store/writer-lock.js'

/**
 * One sync of a sync file at a time on this computer, whichever data folder it is for. Two syncs of one file from
 * two data folders (the daemon of one person and the command line of another, on a shared field laptop) would each
 * append after the same last commit, and the one finishing second would write over the other's segment: that
 * device's data would be missing from the file (never from the device) with both reporting success.
 *
 * The lock is the writer lock (writer-lock.ts: the holder's PID, taken over once that process is gone) in a folder
 * per file, named by a hash of the file's real path, under the system's temporary folder and per user: never on the
 * drive, which may be read-only, or carried to another computer while locked. Not covered: two users of one computer,
 * and two computers writing one file on a network share.
 */
export function lockSyncFile(filePath: string): WriterLock {
  let real: string
  try {
    real = realpathSync(filePath)
  } catch {
    // Not there yet (a create): its folder's real path, so two names for one folder still share one lock.
    try {
      real = path.join(realpathSync(path.dirname(filePath)), path.basename(filePath))
    } catch {
      real = path.resolve(filePath) // opening it reports what is wrong
    }
  }
  const name = createHash('sha256').update(real).digest('hex').slice(0, 32)
  const dir = path.join(os.tmpdir(), `ferry-sync-files-${os.userInfo().uid}`, name)
  mkdirSync(dir, { recursive: true, mode: 0o700 })
  return acquireWriterLock(dir, 'sync')
}
