import { watch, type FSWatcher } from 'chokidar'
import { readdir, stat } from 'node:fs/promises'
import path from 'node:path'
import type { Logger } from 'pino'

export interface InboxChecks {
  /** Is this a sync file at all (magic bytes)? A copy that has not yet written its header says no and is retried. */
  isSyncFile(file: string): Promise<boolean>
  /** Ready to be offered: for this project, ends at a valid commit; for another project, always (it is only named). */
  isReady(file: string): Promise<boolean>
}

/**
 * A copy whose size has not moved for this many times the stable wait (a minute, by default) has stopped: if the file
 * is still incomplete then, the person is told, once, rather than Ferry waiting for it silently for ever.
 */
const STALLED_AFTER_STABLE_WAITS = 60

/**
 * Watches the inbox folder. chokidar's awaitWriteFinish fires early when a copy pauses, so a file is offered only
 * when its size has not changed for `stableMs` AND the file itself says it is complete. Every write restarts the
 * wait; a file that is stable but incomplete waits for its next write.
 */
export class InboxWatcher {
  private watcher: FSWatcher | null = null
  private readonly timers = new Map<string, NodeJS.Timeout>()
  private readonly stalledTimers = new Map<string, NodeJS.Timeout>()
  private readonly toldStalled = new Set<string>()

  constructor(
    private readonly folder: string,
    private readonly stableMs: number,
    private readonly checks: InboxChecks,
    private readonly onReady: (file: string) => void,
    private readonly log: Logger,
    /** A file left the inbox (deleted, moved away, renamed from a download's temporary name). */
    private readonly onGone: (file: string) => void = () => undefined,
    /** A sync file of this project that stopped arriving before its end: cut short, most likely. */
    private readonly onStalled: (file: string) => void = () => undefined,
  ) {}

  async start(): Promise<void> {
    const watcher = watch(this.folder, { depth: 0, ignoreInitial: false, ignored: (p) => path.basename(p).startsWith('.') && p !== this.folder })
    this.watcher = watcher
    watcher.on('add', (file) => this.schedule(file))
    watcher.on('change', (file) => this.schedule(file))
    watcher.on('unlink', (file) => {
      this.cancel(file)
      this.onGone(file)
    })
    watcher.on('error', (err) => this.log.warn({ err }, 'inbox watcher error'))
    await new Promise<void>((resolve) => watcher.once('ready', () => resolve()))
  }

  /** Looks at every file in the folder again (after a pause, files that arrived meanwhile are offered). */
  async rescan(): Promise<void> {
    const entries = await readdir(this.folder, { withFileTypes: true }).catch(() => [])
    for (const entry of entries) if (entry.isFile() && !entry.name.startsWith('.')) this.schedule(path.join(this.folder, entry.name))
  }

  private cancel(file: string): void {
    clearTimeout(this.timers.get(file))
    this.timers.delete(file)
    clearTimeout(this.stalledTimers.get(file))
    this.stalledTimers.delete(file)
  }

  private schedule(file: string, lastSize?: number): void {
    this.cancel(file)
    const timer = setTimeout(() => void this.check(file, lastSize), lastSize === undefined ? 0 : this.stableMs)
    this.timers.set(file, timer)
  }

  private async check(file: string, lastSize: number | undefined): Promise<void> {
    this.timers.delete(file)
    const size = await stat(file).then((s) => (s.isFile() ? s.size : -1)).catch(() => -1)
    if (size < 0) return
    // First look, or still growing: look again once the size has held for stableMs.
    if (size !== lastSize) {
      this.toldStalled.delete(file) // it moved: should it stop again, that is news
      return this.schedule(file, size)
    }
    try {
      if (!(await this.checks.isSyncFile(file))) return
      if (!(await this.checks.isReady(file))) {
        // Once per pause in the copy: the person can see in the log why nothing was offered yet.
        this.log.info({ file, size }, `${path.basename(file)} is still arriving in the inbox; waiting for the rest`)
        this.watchForStall(file, size)
        return
      }
    } catch (err) {
      this.log.debug({ err, file }, 'inbox file could not be checked yet')
      return
    }
    this.onReady(file)
  }

  /** Tells once that an incomplete file has not moved for a long while (a write restarts the wait, see cancel). */
  private watchForStall(file: string, size: number): void {
    if (this.toldStalled.has(file)) return
    clearTimeout(this.stalledTimers.get(file))
    const timer = setTimeout(async () => {
      this.stalledTimers.delete(file)
      const now = await stat(file).then((s) => s.size).catch(() => -1)
      if (now !== size || (await this.checks.isReady(file).catch(() => false))) return
      this.toldStalled.add(file)
      this.log.warn({ file, size }, `${path.basename(file)} stopped arriving in the inbox before its end`)
      this.onStalled(file)
    }, this.stableMs * STALLED_AFTER_STABLE_WAITS)
    this.stalledTimers.set(file, timer)
  }

  async stop(): Promise<void> {
    for (const timer of this.timers.values()) clearTimeout(timer)
    this.timers.clear()
    for (const timer of this.stalledTimers.values()) clearTimeout(timer)
    this.stalledTimers.clear()
    await this.watcher?.close()
  }
}
