import { FerryError } from '../errors.js'

/**
 * Runs a long write (create, sync, salvage) so that Ctrl-C or SIGTERM stops it cleanly instead of killing it
 * mid-write: the first signal aborts `work` through its AbortSignal, which stops at its next check and undoes what it
 * began (create removes its unfinished file from the drive), then the command ends with `stopped` and exit 130. A
 * second signal quits at once, for a user who will not wait.
 *
 * Without this, Node's default is to die on the spot: safe for the data (a sync's half-written tail is cut off by the
 * next one), but create left its hidden temporary file, the size of everything written so far, on the drive.
 */
export async function interruptible<T>(stopped: string, work: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController()
  let signalled = false
  const onSignal = () => {
    if (signalled) process.exit(130)
    signalled = true
    process.stderr.write('\nferry: stopping… (press Ctrl-C again to quit at once)\n')
    controller.abort()
  }
  process.on('SIGINT', onSignal)
  process.on('SIGTERM', onSignal)
  try {
    return await work(controller.signal)
  } catch (err) {
    // Whatever the work threw once stopped (its own "stopped" error, or a write cut short) is the stop's doing.
    if (signalled) throw new FerryError('interrupted', stopped, { cause: err })
    throw err
  } finally {
    process.off('SIGINT', onSignal)
    process.off('SIGTERM', onSignal)
  }
}
