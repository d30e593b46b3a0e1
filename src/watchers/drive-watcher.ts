import type { Logger } from 'pino'
import type { Drive, DriveSource } from './drive-source.js'

/**
 * Turns a DriveSource's snapshots into added/removed calls. Refreshes never overlap: a change signalled during a
 * refresh runs one more refresh after it, so no mount or unmount is missed.
 */
export class DriveWatcher {
  private known = new Map<string, Drive>()
  private running: Promise<void> | null = null
  private again = false
  private stopped = false

  constructor(
    private readonly source: DriveSource,
    private readonly handlers: { added(drive: Drive): void; removed(drive: Drive): void },
    private readonly log: Logger,
  ) {}

  async start(): Promise<void> {
    await this.refresh()
    this.source.watch(() => void this.refresh())
  }

  drives(): Drive[] {
    return [...this.known.values()]
  }

  refresh(): Promise<void> {
    if (this.running) {
      this.again = true
      return this.running
    }
    this.running = (async () => {
      do {
        this.again = false
        await this.diffOnce()
      } while (this.again && !this.stopped)
    })().finally(() => (this.running = null))
    return this.running
  }

  private async diffOnce(): Promise<void> {
    if (this.stopped) return
    let current: Drive[]
    try {
      current = await this.source.list()
    } catch (err) {
      this.log.warn({ err }, 'could not read the list of mounted drives')
      return
    }
    const next = new Map(current.map((d) => [d.mountPoint, d]))
    for (const [mountPoint, drive] of this.known) {
      if (!next.has(mountPoint)) {
        this.known.delete(mountPoint)
        this.handlers.removed(drive)
      }
    }
    for (const [mountPoint, drive] of next) {
      if (!this.known.has(mountPoint)) {
        this.known.set(mountPoint, drive)
        this.handlers.added(drive)
      }
    }
  }

  async stop(): Promise<void> {
    this.stopped = true
    await this.source.stop()
    await this.running
  }
}
