import { ExitCode, FerryError } from '../errors.js'

/**
 * Runs a long write (create, sync, salvage) so that Ctrl-C or SIGTERM stops it cleanly instead of killing it
 * mid-write: the first signal aborts `work` through its AbortSignal, which stops at its next check and undoes what it
 * began (create removes its unfinished file from the drive), then the command ends with `stopped` and the shell's
 * code for that signal (130 for Ctrl-C, 143 for SIGTERM). A second signal quits at once, for a user who will not wait.
 *
 * Without this, Node's default is to die on the spot: safe for the data (a sync's half-written tail is cut off by the
 * next one), but create left its hidden temporary file, the size of everything written so far, on the drive.
 */
export async function interruptible<T>(stopped: string, work: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController()
  let received: NodeJS.Signals | undefined
  const onSignal = (signal: NodeJS.Signals) => {
    if (received) process.exit(exitCodeFor(signal))
    received = signal
    process.stderr.write('\nferry: stopping… (press Ctrl-C again to quit at once)\n')
    controller.abort()
  }
  process.on('SIGINT', onSignal)
  process.on('SIGTERM', onSignal)
  try {
    return await work(controller.signal)
  } catch (err) {
    // The work's own "stopped" error becomes the command's; any other (a full disk met on the way) stays itself.
    if (received && err instanceof FerryError && err.kind === 'interrupted') throw new FerryError('interrupted', stopped, { cause: err, exitCode: exitCodeFor(received) })
    throw err
  } finally {
    process.off('SIGINT', onSignal)
    process.off('SIGTERM', onSignal)
  }
}

function exitCodeFor(signal: NodeJS.Signals): ExitCode {
  return signal === 'SIGTERM' ? ExitCode.terminated : ExitCode.interrupted
}
