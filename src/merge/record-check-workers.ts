import { asBuffer, transferable, type WorkerThread } from '../threads/worker-thread.js'
import type { Reply } from '../threads/worker-main.js'
import type { CheckedChunk, RecordChecker } from './record-checker.js'

/**
 * Record checking on worker threads, chunks given out in turn. Each chunk's plaintext goes to its thread by
 * transfer and comes back the same way with the results, so nothing is copied between threads (only a chunk that
 * shares its memory with other buffers is copied first, see `transferable`).
 *
 * Worker threads rather than a pool library (piscina): a pool hands back one transferable per task, and a chunk comes
 * back as three buffers (the plaintext, its entries, its summaries); what is left is a queue per thread.
 */
export function recordCheckerOn(threads: readonly WorkerThread[]): RecordChecker {
  let next = 0
  return {
    parallelism: threads.length,
    async check(plaintext) {
      const thread = threads[next]!
      next = (next + 1) % threads.length
      const owned = transferable(plaintext)
      const reply: Reply = await thread.request({ kind: 'check', plaintext: owned }, [owned.buffer as ArrayBuffer])
      const { checked } = reply
      return { plaintext: asBuffer(reply.plaintext), checked: { ...checked, entries: asBuffer(checked.entries), summaries: asBuffer(checked.summaries) } } satisfies CheckedChunk
    },
  }
}
