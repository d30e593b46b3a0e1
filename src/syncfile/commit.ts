import type { MediaPolicy } from '../merge/types.js'
import { decodeCborSafely, encodeCbor } from '../store/cbor.js'
import { FOOTER_BYTES } from './format.js'
import type { BlobRecord, BlobVariant } from '../store/blob-record.js'

const VARIANT_CODES: Record<BlobVariant, number> = { preview: 1, thumbnail: 2 }
const VARIANTS_BY_CODE: Record<number, BlobVariant> = { 1: 'preview', 2: 'thumbnail' }

/**
 * A commit records what the file holds once everything before it is on disk: per device the newest version held
 * (the file, like a data folder, holds each device's log as a contiguous prefix), the blobs this commit's segment
 * added, and the SHA-256 of the segment's bytes. Commits link back to the previous one, so the whole history of
 * a file is reachable from its last commit without reading the data in between.
 */
export interface Commit {
  n: number
  /** Offset of this commit's chunk. */
  offset: number
  prev: number | null
  /** The segment this commit closes: [segmentStart, offset). */
  segmentStart: number
  segmentHash: Buffer
  clock: Map<string, number>
  /**
   * Per device, the SHA-256 of the newest envelope the file holds (the one `clock` names), for the devices whose
   * newest envelope the writer knew. A reader compares them with its own: a data folder restored from a backup
   * writes again under record numbers it had already used, and only the hashes tell the two histories apart.
   * Files written before tips existed have none: an empty map.
   */
  tips: Map<string, Buffer>
  /** Blobs whose chunks are in this commit's segment (a preview or thumbnail names its original). */
  blobs: BlobRecord[]
  totals: { versions: number; blobs: number; blobBytes: number }
  media: MediaPolicy
  writer: string
  at: string
}

/** What a writer gives: `tips` may be left out (a commit without them reads as one from before they existed). */
export type CommitFields = Omit<Commit, 'offset' | 'tips'> & { tips?: Map<string, Buffer> }

/** Offset just past a commit's footer: where the next segment starts. */
export function commitEnd(commit: Commit, chunkLength: number): number {
  return commit.offset + chunkLength + FOOTER_BYTES
}

export function encodeCommit(c: CommitFields): Buffer {
  return encodeCbor({
    n: c.n,
    prev: c.prev,
    segmentStart: c.segmentStart,
    segmentHash: c.segmentHash,
    clock: byDevice(c.clock),
    ...(c.tips?.size ? { tips: byDevice(c.tips) } : {}),
    blobs: c.blobs.map((b) => (b.variant && b.of ? [Buffer.from(b.hash, 'hex'), b.size, VARIANT_CODES[b.variant], Buffer.from(b.of, 'hex')] : [Buffer.from(b.hash, 'hex'), b.size])),
    totals: c.totals,
    media: c.media,
    writer: Buffer.from(c.writer, 'hex'),
    at: c.at,
  })
}

/** A per-device map as CBOR: `[device bytes, value]` pairs, sorted by device, so equal maps encode alike. */
function byDevice<T>(map: ReadonlyMap<string, T>): Array<[Buffer, T]> {
  return [...map].sort(([a], [b]) => (a < b ? -1 : 1)).map(([device, value]) => [Buffer.from(device, 'hex'), value])
}

const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0
const isBytes32 = (v: unknown): v is Uint8Array => v instanceof Uint8Array && v.length === 32
// A view, not a copy: a commit of a file with thousands of photos has two of these per photo.
const hex = (b: Uint8Array) => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex')

/** Decodes a commit's plaintext; undefined when its shape is wrong (treated as damage by the caller). */
export function decodeCommit(plaintext: Buffer, offset: number): Commit | undefined {
  const decoded = decodeCborSafely(plaintext)
  if (!decoded.ok) return undefined
  const c = decoded.value as Record<string, unknown>
  if (typeof c !== 'object' || c === null) return undefined
  if (!isCount(c.n) || c.n < 1 || !(c.prev === null || isCount(c.prev)) || !isCount(c.segmentStart)) return undefined
  if (!isBytes32(c.segmentHash) || !isBytes32(c.writer) || typeof c.at !== 'string') return undefined
  if (c.media !== 'all' && c.media !== 'previews' && c.media !== 'none') return undefined
  if (!Array.isArray(c.clock) || !Array.isArray(c.blobs)) return undefined
  const clock = new Map<string, number>()
  for (const entry of c.clock as unknown[]) {
    if (!Array.isArray(entry) || !isBytes32(entry[0]) || !isCount(entry[1]) || entry[1] < 1) return undefined
    clock.set(hex(entry[0]), entry[1])
  }
  // Optional: commits written before tips existed have none.
  const tips = new Map<string, Buffer>()
  if (c.tips !== undefined) {
    if (!Array.isArray(c.tips)) return undefined
    for (const entry of c.tips as unknown[]) {
      if (!Array.isArray(entry) || !isBytes32(entry[0]) || !isBytes32(entry[1]) || !clock.has(hex(entry[0]))) return undefined
      tips.set(hex(entry[0]), Buffer.from(entry[1]))
    }
  }
  const blobs: Commit['blobs'] = []
  for (const entry of c.blobs as unknown[]) {
    if (!Array.isArray(entry) || !isBytes32(entry[0]) || !isCount(entry[1])) return undefined
    if (entry.length === 2) {
      blobs.push({ hash: hex(entry[0]), size: entry[1] })
      continue
    }
    const variant = VARIANTS_BY_CODE[entry[2] as number]
    if (entry.length !== 4 || !variant || !isBytes32(entry[3])) return undefined
    blobs.push({ hash: hex(entry[0]), size: entry[1], variant, of: hex(entry[3]) })
  }
  const t = c.totals as Record<string, unknown> | undefined
  if (!t || !isCount(t.versions) || !isCount(t.blobs) || !isCount(t.blobBytes)) return undefined
  return {
    n: c.n,
    offset,
    prev: c.prev,
    segmentStart: c.segmentStart,
    segmentHash: Buffer.from(c.segmentHash),
    clock,
    tips,
    blobs,
    totals: { versions: t.versions, blobs: t.blobs, blobBytes: t.blobBytes },
    media: c.media,
    writer: hex(c.writer),
    at: c.at,
  }
}
