import { spawn, spawnSync, type ChildProcess, type StdioOptions } from 'node:child_process'
import { mkdtempSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

export const CLI = fileURLToPath(new URL('../../dist/cli.js', import.meta.url))

// Each test file gets its own per-user config and cache folders, so tests never read or write the real ones.
const configDir = mkdtempSync(path.join(os.tmpdir(), 'ferry-test-config-'))
const cacheDir = mkdtempSync(path.join(os.tmpdir(), 'ferry-test-cache-'))

export interface CliResult {
  code: number
  stdout: string
  stderr: string
}

/**
 * Runs the real, built CLI as a user would. The per-user config and cache folders are pointed into temp folders
 * so tests never touch the real ones.
 */
export function ferry(args: string[], opts: { env?: Record<string, string>; input?: string; cwd?: string } = {}): CliResult {
  const result = spawnSync(process.execPath, [CLI, ...args], {
    encoding: 'utf8',
    cwd: opts.cwd,
    env: testEnv(opts.env),
    input: opts.input,
    maxBuffer: 256 * 1024 * 1024,
  })
  return { code: result.status ?? -1, stdout: result.stdout, stderr: result.stderr }
}

/** Runs the CLI and fails the test with its stderr when it does not exit 0. */
export function ferryOk(args: string[], opts: { env?: Record<string, string> } = {}): string {
  const result = ferry(args, opts)
  if (result.code !== 0) throw new Error(`ferry ${args.join(' ')} exited ${result.code}: ${result.stderr}`)
  return result.stdout
}

export function ferryJson<T = unknown>(args: string[], opts: { env?: Record<string, string> } = {}): T {
  return JSON.parse(ferryOk(['--json', ...args], opts)) as T
}

/** Starts the CLI without waiting for it (the caller stops it by PID if it is still running at the end). */
export function ferrySpawn(args: string[], stdio: StdioOptions): ChildProcess {
  return spawn(process.execPath, [CLI, ...args], { stdio, env: testEnv() })
}

export function testEnv(extra?: Record<string, string>): NodeJS.ProcessEnv {
  return { ...process.env, FERRY_CONFIG_DIR: configDir, FERRY_CACHE_DIR: cacheDir, ...extra }
}
