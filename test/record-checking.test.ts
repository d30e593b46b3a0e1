import { randomBytes } from 'node:crypto'
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { createSyncFile, syncWithFile } from '../src/merge/merge.js'
import { ChainTips } from '../src/merge/chain-tips.js'
import { inThreadChecker, type RecordChecker } from '../src/merge/record-checker.js'
import { recordCheckerOn } from '../src/merge/record-check-workers.js'
import { WorkerThread } from '../src/threads/worker-thread.js'
import { checkRecords, RecordEntries, type CheckedRecords } from '../src/merge/records-check.js'
import { encodeRecords } from '../src/merge/records.js'
import { nodeDisk } from '../src/fs/node-disk.js'
import { ChunkKind } from '../src/syncfile/format.js'
import { SyncFileReader } from '../src/syncfile/reader.js'
import { SegmentWriter } from '../src/syncfile/writer.js'
import { verifySyncFile } from '../src/merge/verify.js'
import { observationChecker } from '../src/store/comapeo-schema.js'
import { SummaryLog } from '../src/store/summary-log.js'
import { envelopeHash, openEnvelope, sealVersion, type Version } from '../src/store/version.js'
import type { Store } from '../src/store/store.js'
import { testStores } from './helpers/stores.js'
import { tempDir } from './helpers/tmp.js'
import { addObservation, exportOf, fingerprint } from './faults/lib/world.js'

/**
 * The records check (records-check.ts) decodes, validates and summarises each envelope of a chunk; the chain tips
 * then place them in order, by the envelopes' hashes. It runs in the merge's thread or on worker threads: both must find exactly
 * the same things, and a failing thread must fail the sync, never hang it.
 */
const { devices } = testStores('records', 'River monitors')

function opened(envelope: Buffer): Version {
  const o = openEnvelope(envelope)
  if (!o.ok) throw new Error(o.reason)
  return o.version
}

async function envelopesOf(store: Store, n: number): Promise<Buffer[]> {
  await store.writeLocal(Array.from({ length: n }, (_, i) => ({ value: { schemaName: 'observation', lat: i % 80, lon: 1, tags: { n: String(i), kind: 'heron' }, attachments: [] } })))
  return [...store.envelopes(store.info.deviceId, 1, n)].map((e) => Buffer.from(e))
}

function sealOn(store: Store, seq: number, prev: Buffer | null, value: Record<string, unknown>): Buffer {
  const now = new Date().toISOString()
  return sealVersion(store.deviceKey, store.projectId, { seq, prev, docId: randomBytes(32).toString('hex'), createdAt: now, updatedAt: now, links: [], deleted: false, value: value as Version['value'] })
}

describe('checkRecords', () => {
  it('reports each envelope as written: device, seq, chain link, hash, bytes and a summary for the index', async () => {
    const [a] = await devices(1)
    const envelopes = await envelopesOf(a!, 40)
    const plaintext = encodeRecords(envelopes)
    const checked = checkRecords(plaintext, await observationChecker())
    expect(checked.problem).toBeUndefined()
    expect(checked.invalid).toEqual([])
    expect(checked.count).toBe(40)
    // Kept until the receive commits: no room to spare around the summaries.
    expect(checked.summaries.buffer.byteLength).toBe(checked.summaries.length)

    const entries = new RecordEntries(checked, plaintext)
    const summaries = new SummaryLog()
    summaries.appendPacked(checked.summaries, checked.count, checked.devices)
    const summarised = [...summaries.entries()]
    envelopes.forEach((envelope, i) => {
      const version = opened(envelope)
      entries.at(i)
      expect(entries.deviceId).toBe(a!.info.deviceId)
      expect(entries.seq).toBe(i + 1)
      expect(entries.hasPrev).toBe(i > 0)
      if (i > 0) expect(entries.prevIs(envelopeHash(envelopes[i - 1]!))).toBe(true)
      expect(entries.prevIs(randomBytes(32))).toBe(false)
      expect(entries.envelope().equals(envelope)).toBe(true)
      expect(entries.docId()).toBe(version.docId)
      expect(summarised[i]).toEqual({ deviceId: version.deviceId, seq: version.seq, versionId: version.versionId, docId: version.docId, links: version.links, deleted: version.deleted, updatedAt: version.updatedAt })
    })
  })

  it('flags a document that is not a valid observation, and stops at an unreadable envelope', async () => {
    const [a] = await devices(1)
    const good = sealOn(a!, 1, null, { schemaName: 'observation', lat: 1, lon: 2, tags: {}, attachments: [] })
    const invalid = sealOn(a!, 2, envelopeHash(good), { schemaName: 'observation', lat: 'north', lon: 2, tags: {}, attachments: [] })
    const unreadable = Buffer.concat([randomBytes(64), Buffer.from([0xbf, 0x61])]) // a signature, then a cut-off CBOR map
    const checked = checkRecords(encodeRecords([good, invalid, unreadable, good]), await observationChecker())
    expect(checked.count).toBe(2)
    expect(checked.invalid).toEqual([1])
    expect(checked.problem).toMatch(/a record is unreadable/)
  })

  it('refuses a chunk that is not an array of records', async () => {
    const checked = checkRecords(randomBytes(300), await observationChecker())
    expect(checked).toMatchObject({ problem: 'a group of records is unreadable', count: 0 })
  })
})

describe('ChainTips', () => {
  it('takes each device’s next version, skips held ones, and refuses gaps and broken links without changing', async () => {
    const [a] = await devices(1)
    const envelopes = await envelopesOf(a!, 3)
    const checked = checkRecords(encodeRecords(envelopes), await observationChecker())
    const entries = new RecordEntries(checked, encodeRecords(envelopes))
    const tips = new ChainTips(new Map())
    expect(tips.place(entries.at(1))).toEqual({ problem: 'records of one device are missing or out of order' })
    expect(tips.place(entries.at(0))).toBe('next')
    tips.advance(entries.deviceId, 1, envelopeHash(entries.envelope()), entries.envelope())
    expect(tips.place(entries.at(0))).toBe('known')
    const forged = { deviceId: a!.info.deviceId, seq: 2, hasPrev: true, prevIs: () => false }
    expect(tips.place(forged)).toMatchObject({ problem: expect.stringMatching(/does not continue its device history/) })
    expect(tips.seqOf(a!.info.deviceId)).toBe(1)
    expect(tips.place(entries.at(1))).toBe('next')
    tips.settle()
    expect(tips.unsignedDevice(a!.projectId)).toBeUndefined()
  })
})

async function checkAll(checker: RecordChecker, chunks: Buffer[]): Promise<Array<{ plaintext: Buffer; checked: CheckedRecords }>> {
  // All in flight at once, taken in order, as the segment walk does.
  const results = chunks.map((c) => checker.check(Buffer.from(c)))
  const out = []
  for (const r of results) out.push(await r)
  return out
}

describe('record checking on worker threads', () => {
  it('finds exactly what the in-thread check finds, chunk for chunk, and hands every chunk back intact', async () => {
    const [a, b] = await devices(2)
    const chunks = [encodeRecords(await envelopesOf(a!, 300)), encodeRecords(await envelopesOf(b!, 5)), randomBytes(1000)]
    const good = sealOn(a!, 1, null, { schemaName: 'observation', lat: 1, lon: 2, tags: {}, attachments: [] })
    chunks.push(encodeRecords([good, sealOn(a!, 2, envelopeHash(good), { schemaName: 'nope' }), Buffer.alloc(70)]))
    // A view into a larger buffer cannot be transferred as it is: it must still arrive whole.
    const padded = Buffer.concat([randomBytes(100), chunks[1]!])
    chunks.push(padded.subarray(100))

    const inThread = await checkAll(await inThreadChecker(), chunks)
    const threads = [new WorkerThread(), new WorkerThread()]
    try {
      const onWorkers = await checkAll(recordCheckerOn(threads), chunks)
      expect(onWorkers).toHaveLength(chunks.length)
      onWorkers.forEach((got, i) => {
        expect(got.plaintext.equals(chunks[i]!), `chunk ${i} came back changed`).toBe(true)
        expect(Buffer.isBuffer(got.checked.entries) && Buffer.isBuffer(got.checked.summaries)).toBe(true)
        expect(got.checked).toEqual(inThread[i]!.checked)
      })
      expect(onWorkers[2]!.checked.problem).toBe('a group of records is unreadable')
      expect(onWorkers[3]!.checked).toMatchObject({ count: 2, invalid: [1], problem: expect.stringMatching(/unreadable/) })
    } finally {
      await Promise.all(threads.map((t) => t.close()))
    }
  })

  it('a thread that cannot start fails every request with an error instead of leaving the merge waiting', async () => {
    const broken = new WorkerThread(path.join(tempDir(), 'missing-worker.cjs'))
    try {
      await expect(recordCheckerOn([broken]).check(Buffer.from('x'))).rejects.toThrow(/worker thread/)
      await expect(recordCheckerOn([broken]).check(Buffer.from('y'))).rejects.toThrow(/worker thread/)
    } finally {
      await broken.close()
    }
  })
})

describe('a merge with worker threads', () => {
  it('receives the same data as one without, sends it on, and verify agrees', async () => {
    const root = tempDir()
    const [a, b, viaThread, viaWorkers, last] = await devices(5)
    for (let i = 0; i < 25; i++) await addObservation(a!, { photos: i % 10 === 0 ? [randomBytes(3000)] : [] })
    const file = path.join(root, 'field.ferry')
    await createSyncFile(a!, file)
    await syncWithFile(b!, file)
    // b edits and deletes what a wrote, and adds its own: a second segment with links and tombstones.
    const docs = [...b!.currentVersions()].slice(0, 6)
    await b!.exclusive(() => b!.writeLocal(docs.map((d, i) => ({ docId: d.docId, deleted: i % 2 === 0, value: { ...d.value, tags: { edited: 'yes' } } }))))
    await b!.writeLocal(Array.from({ length: 400 }, (_, i) => ({ value: { schemaName: 'observation', lat: 2, lon: 3, tags: { i: String(i) }, attachments: [] } })))
    await syncWithFile(b!, file)

    const inThread = await syncWithFile(viaThread!, file, { workerThreads: 0 })
    const onWorkers = await syncWithFile(viaWorkers!, file, { workerThreads: 2 })
    expect(onWorkers.received).toEqual(inThread.received)
    expect(inThread.received.versions).toBe(25 + 6 + 400)
    expect(fingerprint(viaWorkers!)).toBe(fingerprint(viaThread!))
    expect(exportOf(viaWorkers!)).toBe(exportOf(b!))
    expect(await verifySyncFile(viaWorkers!, file, { workerThreads: 2 })).toEqual(await verifySyncFile(viaWorkers!, file, { workerThreads: 0 }))

    // And the data received that way travels on.
    const onward = path.join(root, 'onward.ferry')
    const sent = await createSyncFile(viaWorkers!, onward)
    expect(sent.sent.blobs).toBe(3)
    await syncWithFile(last!, onward, { workerThreads: 1 })
    expect(fingerprint(last!)).toBe(fingerprint(viaThread!))
  })
})

describe('a photo damaged on this computer', () => {
  it('stops create and sync before the file’s content changes, with a plain message', async () => {
    const root = tempDir()
    const [a, b] = await devices(2)
    const { hashes } = await addObservation(a!, { photos: [randomBytes(200_000)] })
    const file = path.join(root, 'field.ferry')
    await createSyncFile(b!, file)
    const before = await verifySyncFile(b!, file)
    // Bit rot in the media store: the file no longer matches the hash it is stored under.
    const blobPath = a!.media.pathOf(hashes[0]!)
    const bytes = readFileSync(blobPath)
    bytes[100_000]! ^= 0x01
    writeFileSync(blobPath, bytes)

    const created = path.join(root, 'new.ferry')
    await expect(createSyncFile(a!, created)).rejects.toThrow(/damaged .*no longer matches its fingerprint/)
    expect(existsSync(created)).toBe(false)
    await expect(syncWithFile(a!, file)).rejects.toThrow(/no longer matches its fingerprint/)
    const after = await verifySyncFile(b!, file)
    expect({ ...after, tail: undefined, bytes: undefined }).toEqual({ ...before, tail: undefined, bytes: undefined })
  })
})

describe.each([0, 1, 3])('reading with %i worker threads', (workers) => {
  it('indexes only the versions it lacks from a chunk that holds some it has', async () => {
    const root = tempDir()
    const [a, b, c] = await devices(3)
    for (let i = 0; i < 3; i++) await addObservation(b!)
    for (let i = 0; i < 2; i++) await addObservation(a!)
    const first = path.join(root, 'first.ferry')
    await createSyncFile(a!, first)
    await syncWithFile(c!, first, { workerThreads: workers })
    for (let i = 0; i < 3; i++) await addObservation(a!)
    const fromB = path.join(root, 'b.ferry')
    await createSyncFile(b!, fromB)
    await syncWithFile(a!, fromB)
    // One segment, one records chunk: a's versions 1-5 (c holds 1-2) and b's 1-3.
    const second = path.join(root, 'second.ferry')
    await createSyncFile(a!, second)
    const report = await syncWithFile(c!, second, { workerThreads: workers })
    expect(report.received.versions).toBe(6)
    expect(fingerprint(c!)).toBe(fingerprint(a!))
  })

  it('reports the first damage in the file, even when later chunks are read while it is being checked', async () => {
    const root = tempDir()
    const [a, c] = await devices(2)
    const file = path.join(root, 'field.ferry')
    await createSyncFile(c!, file)
    const e1 = sealOn(a!, 1, null, { schemaName: 'observation', lat: 1, lon: 2, tags: {}, attachments: [] })
    const e3 = sealOn(a!, 3, envelopeHash(e1), { schemaName: 'observation', lat: 1, lon: 2, tags: {}, attachments: [] })
    // A gap in the first chunk; unreadable records chunks and a photo piece nobody listed after it.
    const reader = await SyncFileReader.open(nodeDisk, file, c!.projectSecret, c!.projectId, () => '')
    const state = await reader.state()
    await reader.close()
    const last = state.commits.at(-1)!
    const writer = await SegmentWriter.appendTo(nodeDisk, file, c!.projectSecret, reader.header, state.validEnd)
    await writer.add(ChunkKind.records, encodeRecords([e1, e3]))
    await writer.add(ChunkKind.records, randomBytes(500))
    await writer.add(ChunkKind.records, randomBytes(500))
    await writer.add(ChunkKind.blob, Buffer.concat([randomBytes(32), Buffer.alloc(8), randomBytes(10)]))
    await writer.commit({ ...last, n: last.n + 1, prev: last.offset, clock: new Map([[a!.info.deviceId, 3]]), blobs: [], writer: c!.info.deviceId, at: new Date().toISOString() })
    await writer.close()

    const before = fingerprint(c!)
    await expect(syncWithFile(c!, file, { workerThreads: workers })).rejects.toThrow(/missing or out of order/)
    await expect(verifySyncFile(c!, file, { workerThreads: workers })).rejects.toThrow(/missing or out of order/)
    expect(fingerprint(c!)).toBe(before)
  })
})
