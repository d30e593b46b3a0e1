import { readdir } from 'node:fs/promises'
import path from 'node:path'

/** Folders of a drive searched for sync files: its top level and a `ferry/` folder. */
export const SCANNED_FOLDERS = ['.', 'ferry']
/** A drive full of photos must not stall the daemon: only this many entries per folder are looked at. */
const MAX_ENTRIES = 500

/**
 * Sync files on a drive, recognised by their magic bytes (isSyncFile), not their name. Unreadable folders and
 * files are skipped: a half-broken drive still yields what can be read.
 */
export async function scanDrive(mountPoint: string, isSyncFile: (file: string) => Promise<boolean>): Promise<string[]> {
  const found: string[] = []
  for (const folder of SCANNED_FOLDERS) {
    const dir = path.join(mountPoint, folder)
    const entries = await readdir(dir, { withFileTypes: true }).catch(() => [])
    for (const entry of entries.slice(0, MAX_ENTRIES)) {
      if (!entry.isFile() || entry.name.startsWith('.')) continue
      const file = path.join(dir, entry.name)
      if (await isSyncFile(file).catch(() => false)) found.push(file)
    }
  }
  return found
}
