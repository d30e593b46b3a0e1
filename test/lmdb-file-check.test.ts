import { spawnSync } from 'node:child_process'
import { copyFileSync, mkdirSync, readFileSync, statSync, truncateSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { everyPageInUseIsPresent, lmdbFileKind } from '../src/store/lmdb-file-check.js'
import { ferry, ferryOk } from './helpers/cli.js'
import { tempDir } from './helpers/tmp.js'

const LMDB = createRequire(import.meta.url).resolve('lmdb')
const PAGE = 4096

/**
 * What the real LMDB does with a database file: opened in a child process, every database in it read to the end
 * (keys, values, overflow pages) and one small write committed (which reads the free list). 'crash' is the
 * signal that killed it — SIGBUS for a page past the end of the file.
 */
function lmdbReadsEverything(file: string): 'ok' | 'crash' {
  const script = `
    const { open } = require(${JSON.stringify(LMDB)})
    const env = open({ path: process.argv[1], maxDbs: 16, compression: false, keyEncoding: 'binary' })
    const names = [...env.getKeys()].map((k) => k.toString('latin1').replace(/\\0$/, ''))
    for (const name of names) for (const { value } of env.openDB(name, { encoding: 'binary', keyEncoding: 'binary' }).getRange({})) void value
    env.openDB('meta', { encoding: 'binary', keyEncoding: 'binary' }).putSync(Buffer.from('probe'), Buffer.alloc(20000, 1))
  `
  const result = spawnSync(process.execPath, ['-e', script, file], { encoding: 'utf8' })
  if (result.signal) return 'crash'
  if (result.status !== 0) throw new Error(`LMDB failed without crashing: ${result.stderr}`)
  return 'ok'
}

/** A data folder with something in every database: observations, a photo, a teammate's versions received. */
function realDataFolder(): { root: string; data: string; db: string } {
  const root = tempDir()
  const data = path.join(root, 'data')
  const teammate = path.join(root, 'teammate')
  ferryOk(['--data-dir', data, 'init'])
  ferryOk(['--data-dir', data, 'project', 'export', path.join(root, 'p.ferryproject')])
  ferryOk(['--data-dir', teammate, 'init', '--join', path.join(root, 'p.ferryproject')])
  const photo = path.join(root, 'photo.jpg')
  writeFileSync(photo, Buffer.alloc(300_000, 7))
  for (let i = 0; i < 20; i++) ferryOk(['--data-dir', data, 'add', '--lat', String(i), '--lon', '2', '--tag', `n=${i}`])
  ferryOk(['--data-dir', teammate, 'add', '--lat', '5', '--lon', '6', '--photo', photo])
  ferryOk(['--data-dir', teammate, 'create', path.join(root, 'from-teammate.ferry')])
  ferryOk(['--data-dir', data, 'sync', path.join(root, 'from-teammate.ferry')])
  return { root, data, db: path.join(data, 'ferry.mdb') }
}

describe('a data folder whose database is cut short', () => {
  it('a whole database: every page in use is in the file', () => {
    const { db } = realDataFolder()
    expect(lmdbFileKind(db)).toBe('lmdb')
    expect(everyPageInUseIsPresent(db)).toBe(true)
  })

  it('agrees with LMDB itself, cut anywhere: refused exactly where LMDB would crash', () => {
    const { root, db } = realDataFolder()
    const size = statSync(db).size
    const cuts = [1, 2, 3, 5, 8, size / PAGE / 2, size / PAGE - 3].map((pages) => size - Math.floor(pages) * PAGE)
    const verdicts = cuts.map((cut, i) => {
      const copy = path.join(root, `cut-${i}`, 'ferry.mdb')
      mkdirSync(path.dirname(copy))
      copyFileSync(db, copy)
      truncateSync(copy, cut)
      const kind = lmdbFileKind(copy)
      return { cut, kind, lmdb: lmdbReadsEverything(copy) }
    })
    for (const v of verdicts) expect(v).toEqual({ cut: v.cut, kind: v.lmdb === 'crash' ? 'cut-short' : 'lmdb', lmdb: v.lmdb })
    // The cuts deep into the file are ones LMDB crashes on; were none refused, the comparison above would prove little.
    expect(verdicts.filter((v) => v.kind === 'cut-short').length).toBeGreaterThanOrEqual(2)
  })

  it('a page cut part way counts as missing (LMDB would read zeros for its end, not crash)', () => {
    const { root, db } = realDataFolder()
    const size = statSync(db).size
    const verdicts = [1, 2, 5].map((pages) => {
      const kinds = [pages * PAGE, pages * PAGE - 100].map((short, i) => {
        const copy = path.join(root, `cut-${pages}-${i}`, 'ferry.mdb')
        mkdirSync(path.dirname(copy))
        copyFileSync(db, copy)
        truncateSync(copy, size - short)
        return lmdbFileKind(copy)
      })
      return { pages, wholePagesCut: kinds[0], partPageCut: kinds[1] }
    })
    for (const v of verdicts) expect(v).toEqual({ ...v, partPageCut: v.wholePagesCut })
  })

  it('list and sync: exit 5 and a plain sentence instead of a crash, the file left as it was', () => {
    const { root, data, db } = realDataFolder()
    truncateSync(db, Math.floor(statSync(db).size / 2))
    const before = readFileSync(db)
    for (const args of [['list'], ['sync', path.join(root, 'from-teammate.ferry')]]) {
      const result = ferry(['--data-dir', data, ...args])
      expect({ args, code: result.code, signal: result.stderr.includes('Bus error') }).toEqual({ args, code: 5, signal: false })
      expect(result.stderr).toMatch(/The database in .* \(ferry\.mdb\) is not one Ferry can read: it is cut short/)
    }
    expect(readFileSync(db).equals(before)).toBe(true)
  })
})
