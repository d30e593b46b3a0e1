import { FerryError } from '../errors.js'
import type { SyncProgress, SyncReport } from '../merge/types.js'

export type JobKind = 'sync' | 'create'
export type JobState = 'queued' | 'running' | 'done' | 'failed'

/** What status and the tray show of a job. */
export interface JobView {
  id: string
  kind: JobKind
  path: string
  /** Label of the drive the file is on, or null. */
  drive: string | null
  state: JobState
  progress: SyncProgress | null
  error: string | null
  report: SyncReport | null
}

export type JobRunner = (job: JobView, signal: AbortSignal, onProgress: (p: SyncProgress) => void) => Promise<SyncReport>

export interface JobHooks {
  started(job: JobView): void
  progress(job: JobView): void
  finished(job: JobView, report: SyncReport): void
  failed(job: JobView, message: string): void
}

interface Entry {
  view: JobView
  controller: AbortController
  promise: Promise<SyncReport>
  resolve(report: SyncReport): void
  reject(err: unknown): void
}

const KEEP_FINISHED = 10

/**
 * The daemon's job queue: one job at a time (merges are serialised per data folder anyway), so never two syncs of
 * one file. Each job runs inside its own error boundary: a failure is recorded and reported, and the next job runs.
 */
export class JobQueue {
  private readonly queue: Entry[] = []
  private current: Entry | null = null
  private readonly finished: JobView[] = []
  private next = 1
  private idle: Promise<void> = Promise.resolve()
  private closed = false

  constructor(
    private readonly run: JobRunner,
    private readonly hooks: JobHooks,
  ) {}

  /** Adds a job, or returns the one already queued or running for the same file. */
  enqueue(kind: JobKind, file: string, drive: string | null): { view: JobView; done: Promise<SyncReport> } {
    const existing = [this.current, ...this.queue].find((e) => e?.view.path === file)
    if (existing) return { view: existing.view, done: existing.promise }
    if (this.closed) throw new FerryError('busy', 'Ferry is stopping; try again once it has restarted.')
    let resolve!: (r: SyncReport) => void
    let reject!: (e: unknown) => void
    const promise = new Promise<SyncReport>((res, rej) => ((resolve = res), (reject = rej)))
    // Callers that only fire and forget must not cause unhandled rejections; the failure is reported via hooks.
    promise.catch(() => undefined)
    const view: JobView = { id: `j${this.next++}`, kind, path: file, drive, state: 'queued', progress: null, error: null, report: null }
    this.queue.push({ view, controller: new AbortController(), promise, resolve, reject })
    this.pump()
    return { view, done: promise }
  }

  jobs(): JobView[] {
    return [...(this.current ? [this.current.view] : []), ...this.queue.map((e) => e.view), ...this.finished]
  }

  running(): JobView | null {
    return this.current?.view ?? null
  }

  /** Fails queued jobs and aborts the running one whose file matches, e.g. when its drive is removed. */
  abortWhere(matches: (job: JobView) => boolean, reason: FerryError): void {
    for (const entry of [...this.queue]) {
      if (!matches(entry.view)) continue
      this.queue.splice(this.queue.indexOf(entry), 1)
      this.fail(entry, reason)
    }
    if (this.current && matches(this.current.view)) this.current.controller.abort(reason)
  }

  /** Stops taking jobs, drops the queued ones, aborts the running one at its next safe point and waits for it. */
  async close(): Promise<void> {
    this.closed = true
    const reason = new FerryError('busy', 'Ferry stopped before this sync ran; nothing was changed.')
    for (const entry of this.queue.splice(0)) this.fail(entry, reason)
    this.current?.controller.abort(new FerryError('busy', 'Ferry stopped during this sync; nothing was lost. Sync again.'))
    await this.idle
  }

  private pump(): void {
    if (this.current || this.queue.length === 0) return
    const entry = this.queue.shift()!
    this.current = entry
    this.idle = this.execute(entry).finally(() => {
      this.current = null
      this.pump()
    })
  }

  private async execute(entry: Entry): Promise<void> {
    const { view } = entry
    view.state = 'running'
    this.hooks.started(view)
    try {
      const report = await this.run(view, entry.controller.signal, (progress) => {
        view.progress = progress
        this.hooks.progress(view)
      })
      view.state = 'done'
      view.report = report
      this.remember(view)
      this.hooks.finished(view, report)
      entry.resolve(report)
    } catch (err) {
      // An abort carries its own reason (drive removed, daemon stopping); prefer it over the merge's AbortError.
      const reason = entry.controller.signal.aborted ? (entry.controller.signal.reason as unknown) : err
      this.fail(entry, reason instanceof FerryError ? reason : err)
    }
  }

  private fail(entry: Entry, err: unknown): void {
    const message = plainMessage(err, entry.view.path)
    entry.view.state = 'failed'
    entry.view.error = message
    this.remember(entry.view)
    this.hooks.failed(entry.view, message)
    entry.reject(err)
  }

  private remember(view: JobView): void {
    this.finished.unshift(view)
    this.finished.splice(KEEP_FINISHED)
  }
}

/** FerryErrors already speak plainly; anything else is a bug, said without a stack trace (the log has it). */
export function plainMessage(err: unknown, file: string): string {
  if (err instanceof FerryError) return err.message
  return `Ferry could not sync ${file} because of an unexpected problem (details are in Ferry's log). Nothing was lost.`
}
