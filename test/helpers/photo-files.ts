import { randomBytes } from 'node:crypto'
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { ChunkKind, FRAME_BYTES, HEADER_BYTES } from '../../src/syncfile/format.js'
import type { BlobRecord } from '../../src/store/blob-record.js'
import type { Store } from '../../src/store/store.js'
import { tempDir } from './tmp.js'

/** The chunks of a file's first segment, in file order, read from their clear frames: kind and offset. */
export function chunksOf(file: string): Array<{ kind: number; at: number }> {
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

/** Every file under `dir`, recursively (none when it does not exist). */
export function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return []
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => path.join(e.parentPath, e.name))
}

/**
 * Gives `writer` ~1,500 observations of ~1 KiB (three or four 512 KiB records chunks in a sync file) and six photos
 * of two pieces each, attached to the first six. Returns the photos and the folder they were made in.
 */
export async function withPhotos(writer: Store): Promise<{ blobs: BlobRecord[]; dir: string }> {
  const dir = tempDir()
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
  return { blobs, dir }
}
