import { execFile } from 'node:child_process'
import path from 'node:path'

export const CLI = path.resolve('dist/cli.js')

export interface CliResult {
  code: number
  stdout: string
  stderr: string
}

/** Runs the real, built CLI. */
export function ferry(args: string[], env: NodeJS.ProcessEnv = process.env, timeoutMs = 60_000): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { env, timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? ((err as { code: number }).code) : 1) : 0
      resolve({ code, stdout, stderr })
    })
  })
}

export async function ferryOk(args: string[], env?: NodeJS.ProcessEnv): Promise<string> {
  const r = await ferry(args, env)
  if (r.code !== 0) throw new Error(`ferry ${args.join(' ')} exited ${r.code}: ${r.stderr}`)
  return r.stdout
}

export async function ferryJson<T>(args: string[], env?: NodeJS.ProcessEnv): Promise<T> {
  return JSON.parse(await ferryOk(['--json', ...args], env)) as T
}
