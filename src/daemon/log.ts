import { mkdirSync, renameSync, rmSync, statSync } from 'node:fs'
import path from 'node:path'
import pino, { type Logger } from 'pino'

export interface LogOptions {
  dir: string
  level: string
  maxBytes: number
  keep: number
  /** Also write to stdout (the daemon in the foreground). */
  stdout: boolean
}

/** The daemon's log file: daemon.log in the per-user state folder. */
export function logFile(dir: string): string {
  return path.join(dir, 'daemon.log')
}

/**
 * pino JSON to a file (and stdout in the foreground). Rotation is a size check at start: daemon.log → daemon.log.1
 * → … keeping `keep` old files. The daemon restarts at each login, which is often enough for a log this quiet.
 */
export function createLogger(opts: LogOptions): Logger {
  mkdirSync(opts.dir, { recursive: true })
  const file = logFile(opts.dir)
  rotateIfLarge(file, opts.maxBytes, opts.keep)
  // sync: lines reach the file even when the process exits right after (a failed start, SIGTERM).
  const streams: pino.StreamEntry[] = [{ level: opts.level as pino.Level, stream: pino.destination({ dest: file, sync: true }) }]
  if (opts.stdout) streams.push({ level: opts.level as pino.Level, stream: pino.destination({ dest: 1, sync: true }) })
  return pino({ level: opts.level, base: { pid: process.pid } }, pino.multistream(streams))
}

export function rotateIfLarge(file: string, maxBytes: number, keep: number): void {
  const size = statSync(file, { throwIfNoEntry: false })?.size ?? 0
  if (size <= maxBytes) return
  if (keep === 0) return rmSync(file, { force: true })
  rmSync(`${file}.${keep}`, { force: true })
  for (let i = keep - 1; i >= 1; i--) {
    if (statSync(`${file}.${i}`, { throwIfNoEntry: false })) renameSync(`${file}.${i}`, `${file}.${i + 1}`)
  }
  renameSync(file, `${file}.1`)
}
