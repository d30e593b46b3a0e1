import { mkdirSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

/**
 * Each fault test writes its figures to test-artifacts/reliability/<suite>.json; scripts/reliability-report.mjs
 * renders docs/RELIABILITY.md from them, so the document always shows what the suite last measured.
 */
export const ARTIFACTS = process.env.FERRY_ARTIFACTS_DIR ?? fileURLToPath(new URL('../../../test-artifacts', import.meta.url))

export function recordResult(suite: string, figures: Record<string, unknown>): void {
  const dir = path.join(ARTIFACTS, 'reliability')
  mkdirSync(dir, { recursive: true })
  writeFileSync(path.join(dir, `${suite}.json`), `${JSON.stringify({ suite, at: new Date().toISOString(), node: process.version, ...figures }, null, 2)}\n`)
}

/** A count from the environment, else the CI default. */
export function envCount(name: string, ciDefault: number): number {
  const raw = process.env[name]
  if (raw === undefined || raw === '') return ciDefault
  const n = Number(raw)
  if (!Number.isSafeInteger(n) || n < 1) throw new Error(`${name} must be a positive integer, not ${raw}`)
  return n
}
