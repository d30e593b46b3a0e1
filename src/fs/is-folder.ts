import { statSync } from 'node:fs'

/**
 * Whether `p` is a folder: false when it is anything else or cannot be looked at (missing, a path through a file,
 * no permission), so a check made only to say "that is a folder" never fails a command that would report those
 * itself when it opens the path.
 */
export function isFolder(p: string): boolean {
  try {
    return statSync(p, { throwIfNoEntry: false })?.isDirectory() === true
  } catch {
    return false
  }
}
