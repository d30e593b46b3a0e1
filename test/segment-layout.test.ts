import { randomBytes } from 'node:crypto'
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { createSyncFile, syncWithFile } from '../src/merge/merge.js'
import { verifySyncFile } from '../src/merge/verify.js'
import { ChunkKind, FOOTER_BYTES, FRAME_BYTES, HEADER_BYTES } from '../src/syncfile/format.js'
import type { BlobRecord } from '../src/store/blob-record.js'
import type { Store } from '../src/store/store.js'
import { testStores } from './helpers/stores.js'
import { tempDir } from './helpers/tmp.js'

const { devices } = testStores('layout', 'Layout')

/** The chunks of a file's first segment, in file order, read from their clear frames: kind and offset. */
function chunksOf(file: string): Array<{ kind: number; at: number }> {
  const bytes = readFileSync(file)
  const chunks: Array<{ kind: number; at: number }> = []
  for (let at = HEADER_BYTES; at < bytes.length; ) {
    const kind = bytes[at + 4]!
    chunks.push({ kind, at })
    if (kind === ChunkKind.commit) break
    at += FRAME_BYTES + bytes.readUInt32BE(at)
  }
  return chunks
}

function chunkKinds(file: string): number[] {
  return chunksOf(file).map((c) => c.kind)
}

/** Every file under `dir`, recursively (none when it does not exist). */
function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return []
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => path.join(e.parentPath, e.name))
}

/** A writer holding ~1,500 observations and six photos of two pieces each, and a device to receive them. */
async function writerWithPhotos(): Promise<{ writer: Store; reader: Store; blobs: BlobRecord[]; dir: string }> {
  const [writer, reader] = await devices(2)
  if (!writer || !reader) throw new Error('two devices expected')
  const dir = tempDir()
  // ~1,500 versions of ~1 KiB (three or four 512 KiB records chunks) and six photos of two pieces each.
  const blobs: BlobRecord[] = []
  for (let i = 0; i < 6; i++) {
    const photo = path.join(dir, `photo-${i}`)
    writeFileSync(photo, randomBytes(1024 * 1024 + 1000))
    blobs.push(await writer.media.addFile(photo))
  }
  const note = 'n'.repeat(700)
  const changes = Array.from({ length: 1500 }, (_, i) => ({
    value: {
      schemaName: 'observation',
      lat: i / 100,
      lon: 1,
      tags: { note },
      attachments: i < blobs.length ? [{ driveDiscoveryId: writer.info.deviceId, name: `p${i}`, type: 'photo', hash: blobs[i]!.hash, external: true }] : [],
    },
  }))
  await writer.writeLocal(changes, blobs)
  return { writer: writer, reader: reader, blobs, dir }
}

describe('segment layout: records and photos interleaved', () => {
  it('places whole photos between records chunks in proportion, and a device reads them all back', async () => {
    const { writer, reader, blobs, dir } = await writerWithPhotos()
    const file = path.join(dir, 'field.ferry')
    await createSyncFile(writer, file)

    const kinds = chunkKinds(file)
    const records = kinds.flatMap((k, i) => (k === ChunkKind.records ? [i] : []))
    const pieces = kinds.flatMap((k, i) => (k === ChunkKind.blob ? [i] : []))
    expect(records.length).toBeGreaterThanOrEqual(3)
    expect(pieces).toHaveLength(12)
    // Records come first (a reader starts checking at once); photos follow each records chunk, not all at the end.
    expect(kinds[0]).toBe(ChunkKind.records)
    expect(pieces.filter((i) => i < records.at(-1)!).length).toBeGreaterThan(0)
    // Whole photos only: every run of pieces between records chunks is an even number (two pieces per photo).
    const runs = kinds
      .join('')
      .split(String(ChunkKind.records))
      .map((run) => run.replaceAll(String(ChunkKind.commit), '').length)
    for (const run of runs) expect(run % 2).toBe(0)

    const report = await verifySyncFile(reader, file)
    expect([report.versions, report.blobs]).toEqual([1500, 6])
    const received = await syncWithFile(reader, file)
    expect([received.received.versions, received.received.blobs]).toEqual([1500, 6])
    expect(reader.countObservations()).toBe(1500)
    for (const blob of blobs) expect(reader.hasBlob(blob.hash)).toBe(true)
    const fileAfter = readFileSync(file)
    expect(fileAfter.subarray(fileAfter.length - FOOTER_BYTES + 8).toString()).toBe('FERRYCMT')
  })

  it('a file damaged after some of its photos leaves no photo behind on the receiving device', async () => {
    const { writer, reader, blobs, dir } = await writerWithPhotos()
    const file = path.join(dir, 'field.ferry')
    await createSyncFile(writer, file)
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
})
