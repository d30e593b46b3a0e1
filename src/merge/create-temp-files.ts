import { randomBytes } from 'node:crypto'
import { readdirSync } from 'node:fs'
import path from 'node:path'
import type { Disk } from '../fs/disk.js'

/**
 * `ferry create` writes the new file under a hidden temporary name beside it and renames it when complete, so a
 * pulled drive never leaves a half file that looks finished (syncthing names its temp files the same way).
 */
export function temporaryNameFor(filePath: string): string {
  return path.join(path.dirname(filePath), `${temporaryPrefix(filePath)}${randomBytes(4).toString('hex')}`)
}

/**
 * Removes what earlier creates of the same file left when the drive was pulled or the computer stopped: a create
 * removes its own temporary file when it fails, but not when the drive is gone at that moment. Unremoved, they are
 * invisible (hidden names) yet hold the drive's room, so the next create would find the drive full. Called with the
 * file's lock held (sync-file-lock.ts), so no create of this user is writing one of them.
 */
export async function removeLeftTemporaryFiles(disk: Disk, filePath: string): Promise<void> {
  const prefix = temporaryPrefix(filePath)
  let names: string[]
  try {
    names = readdirSync(path.dirname(filePath)).filter((name) => name.startsWith(prefix) && /^[0-9a-f]{8}$/.test(name.slice(prefix.length)))
  } catch {
    return // the folder cannot be listed: the create itself reports what is wrong
  }
  for (const name of names) await disk.unlink(path.join(path.dirname(filePath), name)).catch(() => undefined)
}

function temporaryPrefix(filePath: string): string {
  return `.${path.basename(filePath)}.ferry-tmp-`
}
