import { execFileSync } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { buildSync } from 'esbuild'
import { describe, expect, it } from 'vitest'
import { docStateEncoding } from '../src/store/index-codecs.js'
import { rankHeads, type HeadSummary } from '../src/store/winner.js'
import { ferryOk } from './helpers/cli.js'
import { makeDevices } from './helpers/devices.js'
import { tempDir } from './helpers/tmp.js'

/**
 * Which of two concurrent edits wins must not depend on the computer's time zone: a timestamp without a zone used
 * to be read as local time when ranking, so two devices holding the same versions could show different winners
 * for ever (each sync then found nothing to exchange). Node reads TZ once per process, so each zone runs in a
 * process of its own.
 */

const ZONES = ['UTC', 'America/New_York', 'Asia/Kolkata', 'Pacific/Kiritimati', 'Pacific/Pago_Pago']

interface Exported {
  docId: string
  versionId: string
  updatedAt: string
  tags: Record<string, unknown>
}

const head = (versionId: string, updatedAt: string, deleted = false): HeadSummary => ({ versionId, updatedAt, deleted })

/** Pairs of heads, written so that `first` wins wherever the ranking ignores the computer's zone. */
const PAIRS: Array<{ why: string; first: HeadSummary; second: HeadSummary }> = [
  { why: 'no zone is read as UTC', first: head('a/1', '2025-06-01T10:30:00Z'), second: head('z/1', '2025-06-01T10:00:00') },
  { why: 'no zone is read as UTC, not local', first: head('a/1', '2025-06-01T10:00:00'), second: head('z/1', '2025-06-01T09:30:00Z') },
  { why: 'a space instead of T', first: head('a/1', '2025-06-01 10:00'), second: head('z/1', '2025-06-01T09:59:59.999Z') },
  { why: 'an explicit offset', first: head('a/1', '2025-06-01T12:00:01+02:00'), second: head('z/1', '2025-06-01T10:00:00Z') },
  { why: 'an offset without a colon', first: head('a/1', '2025-06-01T05:00:01-0500'), second: head('z/1', '2025-06-01T10:00:00.000Z') },
  { why: 'a plain date is midnight UTC', first: head('a/1', '2025-06-01'), second: head('z/1', '2025-05-31T23:59:59Z') },
  { why: 'the same instant written two ways: the greater versionId', first: head('z/1', '2025-06-01T10:00:00'), second: head('a/1', '2025-06-01T12:00:00+02:00') },
  { why: 'an unreadable date ranks oldest', first: head('a/1', '1970-01-01T00:00:00Z'), second: head('z/1', 'June 1st, 2025 at ten') },
  { why: 'a date Date.parse reads in local time ranks oldest too', first: head('a/1', '1970-01-01T00:00:00Z'), second: head('z/1', '06/01/2025 10:00') },
  { why: 'a day the month does not have ranks oldest', first: head('a/1', '1970-01-01T00:00:00Z'), second: head('z/1', '2025-02-30T10:00:00Z') },
  { why: 'fractions beyond milliseconds', first: head('a/1', '2025-06-01T10:00:00.0015Z'), second: head('z/1', '2025-06-01T10:00:00.0009Z') },
  { why: 'a two-digit year is that year, not 19xx', first: head('a/1', '1999-01-01T00:00:00Z'), second: head('z/1', '0099-01-01T00:00:00') },
]

/** The winner rule compiled on its own, to run in processes with another TZ. */
function rankingScript(): string {
  const dir = tempDir()
  const out = path.join(dir, 'rank.mjs')
  buildSync({ entryPoints: [fileURLToPath(new URL('../src/store/winner.ts', import.meta.url))], bundle: true, format: 'esm', platform: 'node', outfile: out, logLevel: 'silent' })
  const main = path.join(dir, 'main.mjs')
  writeFileSync(main, `import { rankHeads } from './rank.mjs'\nconst pairs = JSON.parse(process.argv[2])\nprocess.stdout.write(JSON.stringify(pairs.map((p) => rankHeads([p.second, p.first])[0].versionId)))\n`)
  return main
}

describe('the winner rule in every time zone', () => {
  it('ranks timestamps without consulting the local zone', () => {
    expect(PAIRS.map((p) => [p.why, rankHeads([p.second, p.first])[0]])).toEqual(PAIRS.map((p) => [p.why, p.first]))
  })

  it('gives the same winners in processes set to different zones', () => {
    const script = rankingScript()
    const winnersIn = (TZ: string) => JSON.parse(execFileSync(process.execPath, [script, JSON.stringify(PAIRS)], { env: { ...process.env, TZ }, encoding: 'utf8' })) as string[]
    const expected = PAIRS.map((p) => p.first.versionId)
    expect(Object.fromEntries(ZONES.map((TZ) => [TZ, winnersIn(TZ)]))).toEqual(Object.fromEntries(ZONES.map((TZ) => [TZ, expected])))
  })

  it('re-ranks a stored fork, so a database indexed by an earlier build shows the same winner', () => {
    // Written winner-last, as an earlier build running in New York could have stored it.
    const stored = docStateEncoding.encode({ heads: [head('a/1', '2025-06-01T10:00:00'), head('z/1', '2025-06-01T10:30:00Z')] })
    expect(docStateEncoding.decode(stored).heads.map((h) => h.versionId)).toEqual(['z/1', 'a/1'])
  })
})

describe('concurrent imports on computers in different time zones', () => {
  it('converge: both devices export the same data and show the same winner', () => {
    const root = tempDir()
    const [a, b] = makeDevices(root, 2)
    const inUtc = { env: { TZ: 'UTC' } }
    const inNewYork = { env: { TZ: 'America/New_York' } }
    // The same observation, new to both, imported on each with its own date: two first versions, a fork. (An import
    // that changes an observation a device holds is dated at import time; one new to it keeps the file's dates.)
    const docId = 'f'.repeat(64)
    const observation = (n: string, updatedAt: string) => {
      const out = path.join(root, `${n}.json`)
      const doc = { docId, schemaName: 'observation', createdAt: updatedAt, updatedAt, links: [], deleted: false, lat: 1, lon: 1, tags: { n }, attachments: [] }
      writeFileSync(out, JSON.stringify([doc]))
      return out
    }
    // A, in UTC, imports one stamped 10:00 without a zone (10:00 UTC there); B, in New York, one stamped 10:30 UTC.
    ferryOk(['--data-dir', a!, 'import', observation('from-A', '2025-06-01T10:00:00')], inUtc)
    ferryOk(['--data-dir', b!, 'import', observation('from-B', '2025-06-01T10:30:00Z')], inNewYork)
    const file = path.join(root, 'shared.ferry')
    ferryOk(['--data-dir', a!, 'create', file], inUtc)
    ferryOk(['--data-dir', b!, 'sync', file], inNewYork)
    ferryOk(['--data-dir', a!, 'sync', file], inUtc)

    const exportA = ferryOk(['--data-dir', a!, 'export', '-'], inUtc)
    const exportB = ferryOk(['--data-dir', b!, 'export', '-'], inNewYork)
    expect(exportB).toBe(exportA)
    const [doc] = JSON.parse(exportA) as Exported[]
    expect(doc!.tags.n).toBe('from-B')
    // A's zone-less stamp was stored as the instant A meant, in UTC.
    const forks = JSON.parse(ferryOk(['--data-dir', b!, 'show', docId, '--forks'], inNewYork)) as Exported[]
    expect(forks.map((f) => [f.tags.n, f.updatedAt])).toEqual([
      ['from-B', '2025-06-01T10:30:00Z'],
      ['from-A', '2025-06-01T10:00:00.000Z'],
    ])
  })
})

describe('timestamps written by import', () => {
  it('a timestamp without a zone is the importing computer\'s local time, stored in UTC; one with a zone is kept as written', () => {
    const root = tempDir()
    const data = path.join(root, 'data')
    const inTokyo = { env: { TZ: 'Asia/Tokyo' } }
    ferryOk(['--data-dir', data, 'init'], inTokyo)
    const doc = (docId: string, createdAt: string, updatedAt: string) => ({ docId, schemaName: 'observation', createdAt, updatedAt, links: [], deleted: false, lat: 1, lon: 2, tags: {}, attachments: [] })
    const file = path.join(root, 'in.json')
    writeFileSync(file, JSON.stringify([
      doc('local', '2025-06-01T09:00:00', '2025-06-01 10:00'),
      doc('zoned', '2025-06-01T10:00:00+02:00', '2025-06-01T10:00:00.000Z'),
      doc('dateonly', '2025-06-01', '2025-06-01T10:00:00.123456Z'),
    ]))
    ferryOk(['--data-dir', data, 'import', file], inTokyo)
    // Read back in another zone: what is stored no longer depends on one.
    const stored = JSON.parse(ferryOk(['--data-dir', data, 'export', '-'], { env: { TZ: 'America/New_York' } })) as Array<Exported & { createdAt: string }>
    const byId = Object.fromEntries(stored.map((d) => [d.docId, [d.createdAt, d.updatedAt]]))
    expect(byId).toEqual({
      local: ['2025-06-01T00:00:00.000Z', '2025-06-01T01:00:00.000Z'],
      zoned: ['2025-06-01T10:00:00+02:00', '2025-06-01T10:00:00.000Z'],
      dateonly: ['2025-05-31T15:00:00.000Z', '2025-06-01T10:00:00.123456Z'],
    })
  })
})
