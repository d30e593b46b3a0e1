import { readFileSync } from 'node:fs'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { createSyncFile, syncWithFile } from '../src/merge/merge.js'
import { verifySyncFile } from '../src/merge/verify.js'
import { ChunkKind, FOOTER_BYTES } from '../src/syncfile/format.js'
import { chunksOf, withPhotos } from './helpers/photo-files.js'
import { testStores } from './helpers/stores.js'

const { devices } = testStores('layout', 'Layout')

function chunkKinds(file: string): number[] {
  return chunksOf(file).map((c) => c.kind)
}

describe('segment layout: records and photos interleaved', () => {
  it('places whole photos between records chunks in proportion, and a device reads them all back', async () => {
    const [writer, reader] = await devices(2)
    const { blobs, dir } = await withPhotos(writer!)
    const file = path.join(dir, 'field.ferry')
    await createSyncFile(writer!, file)

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

    const report = await verifySyncFile(reader!, file)
    expect([report.versions, report.blobs]).toEqual([1500, 6])
    const received = await syncWithFile(reader!, file)
    expect([received.received.versions, received.received.blobs]).toEqual([1500, 6])
    expect(reader!.countObservations()).toBe(1500)
    for (const blob of blobs) expect(reader!.hasBlob(blob.hash)).toBe(true)
    const fileAfter = readFileSync(file)
    expect(fileAfter.subarray(fileAfter.length - FOOTER_BYTES + 8).toString()).toBe('FERRYCMT')
  })
})
