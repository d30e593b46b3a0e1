import { availableParallelism } from 'node:os'
import { WorkerThread } from '../threads/worker-thread.js'
import { recordCheckerOn } from './record-check-workers.js'
import { inThreadChecker, type RecordChecker } from './record-checker.js'

/** Below this, starting worker threads (~20 ms, and ~50 ms for each to load the schema) costs more than it saves. */
const THREADS_FROM_VERSIONS = 4096
/** At most: the merge's own thread, LMDB's writer and the disk want cores too. */
const MAX_THREADS = 3

/**
 * The worker threads of one merge, started when a read large enough to be worth them begins, stopped by `close`.
 *
 * `setting` is the number of threads (0: everything in the merge's own thread). By default (SyncOptions.workerThreads,
 * else FERRY_WORKER_THREADS, else) one per core beyond the first, up to 3, for a read of 4,096 versions or more.
 */
export class MergeThreads {
  private threads: WorkerThread[] | undefined
  private readonly setting: number | undefined

  constructor(setting?: number) {
    this.setting = setting ?? threadsFromEnv()
  }

  /** The checker for reading `versions` versions. */
  async checker(versions: number): Promise<RecordChecker> {
    const count = this.setting ?? (versions >= THREADS_FROM_VERSIONS ? Math.min(MAX_THREADS, Math.max(1, availableParallelism() - 1)) : 0)
    if (count === 0) return inThreadChecker()
    if (!this.threads) {
      // Kept one by one, so one that could be started is stopped by close() even if the next fails to start.
      this.threads = []
      for (let i = 0; i < count; i++) this.threads.push(new WorkerThread())
    }
    return recordCheckerOn(this.threads)
  }

  async close(): Promise<void> {
    await Promise.all((this.threads ?? []).map((t) => t.close()))
  }
}

function threadsFromEnv(): number | undefined {
  const value = process.env.FERRY_WORKER_THREADS
  if (value === undefined || value === '') return undefined
  const n = Number(value)
  return Number.isInteger(n) && n >= 0 && n <= 64 ? n : undefined
}
