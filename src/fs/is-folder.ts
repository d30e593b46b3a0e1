import { statSync, type Stats } from 'node:fs'

/**
 * What stat says about `p`, or nothing when it cannot say (missing, a path through a file, a link loop, no
 * permission). For checks made only to give a plain answer ("that is a folder", "that is a pipe"): they never fail a
 * command that would report those problems itself when it opens the path.
 */
export function statOrNothing(p: string): Stats | undefined {
  try {
    return statSync(p, { throwIfNoEntry: false })
  } catch {
    return undefined
  }
}

/** Whether `p` is a folder: false when it is anything else or cannot be looked at (see statOrNothing). */
export function isFolder(p: string): boolean {
  return statOrNothing(p)?.isDirectory() === true
}
