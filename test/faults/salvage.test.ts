import { randomBytes } from 'node:crypto'
import { cpSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { FerryError } from '../../src/errors.js'
import { FaultyDisk } from '../../src/fs/faulty-disk.js'
import { nodeDisk } from '../../src/fs/node-disk.js'
import { createSyncFile, syncWithFile } from '../../src/merge/merge.js'
import { salvageSyncFile } from '../../src/merge/salvage.js'
import { verifySyncFile } from '../../src/merge/verify.js'
import { Store } from '../../src/store/store.js'
import { sealVersion } from '../../src/store/version.js'
import { ChunkKind } from '../../src/syncfile/format.js'
import { encodeRecords } from '../../src/merge/records.js'
import { tempDir } from '../helpers/tmp.js'
import { ferryOk } from '../helpers/cli.js'
import { makeDevices } from '../helpers/devices.js'
import { ferrySync } from './lib/cli-proc.js'
import { appendSegment, parseFrames } from './lib/forge.js'
import { envCount, recordResult } from './lib/results.js'
import { addObservation, blobsIntact, fingerprint, makeStores, mediaFiles, sha256, versionIds } from './lib/world.js'

/**
 * Salvage takes every intact, verified version and photo out of a file that `sync` refuses, reports what it could
 * not read, and never writes to the file.
 */

/** A file of four segments, each written by one device: A (with a photo), B, C (with a photo), A again. */
async function fourSegments() {
  const root = tempDir('ferry-salvage-')
  const [a, b, c, d] = await makeStores(root, 4)
  const file = path.join(root, 'field.ferry')
  const ids = { a: [] as string[], b: [] as string[], c: [] as string[] }
  const photos: Record<string, string> = {}
  for (let i = 0; i < 3; i++) ids.a.push((await addObservation(a!, i === 0 ? { photos: [randomBytes(5000)] } : {})).versionId)
  photos.a = [...a!.blobEntries()][0]!.hash
  await createSyncFile(a!, file)
  for (let i = 0; i < 2; i++) ids.b.push((await addObservation(b!, {})).versionId)
  await syncWithFile(b!, file)
  for (let i = 0; i < 2; i++) ids.c.push((await addObservation(c!, i === 0 ? { photos: [randomBytes(1_300_000)] } : {})).versionId)
  photos.c = [...c!.blobEntries()].find((e) => e.hash !== photos.a)!.hash
  await syncWithFile(c!, file)
  for (let i = 0; i < 2; i++) ids.a.push((await addObservation(a!, {})).versionId)
  await syncWithFile(a!, file)
  const bytes = readFileSync(file)
  const parsed = parseFrames(bytes)
  expect(parsed.commits).toHaveLength(4)
  return { root, a: a!, b: b!, c: c!, d: d!, file, bytes, parsed, ids, photos }
}

/** Runs salvage through a FaultyDisk that records calls, and checks the file was never opened for writing. */
async function salvageReadOnly(store: Store, file: string) {
  const before = { bytes: readFileSync(file), mtime: statSync(file).mtimeMs }
  const disk = new FaultyDisk(nodeDisk)
  const watched = await Store.open(store.dataDir, { disk })
  try {
    const report = await salvageSyncFile(watched, file)
    const touching = disk.calls.filter((c) => c.path === file && c.op !== 'open')
    expect(touching).toEqual([])
    expect(readFileSync(file).equals(before.bytes)).toBe(true)
    expect(statSync(file).mtimeMs).toBe(before.mtime)
    return report
  } finally {
    await watched.close()
  }
}

describe('salvage of a damaged sync file', () => {
  it('damage in one segment: sync refuses; salvage imports every other device’s intact versions and photos', async () => {
    const w = await fourSegments()
    // Damage the records chunk of segment 2 (device B's).
    const seg2 = w.parsed.chunks.filter((c) => c.offset > w.parsed.commits[0]!.offset && c.offset < w.parsed.commits[1]!.offset)
    const bad = Buffer.from(w.bytes)
    bad[seg2[0]!.offset + 40]! ^= 0x10
    writeFileSync(w.file, bad)
    await expect(syncWithFile(w.d, w.file)).rejects.toMatchObject({ exitCode: 4 })

    const report = await salvageReadOnly(w.d, w.file)
    await w.d.close()
    const d = await Store.open(w.d.dataDir)
    const held = versionIds(d)
    expect([...held].sort()).toEqual([...w.ids.a, ...w.ids.c].sort())
    expect(report.received.versions).toBe(7)
    expect(report.received.blobs).toBe(2)
    expect(d.hasBlob(w.photos.a!) && d.hasBlob(w.photos.c!)).toBe(true)
    expect(blobsIntact(d)).toEqual([])
    expect(report.chunks.damaged).toBe(1)
    expect(report.damagedRanges).toHaveLength(1)
    expect(report.missing.versions).toBe(2) // B's two, named by the commits that could be read
    expect(report.missing.blobs).toBe(0)
    // The salvaged store is sound: a clean file from B completes it, and everyone converges.
    const clean = path.join(w.root, 'clean.ferry')
    await createSyncFile(w.b, clean)
    await syncWithFile(d, clean)
    for (const s of [w.a, w.c, w.b]) await syncWithFile(s, clean)
    await syncWithFile(d, clean)
    for (const s of [w.a, w.b, w.c]) expect(fingerprint(s)).toBe(fingerprint(d))
    await d.close()
  })

  it('a damaged photo piece: the records are imported, the photo is reported, no media file for it', async () => {
    const w = await fourSegments()
    const blobChunks = w.parsed.chunks.filter((c) => c.kind === ChunkKind.blob && c.length > 1_000_000)
    const bad = Buffer.from(w.bytes)
    bad[blobChunks[0]!.offset + 5000]! ^= 1
    writeFileSync(w.file, bad)
    const report = await salvageReadOnly(w.d, w.file)
    expect(report.received.versions).toBe(9)
    expect(w.d.hasBlob(w.photos.c!)).toBe(false)
    expect(w.d.hasBlob(w.photos.a!)).toBe(true)
    expect(report.missing.blobs).toBe(1)
    expect(mediaFiles(w.d.dataDir)).toEqual([path.join('media', 'blobs', w.photos.a!.slice(0, 2), w.photos.a!)])
  })

  it('a damaged header and a cut, damaged tail: everything authentic is still recovered', async () => {
    const w = await fourSegments()
    const bad = Buffer.from(w.bytes.subarray(0, w.bytes.length - 5)) // last footer cut
    bad[0] = 0x00 // magic
    bad[bad.length - 30]! ^= 0xff // inside the last commit
    writeFileSync(w.file, bad)
    await expect(verifySyncFile(w.d, w.file)).rejects.toBeInstanceOf(FerryError)
    const report = await salvageReadOnly(w.d, w.file)
    expect(report.received.versions).toBe(9)
    expect(report.received.blobs).toBe(2)
    expect(versionIds(w.d)).toEqual(new Set([...w.ids.a, ...w.ids.b, ...w.ids.c]))
  })

  it('a forged version stops its device’s chain there; genuine ones before it are kept', async () => {
    const w = await fourSegments()
    const tip = w.b.clock().get(w.b.info.deviceId)!
    const impostor = { ...w.a.deviceKey, publicKey: w.b.deviceKey.publicKey, deviceId: w.b.deviceKey.deviceId }
    const now = new Date().toISOString()
    const forged = sealVersion(impostor, w.a.projectId, { seq: tip.seq + 1, prev: tip.hash, docId: 'f'.repeat(64), createdAt: now, updatedAt: now, links: [], deleted: false, value: { schemaName: 'observation', lat: 0, lon: 0, tags: {}, attachments: [] } })
    const lastCommit = w.parsed.commits.at(-1)!
    const reader = await (await import('../../src/syncfile/reader.js')).SyncFileReader.open(nodeDisk, w.file, w.a.projectSecret, w.a.projectId, () => '')
    const last = (await reader.state()).commits.at(-1)!
    await reader.close()
    const clock = new Map(last.clock)
    clock.set(w.b.info.deviceId, tip.seq + 1)
    writeFileSync(w.file, appendSegment(w.bytes, w.a.projectSecret, lastCommit.end, [{ kind: ChunkKind.records, plaintext: encodeRecords([forged]) }], { n: last.n + 1, prev: last.offset, clock }))
    await expect(syncWithFile(w.d, w.file)).rejects.toMatchObject({ exitCode: 4 })
    const report = await salvageReadOnly(w.d, w.file)
    expect(versionIds(w.d)).toEqual(new Set([...w.ids.a, ...w.ids.b, ...w.ids.c]))
    expect(report.devicesStopped.map((s) => s.deviceId)).toEqual([w.b.info.deviceId])
    expect(report.versionsUnusable).toBe(1)
  })

  it('another project’s file and random bytes are refused, nothing changed', async () => {
    const w = await fourSegments()
    const [other] = await makeStores(path.join(w.root, 'other'), 1)
    await expect(salvageSyncFile(other!, w.file)).rejects.toMatchObject({ exitCode: 3 })
    const junk = path.join(w.root, 'junk.ferry')
    writeFileSync(junk, randomBytes(100_000))
    const before = fingerprint(w.d)
    await expect(salvageSyncFile(w.d, junk)).rejects.toMatchObject({ exitCode: 4 })
    expect(fingerprint(w.d)).toBe(before)
    expect(mediaFiles(w.d.dataDir)).toEqual([])
  })

  it('random damage: never a crash, never a version that was not written, never a write to the file; the store stays sound', async () => {
    const w = await fourSegments()
    const written = new Set([...w.ids.a, ...w.ids.b, ...w.ids.c])
    const dDir = w.d.dataDir
    await w.d.close()
    const pristine = path.join(w.root, 'd-pristine')
    cpSync(dDir, pristine, { recursive: true })
    const cases = Math.max(50, Math.floor(envCount('FERRY_FUZZ_CASES', 500) / 20))
    const figures = { cases: 0, versionsRecovered: 0, versionsWritten: written.size * cases, crashes: 0 }
    const clean = path.join(w.root, 'clean.ferry')
    writeFileSync(clean, w.bytes)
    await fc.assert(
      fc.asyncProperty(fc.array(fc.tuple(fc.nat(), fc.integer({ min: 1, max: 2000 }), fc.constantFrom('flip', 'zero', 'cut')), { minLength: 1, maxLength: 4 }), async (damage) => {
        let bad = Buffer.from(w.bytes)
        for (const [at, len, how] of damage) {
          const p = at % bad.length
          if (how === 'flip') bad[p]! ^= 0xff
          else if (how === 'zero') bad.fill(0, p, Math.min(bad.length, p + len))
          else bad = Buffer.concat([bad.subarray(0, p), bad.subarray(Math.min(bad.length, p + len))])
        }
        writeFileSync(w.file, bad)
        rmSync(dDir, { recursive: true, force: true })
        cpSync(pristine, dDir, { recursive: true })
        const d = await Store.open(dDir)
        try {
          figures.cases++
          const result = await salvageReadOnly(d, w.file).catch((err: unknown) => err)
          if (result instanceof Error && !(result instanceof FerryError && ['damaged', 'other-project', 'newer-format'].includes(result.kind))) {
            figures.crashes++
            throw result
          }
          const held = versionIds(d)
          for (const id of held) expect(written.has(id), `salvage invented ${id}`).toBe(true)
          figures.versionsRecovered += held.size
          expect(blobsIntact(d)).toEqual([])
          for (const m of mediaFiles(d.dataDir)) expect(sha256(readFileSync(path.join(d.dataDir, m)))).toBe(path.basename(m))
          // Sound: a clean copy then brings everything else.
          await syncWithFile(d, clean)
          expect(versionIds(d)).toEqual(written)
        } finally {
          await d.close()
        }
      }),
      { numRuns: cases },
    )
    recordResult('salvage', figures)
  })

  it('the CLI: `ferry sync --salvage` takes the intact part, exits 0, and leaves the file byte for byte as it was', () => {
    const root = tempDir('ferry-salvage-cli-')
    const [one, two, three] = makeDevices(root, 3)
    const file = path.join(root, 'field.ferry')
    for (let i = 0; i < 2; i++) ferryOk(['--data-dir', one!, 'add', '--lat', String(i), '--lon', '1'])
    ferryOk(['--data-dir', one!, 'create', file])
    for (let i = 0; i < 3; i++) ferryOk(['--data-dir', two!, 'add', '--lat', String(i), '--lon', '2', '--tag', `n=${i}`])
    ferryOk(['--data-dir', two!, 'sync', file])
    const bytes = readFileSync(file)
    bytes[100]! ^= 1 // inside computer 1's segment
    writeFileSync(file, bytes)
    const mtime = statSync(file).mtimeMs
    expect(ferrySync(['--data-dir', three!, 'sync', file]).code).toBe(4)
    const r = ferrySync(['--data-dir', three!, '--json', 'sync', '--salvage', file])
    expect(r.code, r.stderr).toBe(0)
    const report = JSON.parse(r.stdout) as { received: { versions: number }; missing: { versions: number } }
    expect(report.received.versions).toBe(3)
    expect(report.missing.versions).toBe(2)
    expect(readFileSync(file).equals(bytes)).toBe(true)
    expect(statSync(file).mtimeMs).toBe(mtime)
    const human = ferrySync(['--data-dir', three!, 'sync', '--salvage', file])
    expect(human.code).toBe(0)
    expect(human.stdout).toMatch(/not changed/)
  })
})
