import { observationChecker } from '../store/comapeo-schema.js'
import { checkRecords, type CheckedRecords } from './records-check.js'

/** A records chunk and what checking it found. */
export interface CheckedChunk {
  /** The chunk's plaintext: the one handed to `check`, or the same bytes handed back by a worker thread. */
  plaintext: Buffer
  checked: CheckedRecords
}

/**
 * Runs checkRecords on records chunks, in this thread or on worker threads (record-check-workers.ts). `check` takes
 * the plaintext over (a worker gets it by transfer, so the caller must use the one in the result); the caller
 * awaits the results in the order it gave the chunks.
 */
export interface RecordChecker {
  check(plaintext: Buffer): Promise<CheckedChunk>
  /** How many chunks are worked on at once, so the caller keeps every thread busy. */
  readonly parallelism: number
}

/** Checks each chunk at once, in the calling thread. */
export async function inThreadChecker(): Promise<RecordChecker> {
  const isObservation = await observationChecker()
  return {
    parallelism: 1,
    check: async (plaintext) => ({ plaintext, checked: checkRecords(plaintext, isObservation) }),
  }
}
