import { createHash, randomBytes } from 'node:crypto'
import { cpSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { FerryError } from '../../src/errors.js'
import { nodeDisk } from '../../src/fs/node-disk.js'
import { createSyncFile, syncWithFile } from '../../src/merge/merge.js'
import { encodeRecords } from '../../src/merge/records.js'
import { verifySyncFile } from '../../src/merge/verify.js'
import { Store } from '../../src/store/store.js'
import { ChunkKind } from '../../src/syncfile/format.js'
import { SyncFileReader } from '../../src/syncfile/reader.js'
import type { Commit } from '../../src/syncfile/commit.js'
import { ferryOk } from '../helpers/cli.js'
import { makeDevices } from '../helpers/devices.js'
import { tempDir } from '../helpers/tmp.js'
import { ferrySync } from './lib/cli-proc.js'
import { appendSegment, blobPiece, deepCbor, deepRecords, parseFrames, type ParsedFile } from './lib/forge.js'
import { envCount, recordResult } from './lib/results.js'
import { addObservation, fingerprint, makeStores, versionIds } from './lib/world.js'

/**
 * Hostile files: mutations of real files made by the store and by the CLI, and files built with the project secret
 * to lie in ways encryption cannot catch. For each case: no crash (only a FerryError, or success), no hang (a bound
 * per case), and either refusal with the database unchanged or a valid file — the original, or a fall-back to an
 * earlier commit — from which nothing but genuine versions is taken.
 */
const CASES = envCount('FERRY_FUZZ_CASES', 500)
const CASE_BOUND_MS = 20_000
const ALLOWED_KINDS = new Set(['damaged', 'newer-format', 'other-project'])
const sha256hex = (b: Buffer) => createHash('sha256').update(b).digest('hex')

interface Base {
  name: string
  bytes: Buffer
  parsed: ParsedFile
  commits: Commit[]
  /** Every versionId the original holds. */
  versions: Set<string>
}

async function lastCommits(store: Store, file: string): Promise<Commit[]> {
  const reader = await SyncFileReader.open(nodeDisk, file, store.projectSecret, store.projectId, () => '')
  try {
    return (await reader.state()).commits
  } finally {
    await reader.close()
  }
}

async function buildCorpus(root: string) {
  const [a, b, c, fresh] = await makeStores(root, 4)
  await addObservation(a!, { photos: [randomBytes(3000), randomBytes(1_100_000)] })
  await addObservation(a!, {})
  const file1 = path.join(root, 'store.ferry')
  await createSyncFile(a!, file1)
  await addObservation(b!, { photos: [randomBytes(800)] })
  await syncWithFile(b!, file1)
  await addObservation(c!, {})
  await addObservation(c!, { photos: [randomBytes(5000)] })
  await syncWithFile(c!, file1)
  // A second file of the same project (for replayed chunks).
  const file2 = path.join(root, 'other.ferry')
  await createSyncFile(b!, file2)

  const bases: Base[] = []
  const add = async (name: string, file: string) => {
    const bytes = readFileSync(file)
    const report = await verifySyncFile(fresh!, file)
    expect(report.commits).toBeGreaterThan(0)
    const ids = new Set<string>()
    for (const s of [a!, b!, c!]) for (const id of versionIds(s)) ids.add(id)
    bases.push({ name, bytes, parsed: parseFrames(bytes), commits: await lastCommits(fresh!, file), versions: ids })
  }
  await add('store-made', file1)
  await add('second-file', file2)

  // One made by the real CLI, in its own data folders of another project.
  const cliRoot = path.join(root, 'cli')
  mkdirSync(cliRoot)
  const [one, two] = makeDevices(cliRoot, 2)
  const photo = path.join(cliRoot, 'p.jpg')
  writeFileSync(photo, randomBytes(4000))
  ferryOk(['--data-dir', one!, 'add', '--lat', '1.5', '--lon', '2.5', '--tag', 'kind=river', '--photo', photo])
  const cliFile = path.join(cliRoot, 'cli.ferry')
  ferryOk(['--data-dir', one!, 'create', cliFile])
  ferryOk(['--data-dir', two!, 'add', '--lat', '3', '--lon', '4'])
  ferryOk(['--data-dir', two!, 'sync', cliFile])
  return { a: a!, fresh: fresh!, bases, cli: { dirs: [one!, two!], file: cliFile } }
}

type Mutation =
  | { t: 'flip'; at: number[]; bit: number }
  | { t: 'truncate'; at: number }
  | { t: 'duplicate'; from: number; len: number; to: number }
  | { t: 'swap'; a: number; b: number; len: number }
  | { t: 'zero'; from: number; len: number }
  | { t: 'header'; at: number; value: number }
  | { t: 'append'; garbage: number; zeros: boolean }
  | { t: 'huge-length'; chunk: number; value: number }
  | { t: 'kind'; chunk: number; value: number }
  | { t: 'deep-cbor'; depth: number; where: 'records' | 'commit' | 'envelope' }
  | { t: 'replay'; chunk: number; asAppend: boolean }
  | { t: 'lying-commit'; lie: 'blob-missing' | 'clock-ahead' | 'blob-wrong-size' | 'prev-wrong' | 'n-wrong' | 'segment-start' }
  | { t: 'blob-wrong-content' }

const frac = fc.double({ min: 0, max: 1, noNaN: true, maxExcluded: true })
const mutationArb: fc.Arbitrary<{ base: number; m: Mutation; extra: Mutation | null }> = (() => {
  const simple = fc.oneof(
    fc.record({ t: fc.constant('flip' as const), at: fc.array(frac, { minLength: 1, maxLength: 8 }), bit: fc.integer({ min: 0, max: 7 }) }),
    fc.record({ t: fc.constant('truncate' as const), at: frac }),
    fc.record({ t: fc.constant('duplicate' as const), from: frac, len: fc.integer({ min: 1, max: 4096 }), to: frac }),
    fc.record({ t: fc.constant('swap' as const), a: frac, b: frac, len: fc.integer({ min: 1, max: 2048 }) }),
    fc.record({ t: fc.constant('zero' as const), from: frac, len: fc.integer({ min: 1, max: 8192 }) }),
    fc.record({ t: fc.constant('header' as const), at: fc.integer({ min: 0, max: 63 }), value: fc.integer({ min: 0, max: 255 }) }),
    fc.record({ t: fc.constant('append' as const), garbage: fc.integer({ min: 1, max: 5000 }), zeros: fc.boolean() }),
    fc.record({ t: fc.constant('huge-length' as const), chunk: frac, value: fc.constantFrom(0xffffffff, 0x7fffffff, 0x10000000, 0x01000000, 0, 1, 15, 16, 17) }),
    fc.record({ t: fc.constant('kind' as const), chunk: frac, value: fc.integer({ min: 0, max: 255 }) }),
  )
  const forged = fc.oneof(
    fc.record({ t: fc.constant('deep-cbor' as const), depth: fc.constantFrom(100, 5_000, 100_000, 1_000_000), where: fc.constantFrom('records' as const, 'commit' as const, 'envelope' as const) }),
    fc.record({ t: fc.constant('replay' as const), chunk: frac, asAppend: fc.boolean() }),
    fc.record({ t: fc.constant('lying-commit' as const), lie: fc.constantFrom('blob-missing' as const, 'clock-ahead' as const, 'blob-wrong-size' as const, 'prev-wrong' as const, 'n-wrong' as const, 'segment-start' as const) }),
    fc.constant({ t: 'blob-wrong-content' as const }),
  )
  return fc.record({
    base: fc.integer({ min: 0, max: 1 }),
    m: fc.oneof({ weight: 4, arbitrary: simple }, { weight: 1, arbitrary: forged }),
    extra: fc.option(simple, { freq: 4 }),
  })
})()

function mutate(base: Base, other: Base, secret: Buffer, m: Mutation): Buffer {
  const src = base.bytes
  const n = src.length
  const pos = (f: number) => Math.floor(f * n)
  const out = Buffer.from(src)
  const last = base.commits.at(-1)!
  const lastEnd = n
  switch (m.t) {
    case 'flip':
      for (const f of m.at) out[pos(f)]! ^= 1 << m.bit
      return out
    case 'truncate':
      return out.subarray(0, pos(m.at))
    case 'duplicate': {
      const from = pos(m.from)
      const piece = src.subarray(from, Math.min(n, from + m.len))
      const to = pos(m.to)
      return Buffer.concat([src.subarray(0, to), piece, src.subarray(to)])
    }
    case 'swap': {
      const [x, y] = [pos(m.a), pos(m.b)].sort((p, q) => p - q) as [number, number]
      const len = Math.min(m.len, y - x, n - y)
      if (len <= 0) return out
      src.copy(out, x, y, y + len)
      src.copy(out, y, x, x + len)
      return out
    }
    case 'zero':
      out.fill(0, pos(m.from), Math.min(n, pos(m.from) + m.len))
      return out
    case 'header':
      out[m.at] = m.value
      return out
    case 'append':
      return Buffer.concat([out, m.zeros ? Buffer.alloc(m.garbage) : randomBytes(m.garbage)])
    case 'huge-length': {
      const chunk = base.parsed.chunks[Math.floor(m.chunk * base.parsed.chunks.length)]
      if (!chunk) return out
      out.writeUInt32BE(m.value, chunk.offset)
      return out
    }
    case 'kind': {
      const chunk = base.parsed.chunks[Math.floor(m.chunk * base.parsed.chunks.length)]
      if (!chunk) return out
      out[chunk.offset + 4] = m.value
      return out
    }
    case 'deep-cbor': {
      const deep = m.where === 'envelope' ? deepRecords(m.depth) : deepCbor(m.depth)
      const next = { n: last.n + 1, prev: last.offset, clock: last.clock }
      if (m.where === 'commit') return appendSegment(src, secret, lastEnd, [], next, deep)
      return appendSegment(src, secret, lastEnd, [{ kind: ChunkKind.records, plaintext: deep }], next)
    }
    case 'replay': {
      const chunks = other.parsed.chunks.filter((c) => c.kind !== ChunkKind.commit)
      const chunk = chunks[Math.floor(m.chunk * chunks.length)]!
      const raw = other.bytes.subarray(chunk.offset, chunk.offset + chunk.length)
      if (m.asAppend) return appendSegment(src, secret, lastEnd, [{ kind: chunk.kind as ChunkKind, raw }], { n: last.n + 1, prev: last.offset, clock: last.clock })
      // Overwrite a chunk of the same length in place, if there is one; else splice it over the first chunk.
      const target = base.parsed.chunks.find((c) => c.length === chunk.length && c.kind === chunk.kind) ?? base.parsed.chunks[0]!
      return Buffer.concat([src.subarray(0, target.offset), raw, src.subarray(target.offset + target.length)])
    }
    case 'lying-commit': {
      const next = { n: last.n + 1, prev: last.offset, clock: new Map(last.clock) }
      const hash = randomBytes(32).toString('hex')
      switch (m.lie) {
        case 'blob-missing':
          return appendSegment(src, secret, lastEnd, [], { ...next, blobs: [{ hash, size: 1000 }] })
        case 'blob-wrong-size': {
          const data = randomBytes(500)
          const real = sha256hex(data)
          return appendSegment(src, secret, lastEnd, [{ kind: ChunkKind.blob, plaintext: blobPiece(real, 0, data) }], { ...next, blobs: [{ hash: real, size: 400 }] })
        }
        case 'clock-ahead': {
          const [device, seq] = [...last.clock][0]!
          next.clock.set(device, seq + 3)
          return appendSegment(src, secret, lastEnd, [], next)
        }
        case 'prev-wrong':
          return appendSegment(src, secret, lastEnd, [], { ...next, prev: Math.max(0, last.offset - 17) })
        case 'n-wrong':
          return appendSegment(src, secret, lastEnd, [], { ...next, n: last.n + 5 })
        case 'segment-start':
          return appendSegment(src, secret, lastEnd, [{ kind: ChunkKind.records, plaintext: encodeRecords([]) }], { ...next, segmentStart: 64 })
      }
      return out
    }
    case 'blob-wrong-content': {
      const data = randomBytes(700)
      const claimed = sha256hex(randomBytes(700))
      return appendSegment(src, secret, lastEnd, [{ kind: ChunkKind.blob, plaintext: blobPiece(claimed, 0, data) }], { n: last.n + 1, prev: last.offset, clock: last.clock, blobs: [{ hash: claimed, size: 700 }] })
    }
  }
}


function bounded<T>(p: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout
  return Promise.race([
    p.finally(() => clearTimeout(timer)),
    new Promise<T>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`HANG: ${what} took more than ${CASE_BOUND_MS} ms`)), CASE_BOUND_MS)
    }),
  ])
}

describe('fuzz: hostile and damaged sync files', () => {
  it(`${CASES} mutated and forged files: no crash, no hang, refusal with nothing changed or a valid fall-back`, async () => {
    const root = tempDir('ferry-fuzz-')
    const corpus = await buildCorpus(root)
    const { a, bases, cli } = corpus
    let fresh = corpus.fresh
    const freshPrint = fingerprint(fresh)
    const aDir = a.dataDir
    await a.close()
    const aPristine = path.join(root, 'a-pristine')
    cpSync(aDir, aPristine, { recursive: true })
    const work = path.join(root, 'case.ferry')
    const figures = { cases: 0, refused: 0, accepted: 0, acceptedFallBack: 0, crashes: 0, hangs: 0, dbChangedOnRefusal: 0, inventedVersions: 0, cliCases: 0, sendCases: 0 }
    const failures: string[] = []
    const cliFileBytes = readFileSync(cli.file)
    let caseNo = 0

    await fc.assert(
      fc.asyncProperty(mutationArb, async ({ base: bi, m, extra }) => {
        const n = caseNo++
        const base = bases[bi]!
        const other = bases[1 - bi]!
        let bytes = mutate(base, other, fresh.projectSecret, m)
        if (extra) bytes = mutate({ ...base, bytes, parsed: parseFrames(bytes) }, other, fresh.projectSecret, extra)
        writeFileSync(work, bytes)
        figures.cases++
        const label = `case ${n} ${JSON.stringify(m)}${extra ? ` + ${JSON.stringify(extra)}` : ''} on ${base.name}`
        const classify = (err: unknown, op: string): 'refused' => {
          if (err instanceof Error && err.message.startsWith('HANG')) {
            figures.hangs++
            failures.push(`${label}: ${op}: ${err.message}`)
          } else if (!(err instanceof FerryError) || !ALLOWED_KINDS.has(err.kind)) {
            figures.crashes++
            failures.push(`${label}: ${op} threw ${err instanceof FerryError ? `FerryError(${err.kind})` : String((err as Error)?.stack ?? err).slice(0, 600)}`)
          }
          return 'refused'
        }

        // verify: changes nothing; passes only on a file that is the original or an earlier commit of it.
        const verified = await bounded(verifySyncFile(fresh, work), 'verify').catch((err: unknown) => classify(err, 'verify'))
        if (verified !== 'refused' && verified.commits < base.commits.length) figures.acceptedFallBack++

        // sync into a device that holds nothing: takes only genuine versions, or refuses and changes nothing.
        const synced = await bounded(syncWithFile(fresh, work), 'sync').catch((err: unknown) => classify(err, 'sync'))
        if (synced === 'refused') {
          figures.refused++
          if (fingerprint(fresh) !== freshPrint) {
            figures.dbChangedOnRefusal++
            failures.push(`${label}: the database changed although the sync was refused`)
          }
          if (!readFileSync(work).equals(bytes)) failures.push(`${label}: a refused sync changed the file`)
        } else {
          figures.accepted++
          const invented = [...versionIds(fresh)].filter((id) => !base.versions.has(id))
          if (invented.length > 0) {
            figures.inventedVersions += invented.length
            failures.push(`${label}: accepted versions that were never written: ${invented.slice(0, 2).join(', ')}`)
          }
          // Undo: the receiver must start from nothing for the next case.
          const dir = fresh.dataDir
          const secret = fresh.projectSecret
          await fresh.close()
          rmSync(dir, { recursive: true, force: true })
          fresh = await Store.create(dir, { name: 'River monitoring', secret })
        }

        // Every 10th case: a device with data of its own syncs, so the send side appends to the mutated file.
        if (n % 10 === 0) {
          figures.sendCases++
          const dir = path.join(root, 'a-work')
          rmSync(dir, { recursive: true, force: true })
          cpSync(aPristine, dir, { recursive: true })
          const s = await Store.open(dir)
          try {
            await addObservation(s, {})
            const before = fingerprint(s)
            const r = await bounded(syncWithFile(s, work), 'sync with data to send').catch((err: unknown) => classify(err, 'sync (sending)'))
            if (r === 'refused') {
              if (fingerprint(s) !== before) failures.push(`${label}: sending device's database changed on refusal`)
            } else if (verified !== 'refused') {
              const after = await verifySyncFile(s, work).catch((err: unknown) => err as Error)
              if (after instanceof Error) failures.push(`${label}: the file no longer verifies after a successful sync: ${after.message}`)
            }
          } finally {
            await s.close()
          }
        }

        // Every 100th case: the real CLI on a mutation of the CLI-made file.
        if (n % 100 === 0) {
          figures.cliCases++
          const cliBase: Base = { name: 'cli', bytes: cliFileBytes, parsed: parseFrames(cliFileBytes), commits: base.commits, versions: new Set() }
          const mutated = m.t === 'deep-cbor' || m.t === 'replay' || m.t === 'lying-commit' || m.t === 'blob-wrong-content' ? extra && mutate(cliBase, cliBase, Buffer.alloc(32), extra) : mutate(cliBase, cliBase, Buffer.alloc(32), m)
          if (mutated) {
            const cliWork = path.join(root, 'cli-case.ferry')
            writeFileSync(cliWork, mutated)
            for (const cmd of ['verify', 'sync']) {
              const r = ferrySync(['--data-dir', cli.dirs[1]!, cmd, cliWork])
              if (![0, 3, 4].includes(r.code) || (r.code !== 0 && (r.stderr.trim().split('\n').length !== 1 || /\n\s+at /.test(r.stderr)))) {
                figures.crashes++
                failures.push(`${label} (CLI ${cmd}): exit ${r.code}: ${r.stderr.slice(0, 400)}`)
              }
              if (r.code !== 0 && cmd === 'sync' && !readFileSync(cliWork).equals(mutated)) failures.push(`${label} (CLI): a refused sync changed the file`)
            }
          }
        }
        return failures.length < 20
      }),
      { numRuns: CASES, endOnFailure: true },
    )

    recordResult('fuzz', { ...figures, failures: failures.length })
    expect(failures.slice(0, 20)).toEqual([])
    expect(figures.cases).toBe(CASES)
  })
})
