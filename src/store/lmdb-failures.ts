import { statfsSync } from 'node:fs'
import { constants } from 'node:os'
import { diskError, FerryError } from '../errors.js'

/**
 * What a failed LMDB write (a full disk under the data folder, a failing disk) becomes, and the clean-up lmdb-js
 * needs for it.
 */

const COMMIT_FAILED = 'Commit failed (see commitError for details)'

/** Below this much free space, a write error LMDB reports as EIO is taken for a full disk (see storeWriteError). */
const NEARLY_FULL_BYTES = 32 * 1024 * 1024

/**
 * The FerryError (exit 5) for an error of an LMDB write or commit to the database in `dataDir`; any other error
 * (a bug, a value the encoder refuses) is returned as it is.
 *
 * LMDB reports a write the disk could only partly take as EIO, not ENOSPC, so an EIO on a disk with next to no
 * free space left is reported as a full disk: the user can do something about that one.
 */
export function storeWriteError(err: unknown, dataDir: string): unknown {
  if (err instanceof FerryError || !(err instanceof Error)) return err
  quietCommitError(err)
  const errno = (err as { code?: unknown }).code
  const fromLmdb = err.message === COMMIT_FAILED || typeof errno === 'number' || (typeof errno === 'string' && /^E[A-Z0-9]+$/.test(errno)) // an errno name, not Node's ERR_* codes (bugs)
  if (!fromLmdb) return err
  let code = typeof errno === 'number' ? errnoName(errno) : typeof errno === 'string' ? errno : undefined
  if ((code === undefined || code === 'EIO') && freeBytes(dataDir) < NEARLY_FULL_BYTES) code = 'ENOSPC'
  if (code === undefined) {
    return new FerryError('io', `Writing the database in ${dataDir} failed (${err.message}). Nothing was lost: check the disk and try again.`, { cause: err })
  }
  return diskError(Object.assign(new Error(err.message, { cause: err }), { code }), dataDir)
}

/**
 * lmdb-js 3.5 rejects, when a commit fails, promises nobody holds (kriszyp/lmdb-js#368): the `commitError` it
 * stamps on each failed write's error, and the commit promise of a batch it starts itself. Under Node's default
 * either ends the process with a stack trace. Worse, the writes of that batch may then never settle, so a caller
 * awaiting them would wait forever (and a CLI would exit 0 with its work undone). This handler takes exactly those
 * rejections, passes them to whoever is waiting (`unlessCommitFails`), and rethrows every other unhandled
 * rejection, as Node would.
 */
export function ignoreOrphanedCommitFailures(): void {
  if (installed) return
  installed = true
  process.on('unhandledRejection', (reason) => {
    if (!isCommitFailure(reason)) throw reason
    quietCommitError(reason)
    failures.count++
    failures.last = reason
    for (const reject of [...failures.waiting]) reject(reason)
  })
}

let installed = false
const failures = { count: 0, last: undefined as unknown, waiting: new Set<(reason: unknown) => void>() }

/** How many orphaned commit failures this process has seen: pass it to `unlessCommitFails` as `since`. */
export function commitFailuresSoFar(): number {
  return failures.count
}

/**
 * Waits for an LMDB write, and fails instead if a commit fails after `since` (see ignoreOrphanedCommitFailures)
 * whether or not this write's own promise ever hears of it.
 */
export async function unlessCommitFails<T>(write: PromiseLike<T>, since: number): Promise<T> {
  if (failures.count > since) throw failures.last
  let stop: ((reason: unknown) => void) | undefined
  const failed = new Promise<never>((_, reject) => {
    stop = reject
    failures.waiting.add(reject)
  })
  try {
    return await Promise.race([write, failed])
  } finally {
    failures.waiting.delete(stop!)
  }
}

/** Attaches a handler to a failed write's `commitError`, so it is not reported as unhandled. */
function quietCommitError(err: unknown): void {
  const inner = (err as { commitError?: unknown } | undefined)?.commitError
  if (inner instanceof Promise) inner.catch(() => undefined)
}

function isCommitFailure(reason: unknown): boolean {
  if (!(reason instanceof Error)) return false
  if (reason.message === COMMIT_FAILED) return true
  // The error inside a commitError: lmdb-js's own, with the C library's error number.
  return typeof (reason as { code?: unknown }).code === 'number' && /[\\/]lmdb[\\/]/.test(reason.stack ?? '')
}

function errnoName(errno: number): string | undefined {
  for (const [name, value] of Object.entries(constants.errno)) if (value === errno) return name
  return undefined
}

function freeBytes(dir: string): number {
  try {
    const s = statfsSync(dir)
    return s.bavail * s.bsize
  } catch {
    return Number.POSITIVE_INFINITY
  }
}
