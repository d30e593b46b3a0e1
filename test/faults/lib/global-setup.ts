import { execFileSync } from 'node:child_process'
import { cpSync, existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { ARTIFACTS } from './results.js'

const REPO = fileURLToPath(new URL('../../../', import.meta.url))

const SNAPSHOT = path.join(REPO, 'test-artifacts', `faults-dist-${process.pid}`)

/**
 * The kill, drive and soak tests run the built CLI as a user would: build it once, then run a private snapshot of
 * dist/ (inside the repository, so node_modules resolves), so another build during a long run never swaps the CLI
 * out from under a test. Workers find it in FERRY_FAULTS_CLI.
 */
export function setup(): void {
  execFileSync('npm', ['run', 'build', '--silent'], { stdio: 'inherit' })
  rmSync(SNAPSHOT, { recursive: true, force: true })
  cpSync(path.join(REPO, 'dist'), path.join(SNAPSHOT, 'dist'), { recursive: true })
  // What dist/ reads beside itself at run time: package.json and the shipped defaults in config/.
  writeFileSync(path.join(SNAPSHOT, 'package.json'), readFileSync(path.join(REPO, 'package.json')))
  if (existsSync(path.join(REPO, 'config'))) cpSync(path.join(REPO, 'config'), path.join(SNAPSHOT, 'config'), { recursive: true })
  process.env.FERRY_FAULTS_CLI = path.join(SNAPSHOT, 'dist', 'cli.js')
}

/**
 * After the suite: every suite's figures in one file, test-artifacts/reliability.json, from which
 * `node scripts/reliability-report.mjs` renders docs/RELIABILITY.md.
 */
export function teardown(): void {
  rmSync(SNAPSHOT, { recursive: true, force: true })
  const dir = path.join(ARTIFACTS, 'reliability')
  if (!existsSync(dir)) return
  const suites = Object.fromEntries(
    readdirSync(dir)
      .filter((n) => n.endsWith('.json'))
      .map((n) => [n.replace(/\.json$/, ''), JSON.parse(readFileSync(path.join(dir, n), 'utf8')) as unknown]),
  )
  writeFileSync(path.join(ARTIFACTS, 'reliability.json'), `${JSON.stringify({ generated: new Date().toISOString(), suites }, null, 2)}\n`)
}
