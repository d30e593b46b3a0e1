import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { Worker } from 'node:worker_threads'
import type { Reply, Request } from './worker-main.js'

/**
 * One worker thread (worker-main.ts) and the requests waiting on it. Every request gets exactly one reply, matched
 * by id; a thread that fails or stops fails every waiting and later request with an Error, so a caller never
 * waits forever.
 */
export class WorkerThread {
  private readonly worker: Worker
  private readonly waiting = new Map<number, { resolve: (reply: Reply) => void; reject: (err: Error) => void }>()
  private nextId = 0
  private failure: Error | undefined

  constructor(script = workerScript()) {
    // A small young generation: what a check allocates dies with its envelope, and V8's default (16 MiB semi-spaces)
    // only let that garbage pile up, ~25 MB more resident memory for no gain in speed (measured at 100,000 versions).
    this.worker = new Worker(script, { resourceLimits: { maxYoungGenerationSizeMb: YOUNG_GENERATION_MB } })
    this.worker.on('message', (reply: Reply) => this.settle(reply))
    this.worker.on('error', (err) => this.fail(new Error(`a worker thread failed: ${err.message}`)))
    this.worker.on('exit', (code) => this.fail(new Error(`a worker thread stopped (exit ${code})`)))
  }

  /** Sends `request` (its buffers in `transfer` move to the thread) and resolves with the reply. */
  request(request: Omit<Request, 'id'>, transfer: readonly ArrayBuffer[] = []): Promise<Reply> {
    if (this.failure) return Promise.reject(this.failure)
    const id = this.nextId++
    return new Promise<Reply>((resolve, reject) => {
      this.waiting.set(id, { resolve, reject })
      this.worker.postMessage({ ...request, id }, [...transfer])
    })
  }

  async close(): Promise<void> {
    this.failure ??= new Error('the worker thread was stopped')
    await this.worker.terminate()
  }

  private settle(reply: Reply): void {
    const waiter = this.waiting.get(reply.id)
    if (!waiter) return
    this.waiting.delete(reply.id)
    waiter.resolve(reply)
  }

  private fail(err: Error): void {
    this.failure ??= err
    for (const waiter of this.waiting.values()) waiter.reject(this.failure)
    this.waiting.clear()
  }
}

const YOUNG_GENERATION_MB = 4

/**
 * The worker's bundle (dist/worker.cjs, built by scripts/build.mjs): beside the CLI's bundle, or, when this module
 * runs from src/ (the tests), in dist/.
 */
function workerScript(): string {
  const beside = fileURLToPath(new URL('../worker.cjs', import.meta.url))
  return existsSync(beside) ? beside : fileURLToPath(new URL('../../dist/worker.cjs', import.meta.url))
}

/**
 * `bytes` ready to be transferred with the memory it views: itself when it covers most of that memory (a buffer of
 * its own, or a view past a small header), else a copy in memory of its own. A slice of Node's shared pool (always
 * under half of it) or of some larger buffer is copied, so transferring never takes other buffers' bytes with it.
 * The caller gives up the rest of the memory too.
 */
export function transferable(bytes: Buffer): Buffer {
  if (bytes.byteLength * 2 > bytes.buffer.byteLength) return bytes
  const copy = Buffer.allocUnsafeSlow(bytes.byteLength)
  bytes.copy(copy)
  return copy
}

/** Structured cloning makes every Buffer a plain Uint8Array: the same memory, viewed as a Buffer again. */
export function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
}
