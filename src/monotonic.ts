/**
 * Milliseconds on a monotonic clock, for durations: performance.now() without loading node:perf_hooks, which
 * would add about a millisecond to the start of every command.
 */
export function monotonicMs(): number {
  const [seconds, nanoseconds] = process.hrtime()
  return seconds * 1e3 + nanoseconds / 1e6
}
