import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { Worker } from 'node:worker_threads'
import type { CheckedRecords } from './records-check.js'
import type { CheckedChunk, RecordChecker } from './record-checker.js'
import type { CheckReply, CheckRequest } from './record-check-worker.js'

/**
 * Record checking on worker threads (record-check-worker.ts), chunks given out in turn. Each chunk's plaintext goes
 * to its worker by transfer and comes back the same way with the results, so no byte is copied between threads.
 *
 * Worker threads rather than a pool library: a pool hands back one transferable per task, and a chunk comes back
 * as three buffers (the plaintext, its entries, its summaries); what is left is a queue per worker.
 */
export function startRecordCheckWorkers(count: number, script = workerScript()): RecordChecker {
  const workers = Array.from({ length: count }, () => new CheckWorker(script))
  let next = 0
  return {
    parallelism: count,
    check(plaintext) {
      const worker = workers[next]!
      next = (next + 1) % workers.length
      return worker.check(plaintext)
    },
    async close() {
      await Promise.all(workers.map((w) => w.close()))
    },
  }
}

/**
 * The worker's bundle (dist/record-check-worker.cjs, built by scripts/build.mjs): beside the CLI's bundle, or, when
 * this module runs from src/ (the tests), in dist/.
 */
function workerScript(): string {
  const beside = fileURLToPath(new URL('../record-check-worker.cjs', import.meta.url))
  return existsSync(beside) ? beside : fileURLToPath(new URL('../../dist/record-check-worker.cjs', import.meta.url))
}

const YOUNG_GENERATION_MB = 8

class CheckWorker {
  private readonly worker: Worker
  private readonly waiting = new Map<number, { resolve: (chunk: CheckedChunk) => void; reject: (err: Error) => void }>()
  private nextId = 0
  private failure: Error | undefined

  constructor(script: string) {
    // A small young generation: what a check allocates dies with its envelope, and V8's default (16 MiB semi-spaces)
    // only let that garbage pile up, ~25 MB more resident memory for no gain in speed (measured at 100,000 versions).
    this.worker = new Worker(script, { resourceLimits: { maxYoungGenerationSizeMb: YOUNG_GENERATION_MB } })
    this.worker.on('message', (reply: CheckReply) => this.settle(reply))
    this.worker.on('error', (err) => this.fail(new Error(`a record-checking thread failed: ${err.message}`)))
    this.worker.on('exit', (code) => this.fail(new Error(`a record-checking thread stopped (exit ${code})`)))
  }

  check(plaintext: Buffer): Promise<CheckedChunk> {
    if (this.failure) return Promise.reject(this.failure)
    const id = this.nextId++
    // Only a buffer that is the whole of its memory can be transferred; anything else is copied into one first.
    const owned = plaintext.byteOffset === 0 && plaintext.byteLength === plaintext.buffer.byteLength ? plaintext : Buffer.from(plaintext)
    const request: CheckRequest = { id, plaintext: owned }
    return new Promise<CheckedChunk>((resolve, reject) => {
      this.waiting.set(id, { resolve, reject })
      this.worker.postMessage(request, [owned.buffer as ArrayBuffer])
    })
  }

  async close(): Promise<void> {
    this.failure ??= new Error('the record check was stopped')
    await this.worker.terminate()
  }

  private settle(reply: CheckReply): void {
    const waiter = this.waiting.get(reply.id)
    if (!waiter) return
    this.waiting.delete(reply.id)
    // Structured cloning makes every Buffer a plain Uint8Array: view the same memory as Buffers again.
    const checked: CheckedRecords = { ...reply.checked, entries: asBuffer(reply.checked.entries), summaries: asBuffer(reply.checked.summaries) }
    waiter.resolve({ plaintext: asBuffer(reply.plaintext), checked })
  }

  private fail(err: Error): void {
    this.failure ??= err
    for (const waiter of this.waiting.values()) waiter.reject(this.failure)
    this.waiting.clear()
  }
}

function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
}
