import { closeSync, existsSync, openSync, readSync, realpathSync } from 'node:fs'
import path from 'node:path'
import { badInput } from '../errors.js'
import { isFolder, statOrNothing } from './is-folder.js'

/**
 * Longest file name (in bytes) a command may be given: files are written under a temporary name,
 * `.NAME.ferry-tmp-xxxxxxxx`, 20 bytes longer, and most filesystems allow 255.
 */
export const MAX_NAME_BYTES = 255 - 20

export interface OutputPathRules {
  /** A file name to suggest, such as `observations.json`. */
  example: string
  /** The data folder: nothing a command writes for the user belongs inside it. */
  dataDir: string
  /**
   * Whether an existing file at the path may be replaced, judged by its first bytes (up to 4 KiB); absent: never.
   * Replacing is only ever done whole, by renaming a complete new file over it.
   */
  mayReplace?: (head: Buffer) => boolean
  /** What the existing file should have been, for the message when it may not be replaced: "an earlier export". */
  replaceable?: string
}

/**
 * Checks a path a command is about to write a new file at (export, project export, create), before anything is
 * written, so each mistake gets its own plain answer (exit 2) rather than a failed write blamed on the drive: no
 * name, a folder, a folder that does not exist, a name too long, a place inside the data folder, an existing file
 * the command must not replace.
 */
export function checkOutputPath(file: string, rules: OutputPathRules): void {
  if (file.trim() === '') throw badInput(`Give a file name, such as ${rules.example}.`)
  if (isFolder(file)) throw badInput(`${file} is a folder. Give a file name, such as ${path.join(file, rules.example)}.`)
  const dir = path.dirname(path.resolve(file))
  if (!isFolder(dir)) {
    const what = existsSync(dir) ? 'is not a folder' : 'does not exist'
    throw badInput(`The folder ${dir} ${what}. Create it or choose another place for ${path.basename(file)}.`)
  }
  if (Buffer.byteLength(path.basename(file)) > MAX_NAME_BYTES) {
    throw badInput(`The name ${path.basename(file).slice(0, 40)}… is too long (at most ${MAX_NAME_BYTES} bytes). Choose a shorter name.`)
  }
  if (isInside(dir, rules.dataDir)) throw badInput(`${file} is inside Ferry's data folder (${rules.dataDir}). Choose a place outside it.`)
  if (statOrNothing(file)?.isFile() && !mayReplace(file, rules)) {
    throw badInput(`${file} already exists${rules.replaceable ? ` and is not ${rules.replaceable}` : ''}. Choose another name, or move that file away first.`)
  }
}

function isInside(dir: string, dataDir: string): boolean {
  const real = (p: string) => {
    try {
      return realpathSync(p)
    } catch {
      return path.resolve(p)
    }
  }
  const relative = path.relative(real(dataDir), real(dir))
  return !relative.startsWith('..') && !path.isAbsolute(relative)
}

/** A file that cannot be read cannot be told apart from one that must be kept: it is kept. */
function mayReplace(file: string, rules: OutputPathRules): boolean {
  if (!rules.mayReplace) return false
  const head = Buffer.alloc(4096)
  let fd: number | undefined
  try {
    fd = openSync(file, 'r')
    return rules.mayReplace(head.subarray(0, readSync(fd, head, 0, head.length, 0)))
  } catch {
    return false
  } finally {
    if (fd !== undefined) closeSync(fd)
  }
}
