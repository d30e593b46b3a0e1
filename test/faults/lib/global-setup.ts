import { execFileSync } from 'node:child_process'
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { ARTIFACTS } from './results.js'

/** The kill, drive and soak tests run dist/cli.js as a user would: build it once before they start. */
export function setup(): void {
  execFileSync('npm', ['run', 'build', '--silent'], { stdio: 'inherit' })
}

/**
 * After the suite: every suite's figures in one file, test-artifacts/reliability.json, from which
 * `node scripts/reliability-report.mjs` renders docs/RELIABILITY.md.
 */
export function teardown(): void {
  const dir = path.join(ARTIFACTS, 'reliability')
  if (!existsSync(dir)) return
  const suites = Object.fromEntries(
    readdirSync(dir)
      .filter((n) => n.endsWith('.json'))
      .map((n) => [n.replace(/\.json$/, ''), JSON.parse(readFileSync(path.join(dir, n), 'utf8')) as unknown]),
  )
  writeFileSync(path.join(ARTIFACTS, 'reliability.json'), `${JSON.stringify({ generated: new Date().toISOString(), suites }, null, 2)}\n`)
}
