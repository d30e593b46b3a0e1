import type { ChildProcess } from 'node:child_process'
import type { StatusView } from '../../../src/daemon/protocol.js'
import { CLI, ferry } from './cli.js'
import { capture, exited, type Processes } from './processes.js'
import { until } from './until.js'

export interface RunningDaemon {
  child: ChildProcess
  output(): string
  status(): Promise<StatusView>
  /** SIGTERM and wait: resolves with the exit code. */
  stop(): Promise<number | null>
}

/** Starts the real `ferry daemon` and waits until it answers `status`. */
export async function startDaemon(
  procs: Processes,
  opts: { dataDir: string; env: NodeJS.ProcessEnv; inbox: string; mediaRoot?: string; tray?: boolean },
): Promise<RunningDaemon> {
  const args = [CLI, '--data-dir', opts.dataDir, 'daemon', '--inbox', opts.inbox]
  if (opts.mediaRoot) args.push('--media-root', opts.mediaRoot)
  if (!opts.tray) args.push('--no-tray')
  const child = procs.start('ferry daemon', process.execPath, args, { env: opts.env })
  const out = capture(child)
  const status = async () => {
    const r = await ferry(['--data-dir', opts.dataDir, '--json', 'status'], opts.env)
    if (r.code !== 0) throw new Error(`status exited ${r.code}: ${r.stderr}`)
    return JSON.parse(r.stdout) as StatusView
  }
  await until(async () => {
    if (exited(child)) throw new Error(`the daemon exited early:\n${out.text()}`)
    return (await status()).running
  }, 'the daemon to answer status')
  return {
    child,
    output: out.text,
    status,
    stop: async () => {
      if (exited(child)) return child.exitCode
      const done = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
      child.kill('SIGTERM')
      return done
    },
  }
}
