import { spawn, spawnSync } from 'node:child_process'
import { statSync } from 'node:fs'
import { CLI as BUILT_CLI } from '../../helpers/cli.js'

/** The CLI snapshot the fault suite's global setup made (see global-setup.ts), else dist/cli.js. */
export const CLI = process.env.FERRY_FAULTS_CLI ?? BUILT_CLI

/** The real CLI as a child process, for kill tests: started, optionally killed after `killAfterMs`, awaited. */
export interface ChildOutcome {
  code: number | null
  signal: NodeJS.Signals | null
  stderr: string
  ms: number
  killed: boolean
}

export function ferryEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return { ...process.env, FERRY_CONFIG_DIR: process.env.FERRY_TEST_CONFIG_DIR ?? '/nonexistent-ferry-config', ...extra }
}

export interface RunOptions {
  /** SIGKILL after this many ms. */
  killAfterMs?: number
  /** SIGKILL once this file's size changes (polled every millisecond), after a further `killAfterMs` (default 0). */
  killWhenGrows?: string
  timeoutMs?: number
  /** Extra environment for the child. */
  env?: Record<string, string>
}

export function runFerry(args: string[], opts: RunOptions = {}): Promise<ChildOutcome> {
  return new Promise((resolve, reject) => {
    const started = performance.now()
    const child = spawn(process.execPath, [CLI, ...args], { env: ferryEnv(opts.env), stdio: ['ignore', 'ignore', 'pipe'] })
    let stderr = ''
    let killed = false
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
    const kill = () => {
      if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) killed = process.kill(child.pid, 'SIGKILL')
    }
    let killTimer: NodeJS.Timeout | undefined
    let watch: NodeJS.Timeout | undefined
    if (opts.killWhenGrows) {
      const file = opts.killWhenGrows
      const sizeOf = () => {
        try {
          return statSync(file).size
        } catch {
          return -1
        }
      }
      const start = sizeOf()
      watch = setInterval(() => {
        if (sizeOf() === start) return
        clearInterval(watch)
        killTimer = setTimeout(kill, opts.killAfterMs ?? 0)
      }, 1)
    } else if (opts.killAfterMs !== undefined) killTimer = setTimeout(kill, opts.killAfterMs)
    // A hang bound, not a timing assertion: a sync that never ends is a failure.
    const hang = setTimeout(() => {
      if (child.pid !== undefined && child.exitCode === null) process.kill(child.pid, 'SIGKILL')
      reject(new Error(`ferry ${args.join(' ')} did not finish within ${opts.timeoutMs ?? 120_000} ms`))
    }, opts.timeoutMs ?? 120_000)
    child.on('error', reject)
    child.on('exit', (code, signal) => {
      clearTimeout(killTimer)
      clearInterval(watch)
      clearTimeout(hang)
      resolve({ code, signal, stderr, ms: performance.now() - started, killed: killed && signal === 'SIGKILL' })
    })
  })
}

export function ferrySync(args: string[], env?: Record<string, string>): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', env: ferryEnv(env), maxBuffer: 64 * 1024 * 1024 })
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr }
}
