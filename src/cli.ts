#!/usr/bin/env node
import { readFileSync } from 'node:fs'
import { Command, CommanderError } from 'commander'
import { FerryError, ExitCode } from './errors.js'
import { registerDocumentCommands } from './cli/commands/documents.js'
import { registerImportExportCommands } from './cli/commands/import-export.js'
import { registerProjectCommands } from './cli/commands/project.js'
import { registerSyncCommands } from './cli/commands/sync.js'
import { registerDaemonCommands } from './cli/daemon-commands.js'
import { flushed, outputFailed as outputFailedError } from './cli/text-out.js'

/**
 * The `ferry` command. Every user-facing failure is a FerryError: one plain sentence on stderr and the exit code
 * of the CLI contract. Anything else is a bug: exit 1, a short sentence, and the stack only with --debug.
 */
export function buildProgram(): Command {
  const program = new Command('ferry')
    .description('Ferry keeps field observations in sync between computers through a file on a USB drive or sent by email.')
    .option('--data-dir <dir>', 'the data folder (default: $FERRY_DATA_DIR, else your per-user data folder)')
    .option('--json', 'print results as JSON')
    .option('--debug', 'show full error details')
    .version(ferryVersion(), '-V, --version', 'print the version of Ferry')
    .showHelpAfterError('(run `ferry --help` for the list of commands)')
    .exitOverride()
    .addHelpText(
      'after',
      `
Syncing two computers:
  computer 1:  ferry init --name "River monitoring"
               ferry project export river.ferryproject      (give it to your team; keep it private)
               ferry create /media/me/KINGSTON/river.ferry
  computer 2:  ferry init --join river.ferryproject
               ferry sync /media/me/KINGSTON/river.ferry    (then sync the file on computer 1 again)

Exit codes: 0 done, 1 unexpected, 2 bad usage or input, 3 another project's file, 4 damaged file, 5 drive or disk failed,
130 stopped with Ctrl-C.`,
    )
  registerProjectCommands(program)
  registerDocumentCommands(program)
  registerImportExportCommands(program)
  registerSyncCommands(program)
  registerDaemonCommands(program)
  for (const command of program.commands) command.exitOverride()
  return program
}

/** The version in Ferry's package.json, beside dist/ (where this module runs from) in a checkout and when installed. */
function ferryVersion(): string {
  try {
    return (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version
  } catch {
    return 'unknown'
  }
}

async function main(argv: string[]): Promise<number> {
  const program = buildProgram()
  const debug = argv.includes('--debug')
  // Libraries print their own diagnostics (lmdb-js prints a failed commit's error on its way to the caller). The
  // user gets Ferry's one plain sentence; --debug shows theirs too. Ferry itself writes to the streams directly.
  // This also hides Node's own process warnings (deprecations) from users, which is intended.
  if (!debug) console.error = console.warn = () => undefined
  // A reader that stops early (`ferry list | head`) closes the pipe. The rest of the output has nowhere to go, which
  // is not a failure of the command: later writes are dropped and the command finishes as it would have (a sync in
  // progress is never cut short by it). Any other failure to write the output (a full disk under `> file`) is one:
  // it is reported once the command ends, with the exit code of a failed disk.
  let outputFailed: NodeJS.ErrnoException | undefined
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code !== 'EPIPE') outputFailed ??= err
    })
  }
  // On a terminal, a message starts on a line of its own, not after a progress line.
  const newLine = process.stderr.isTTY ? '\r\x1b[K' : ''
  try {
    await program.parseAsync(argv)
    await flushed(process.stdout)
    if (outputFailed) throw outputFailedError(outputFailed)
    return ExitCode.ok
  } catch (caught) {
    let err = caught
    if (err instanceof CommanderError) {
      // Usage errors were already printed by commander. Help and version print and exit 0, if they could be written.
      if (err.exitCode !== 0) return ExitCode.badInput
      await flushed(process.stdout)
      if (!outputFailed) return ExitCode.ok
      err = outputFailedError(outputFailed)
    }
    if (err instanceof FerryError) {
      process.stderr.write(`${newLine}ferry: ${err.message}\n`)
      if (debug && err.cause) process.stderr.write(`${String((err.cause as Error).stack ?? err.cause)}\n`)
      return err.exitCode
    }
    process.stderr.write(`${newLine}ferry: something unexpected went wrong (${err instanceof Error ? err.message : String(err)}). Nothing was lost. Run again with --debug for details and report it.\n`)
    if (debug) process.stderr.write(`${(err as Error)?.stack ?? ''}\n`)
    return ExitCode.unexpected
  }
}

// Commands that leave handles open (the daemon) never settle until they stop; the rest exit at once. Should a
// promise Ferry awaits never settle (a library's bug) and the event loop run dry, the process must not report
// success for work it never finished: exiting before main settles says "unexpected". Set on the way out rather
// than up front, because commander reads process.exitCode for `ferry help` (it would then exit 2 after its help).
let settled = false
process.on('exit', () => {
  if (!settled) process.exitCode = ExitCode.unexpected
})
void main(process.argv).then((code) => {
  settled = true
  process.exitCode = code
})
