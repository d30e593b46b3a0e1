/** What a sync or create reports, exactly the shape `sync --json` / `create --json` print. */
export interface TransferCounts {
  versions: number
  blobs: number
  bytes: number
}

export interface SyncReport {
  file: string
  received: TransferCounts
  sent: TransferCounts
  ms: number
}

export type MediaPolicy = 'all' | 'previews' | 'none'

/**
 * Progress of a merge. `phase` says which way data is flowing; totals are known up front from the file's commits
 * and the database's clock, so a bar can be drawn from the first event.
 */
export interface SyncProgress {
  phase: 'reading' | 'receiving' | 'sending' | 'flushing'
  done: { versions: number; bytes: number }
  total: { versions: number; bytes: number }
}

/** The slice of a pino logger the merge uses (the daemon passes its own; the CLI one is quiet unless --debug). */
export interface MergeLog {
  debug(fields: Record<string, unknown>, message: string): void
}

export interface SyncOptions {
  log?: MergeLog
  onProgress?: (progress: SyncProgress) => void
  /** Aborting stops the merge at the next safe point; nothing half-done becomes visible. */
  signal?: AbortSignal
  /** Worker threads that check the records read (0: none); by default chosen from the amount and the cores. */
  workerThreads?: number
}

export interface CreateOptions extends SyncOptions {
  media?: MediaPolicy
}
