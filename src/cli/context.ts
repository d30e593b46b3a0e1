import type { Command } from 'commander'
import type { MergeLog } from '../merge/types.js'
import { resolveDataDir } from '../paths.js'
import { Store } from '../store/store.js'
import { formatBytes } from '../format-bytes.js'
import type { SyncProgress } from '../merge/types.js'

export interface GlobalOptions {
  dataDir?: string
  json?: boolean
  debug?: boolean
}

export function globals(command: Command): GlobalOptions {
  return command.optsWithGlobals<GlobalOptions>()
}

export function dataDirOf(command: Command): string {
  return resolveDataDir(globals(command).dataDir)
}

/** Opens the store for one command and always closes it, whatever happens. */
export async function withStore<T>(command: Command, fn: (store: Store) => Promise<T>): Promise<T> {
  const store = await Store.open(dataDirOf(command))
  try {
    return await fn(store)
  } finally {
    await store.close()
  }
}

/** Prints a command's result: JSON with --json, else the human text; on stdout unless `stream` says otherwise. */
export function output(command: Command, data: unknown, human: () => string, stream: NodeJS.WritableStream = process.stdout): void {
  stream.write(globals(command).json ? `${JSON.stringify(data)}\n` : `${human()}\n`)
}

/** A one-line progress bar on stderr, only on a terminal and never with --json. */
export function progressBar(command: Command): ((p: SyncProgress) => void) | undefined {
  if (globals(command).json || !process.stderr.isTTY) return undefined
  return (p) => {
    const fraction = p.total.bytes > 0 ? Math.min(1, p.done.bytes / p.total.bytes) : 1
    const width = 24
    const filled = Math.round(fraction * width)
    const label = { reading: 'Reading', receiving: 'Receiving', sending: 'Sending', flushing: 'Saving' }[p.phase]
    const line = `${label.padEnd(9)} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${String(Math.round(fraction * 100)).padStart(3)}%  ${p.done.versions}/${p.total.versions} records  ${formatBytes(p.done.bytes)}/${formatBytes(p.total.bytes)}`
    process.stderr.write(`\r${line}\x1b[K`)
    if (p.phase === 'flushing') process.stderr.write('\n')
  }
}

/**
 * A one-line count on stderr ("Checking  45000/100000 observations"), only on a terminal and never with --json;
 * the line ends when done reaches total in the last phase.
 */
export function progressCount(command: Command, noun: string, lastPhase: string): ((phase: string, done: number, total: number) => void) | undefined {
  if (globals(command).json || !process.stderr.isTTY) return undefined
  return (phase, done, total) => {
    const label = phase.charAt(0).toUpperCase() + phase.slice(1)
    process.stderr.write(`\r${label.padEnd(9)} ${done}/${total} ${noun}\x1b[K`)
    if (phase === lastPhase && done === total) process.stderr.write('\n')
  }
}

export function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`
}

/**
 * The CLI's log: nothing unless --debug, then pino JSON lines on stderr (stdout stays the command's output).
 * pino is loaded only then: it costs a tenth of a second at every start otherwise.
 */
export async function cliLog(command: Command): Promise<MergeLog | undefined> {
  if (!globals(command).debug) return undefined
  const { default: pino } = await import('pino')
  const logger = pino({ level: 'debug' }, pino.destination({ dest: 2, sync: true }))
  return { debug: (fields, message) => logger.debug(fields, message) }
}
