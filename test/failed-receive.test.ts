import { readdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { describe, expect, it, vi } from 'vitest'
import { FerryError } from '../src/errors.js'
import { FaultyDisk } from '../src/fs/faulty-disk.js'
import { nodeDisk } from '../src/fs/node-disk.js'
import { createSyncFile, syncWithFile } from '../src/merge/merge.js'
import { salvageSyncFile } from '../src/merge/salvage.js'
import { lockSyncFile } from '../src/merge/sync-file-lock.js'
import { ChunkKind, FRAME_BYTES } from '../src/syncfile/format.js'
import type { BlobRecord } from '../src/store/blob-record.js'
import { Store } from '../src/store/store.js'
import { chunksOf, filesUnder, withPhotos } from './helpers/photo-files.js'
import { tempDir } from './helpers/tmp.js'
import { testStores } from './helpers/stores.js'

const { devices, track, untrack } = testStores('failed-receive', 'Failed receive')

/** A writer with observations and photos (helpers/photo-files.ts), its sync file, and a device to receive it. */
async function fileWithPhotos(): Promise<{ reader: Store; blobs: BlobRecord[]; file: string }> {
  const [writer, reader] = await devices(2)
  const { blobs, dir } = await withPhotos(writer!)
  const file = path.join(dir, 'field.ferry')
  await createSyncFile(writer!, file)
  return { reader: reader!, blobs, file }
}

/**
 * A receive stores photos as they arrive, before the records after them are checked. When it fails — a damaged
 * file, a disk that fails or fills — the receiving device must be left as it was: no photo on disk that its index
 * does not list, no temporary file, no file held open.
 */
describe('a failed receive leaves nothing behind', () => {
  it('a file damaged after some of its photos leaves no photo behind on the receiving device', async () => {
    const { reader, blobs, file } = await fileWithPhotos()
    // Damage the last records chunk: photos placed before it are stored by the time it is found unreadable.
    const chunks = chunksOf(file)
    const lastRecords = chunks.filter((c) => c.kind === ChunkKind.records).at(-1)!
    expect(chunks.findIndex((c) => c.kind === ChunkKind.blob)).toBeLessThan(chunks.indexOf(lastRecords))
    const bytes = readFileSync(file)
    bytes[lastRecords.at + FRAME_BYTES + 100]! ^= 0xff
    writeFileSync(file, bytes)

    await expect(syncWithFile(reader, file)).rejects.toThrow(/damaged/)
    expect(reader.countObservations()).toBe(0)
    for (const blob of blobs) expect(reader.hasBlob(blob.hash)).toBe(false)
    expect(filesUnder(path.join(reader.media.root, 'blobs'))).toEqual([])
    expect(filesUnder(path.join(reader.media.root, 'tmp'))).toEqual([])
  })

  it('a photo whose write fails half-way leaves no temporary file and no open file behind', async () => {
    const { reader, file } = await fileWithPhotos()
    // Every photo here comes in two pieces: the first write of the receive is the first photo's first piece, and
    // its failure is found when the second piece is handed over.
    untrack(reader)
    await reader.close()
    const disk = new FaultyDisk(nodeDisk, { op: 'write', at: 1, code: 'ENOSPC' })
    const faulty = await Store.open(reader.dataDir, { disk })
    track(faulty)

    await expect(syncWithFile(faulty, file)).rejects.toThrow(FerryError)
    expect(disk.calls.filter((c) => c.op === 'write')[0]?.path).toMatch(/media\/tmp\/.*\.part$/)
    expect(filesUnder(path.join(faulty.media.root, 'tmp'))).toEqual([])
    expect(filesUnder(path.join(faulty.media.root, 'blobs'))).toEqual([])
    expect(openFilesUnder(faulty.media.root)).toEqual([])
  })

  it('when removing the staged records fails too (a full disk), the photos the receive stored are still removed', async () => {
    const { reader, blobs, file } = await fileWithPhotos()
    const full = new FerryError('io', 'The disk is full.')
    vi.spyOn(reader, 'commitIncoming').mockRejectedValueOnce(full)
    // Only the removal of what this receive staged fails (a receive also starts with one, given no stage).
    const discard = reader.discardIncoming.bind(reader)
    vi.spyOn(reader, 'discardIncoming').mockImplementation((stage) => (stage ? Promise.reject(full) : discard()))

    await expect(syncWithFile(reader, file)).rejects.toBe(full)
    for (const blob of blobs) expect(reader.hasBlob(blob.hash)).toBe(false)
    expect(filesUnder(path.join(reader.media.root, 'blobs'))).toEqual([])
  })

  it('a salvage that fails at its commit removes the photos it stored', async () => {
    const { reader, blobs, file } = await fileWithPhotos()
    const full = new FerryError('io', 'The disk is full.')
    vi.spyOn(reader, 'commitIncoming').mockRejectedValueOnce(full)

    await expect(salvageSyncFile(reader, file)).rejects.toBe(full)
    expect(reader.countObservations()).toBe(0)
    for (const blob of blobs) expect(reader.hasBlob(blob.hash)).toBe(false)
    expect(filesUnder(path.join(reader.media.root, 'blobs'))).toEqual([])
    expect(filesUnder(path.join(reader.media.root, 'tmp'))).toEqual([])
  })
})

/** Files under `dir` this process holds open. */
function openFilesUnder(dir: string): string[] {
  const fds = '/proc/self/fd'
  return readdirSync(fds)
    .map((fd) => {
      try {
        return readlinkSync(path.join(fds, fd))
      } catch {
        return '' // closed while listed
      }
    })
    .filter((target) => target.startsWith(dir))
}

describe('a sync whose file cannot be written after it received', () => {
  it('says this computer took in what the file brought, and keeps it', async () => {
    const [a, b] = await devices(2)
    await a!.writeLocal([{ value: { schemaName: 'observation', lat: 1, lon: 2, tags: {}, attachments: [] } }])
    await b!.writeLocal([{ value: { schemaName: 'observation', lat: 3, lon: 4, tags: {}, attachments: [] } }])
    const file = path.join(tempDir(), 'field.ferry')
    await createSyncFile(a!, file)
    const before = readFileSync(file)
    untrack(b!)
    await b!.close()
    // No photos travel, so the first write through the disk is the send's, appending to the file.
    const disk = new FaultyDisk(nodeDisk, { op: 'write', at: 1, code: 'EIO' })
    const faulty = await Store.open(b!.dataDir, { disk })
    track(faulty)

    const failed = await syncWithFile(faulty, file).catch((err: unknown) => err)
    expect(failed).toBeInstanceOf(FerryError)
    expect((failed as FerryError).exitCode).toBe(5)
    expect((failed as FerryError).message).toMatch(/This computer did take in what the file brought \(1 record, 0 media files\); only the file was not updated\.$/)
    expect((failed as FerryError).message).not.toMatch(/Nothing was changed/)
    expect(faulty.countObservations()).toBe(2)
    // The file is as it was, or ends with a cut-off append the next sync removes: its commit is the old one.
    expect(readFileSync(file).subarray(0, before.length).equals(before)).toBe(true)
  })
})

describe('two syncs of one sync file at once, from two data folders', () => {
  it('the second waits its turn ("busy"), so neither writes over the other', async () => {
    const [a, b] = await devices(2)
    await a!.writeLocal([{ value: { schemaName: 'observation', lat: 1, lon: 2, tags: {}, attachments: [] } }])
    await b!.writeLocal([{ value: { schemaName: 'observation', lat: 3, lon: 4, tags: {}, attachments: [] } }])
    const file = path.join(tempDir(), 'shared.ferry')
    await createSyncFile(a!, file)
    const before = readFileSync(file)
    // A's sync of the file in progress (its lock on the file, as syncWithFile takes it).
    const aSyncing = lockSyncFile(file)
    try {
      await expect(syncWithFile(b!, file)).rejects.toMatchObject({ kind: 'busy', message: expect.stringMatching(/a sync is already running/) })
      expect(readFileSync(file).equals(before)).toBe(true)
      expect(b!.countObservations()).toBe(1)
    } finally {
      aSyncing.release()
    }
    await syncWithFile(b!, file)
    expect(b!.countObservations()).toBe(2)
  })
})
