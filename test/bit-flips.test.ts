import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { FerryError } from '../src/errors.js'
import { toJsonExport } from '../src/documents/export-format.js'
import { createSyncFile, syncWithFile } from '../src/merge/merge.js'
import { verifySyncFile } from '../src/merge/verify.js'
import { Store } from '../src/store/store.js'

/**
 * Every single-bit flip, at every byte of a small real file (two commits, records and a photo), is caught: verify
 * refuses it, and a device that needs all of it refuses to sync, with its database unchanged.
 */
let root: string
let writer: Store
let reader: Store
let original: Buffer

beforeAll(async () => {
  root = mkdtempSync(path.join(os.tmpdir(), 'ferry-flips-'))
  writer = await Store.create(path.join(root, 'writer'), { name: 'Flips' })
  reader = await Store.create(path.join(root, 'reader'), { name: 'Flips', secret: writer.projectSecret })
  writeFileSync(path.join(root, 'photo'), Buffer.alloc(3000, 7))
  const blob = await writer.media.addFile(path.join(root, 'photo'))
  const attachments = [{ driveDiscoveryId: writer.info.deviceId, name: 'p', type: 'photo', hash: blob.hash, external: true }]
  await writer.writeLocal([{ value: { schemaName: 'observation', lat: 1, lon: 2, tags: { a: 'b' }, attachments } }], [blob])
  const file = path.join(root, 'f.ferry')
  await createSyncFile(writer, file)
  await writer.writeLocal([{ value: { schemaName: 'observation', lat: 3, lon: 4, tags: { c: 'd' }, attachments: [] } }])
  await syncWithFile(writer, file)
  original = readFileSync(file)
})

afterAll(async () => {
  await writer.close()
  await reader.close()
  rmSync(root, { recursive: true, force: true })
})

describe('single-bit damage anywhere in a committed file', () => {
  it('is refused by verify at every byte position', async () => {
    expect((await verifySyncFile(writer, path.join(root, 'f.ferry'))).versions).toBe(2)
    const copy = path.join(root, 'flipped.ferry')
    let caught = 0
    for (let at = 0; at < original.length; at++) {
      const damaged = Buffer.from(original)
      damaged[at]! ^= 1 << at % 8
      writeFileSync(copy, damaged)
      const error = await verifySyncFile(writer, copy).then(() => undefined, (e: unknown) => e)
      expect(error, `flip at byte ${at} of ${original.length} was not caught`).toBeInstanceOf(FerryError)
      expect(['damaged', 'other-project', 'newer-format']).toContain((error as FerryError).kind)
      caught++
    }
    expect(caught).toBe(original.length)
  })

  it('is refused by a sync that needs it, leaving the database unchanged', async () => {
    const copy = path.join(root, 'flipped-sync.ferry')
    const before = toJsonExport(reader.currentVersions())
    for (let at = 0; at < original.length; at += 3) {
      const damaged = Buffer.from(original)
      damaged[at]! ^= 0x80 >> at % 8
      writeFileSync(copy, damaged)
      const error = await syncWithFile(reader, copy).then(() => undefined, (e: unknown) => e)
      expect(error, `flip at byte ${at} was synced`).toBeInstanceOf(FerryError)
      expect(toJsonExport(reader.currentVersions())).toBe(before)
      expect(reader.clock().size).toBe(0)
      expect(readFileSync(copy).equals(damaged)).toBe(true)
    }
  })
})
