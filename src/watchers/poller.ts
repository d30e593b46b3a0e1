/**
 * The mount table has no change event we can rely on on any platform, so drive sources re-read it on a timer.
 * The timer never keeps the process alive on its own (unref).
 */
export class Poller {
  private timer: NodeJS.Timeout | undefined

  start(onTick: () => void, everyMs: number): void {
    this.stop()
    this.timer = setInterval(onTick, everyMs)
    this.timer.unref()
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer)
    this.timer = undefined
  }
}
