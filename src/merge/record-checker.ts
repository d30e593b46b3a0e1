import { availableParallelism } from 'node:os'
import { observationChecker } from '../store/comapeo-schema.js'
import { checkRecords, type CheckedRecords } from './records-check.js'

/** A records chunk and what checking it found. */
export interface CheckedChunk {
  /** The chunk's plaintext: the one handed to `check`, or the same bytes handed back by a worker. */
  plaintext: Buffer
  checked: CheckedRecords
}

/**
 * Runs checkRecords on records chunks, in this thread or on worker threads. `check` takes the plaintext over (a
 * worker gets it by transfer, so the caller must use the one in the result) and its results may be awaited in any
 * order; the caller awaits them in the order it gave the chunks.
 */
export interface RecordChecker {
  check(plaintext: Buffer): Promise<CheckedChunk>
  /** How many chunks to keep in flight so every thread has work. */
  readonly parallelism: number
  close(): Promise<void>
}

/** Below this many versions to check, starting worker threads costs more than it saves. */
const WORKERS_FROM_VERSIONS = 4096
/** Worker threads at most: the merge's own thread, LMDB's writer and the disk want cores too. */
const MAX_WORKERS = 3

/**
 * The checker for a read of about `versions` versions. `workers` (else FERRY_CHECK_WORKERS) sets the number of
 * worker threads, 0 for none; by default a large read gets one per core beyond the first (up to 3), a small one none.
 */
export async function openRecordChecker(versions: number, workers?: number): Promise<RecordChecker> {
  const count = workers ?? workersFromEnv() ?? (versions >= WORKERS_FROM_VERSIONS ? Math.min(MAX_WORKERS, Math.max(1, availableParallelism() - 1)) : 0)
  if (count === 0) return inThreadChecker()
  const { startRecordCheckWorkers } = await import('./record-check-workers.js')
  return startRecordCheckWorkers(count)
}

function workersFromEnv(): number | undefined {
  const value = process.env.FERRY_CHECK_WORKERS
  if (value === undefined || value === '') return undefined
  const n = Number(value)
  return Number.isInteger(n) && n >= 0 && n <= 64 ? n : undefined
}

/** Checks each chunk at once, in the calling thread. */
export async function inThreadChecker(): Promise<RecordChecker> {
  const isObservation = await observationChecker()
  return {
    parallelism: 1,
    check: async (plaintext) => ({ plaintext, checked: checkRecords(plaintext, isObservation) }),
    close: async () => undefined,
  }
}
