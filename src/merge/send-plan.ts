import { createHash } from 'node:crypto'
import { diskError, FerryError } from '../errors.js'
import type { Store } from '../store/store.js'
import type { Commit } from '../syncfile/commit.js'
import { BLOB_PIECE_BYTES, BLOB_PIECE_HEADER, ChunkKind, FOOTER_BYTES, FRAME_BYTES, RECORDS_CHUNK_TARGET, TAG_BYTES } from '../syncfile/format.js'
import type { SegmentWriter } from '../syncfile/writer.js'
import type { DiskFile } from '../fs/disk.js'
import { encodeRecords } from './records.js'
import type { MediaPolicy } from './types.js'
import type { BlobRecord } from '../store/blob-record.js'

/** What this device will append to a file: per device the range the file lacks, and the blobs it lacks. */
export interface SendPlan {
  ranges: Array<{ deviceId: string; from: number; to: number }>
  versionCount: number
  versionBytes: number
  blobs: BlobRecord[]
  blobBytes: number
  /** The file's clock once the segment is committed. */
  newClock: Map<string, number>
  /** Bytes the append will take on the drive, framing included. */
  estimatedBytes: number
  isEmpty: boolean
}

const CHUNK_OVERHEAD = FRAME_BYTES + TAG_BYTES

export function planSend(store: Store, fileClock: Map<string, number>, commits: Commit[], media: MediaPolicy): SendPlan {
  const ranges: SendPlan['ranges'] = []
  const newClock = new Map(fileClock)
  let versionCount = 0
  let versionBytes = 0
  for (const [deviceId, tip] of store.clock()) {
    const held = fileClock.get(deviceId) ?? 0
    if (tip.seq <= held) continue
    ranges.push({ deviceId, from: held + 1, to: tip.seq })
    newClock.set(deviceId, tip.seq)
    versionCount += tip.seq - held
    for (const envelope of store.envelopes(deviceId, held + 1, tip.seq)) versionBytes += envelope.length + 5
  }
  const blobs: SendPlan['blobs'] = []
  let blobBytes = 0
  if (media !== 'none') {
    const inFile = new Set(commits.flatMap((c) => c.blobs.map((b) => b.hash)))
    for (const blob of store.blobEntries((hash) => inFile.has(hash))) {
      if (media === 'previews' && !blob.variant) continue
      blobs.push(blob)
      blobBytes += blob.size
    }
  }
  const recordChunks = Math.ceil(versionBytes / RECORDS_CHUNK_TARGET) + ranges.length
  const blobPieces = blobs.reduce((n, b) => n + Math.max(1, Math.ceil(b.size / BLOB_PIECE_BYTES)), 0)
  const commitBytes = 512 + 48 * blobs.length + 48 * newClock.size + CHUNK_OVERHEAD + FOOTER_BYTES
  return {
    ranges,
    versionCount,
    versionBytes,
    blobs,
    blobBytes,
    newClock,
    estimatedBytes: versionBytes + recordChunks * CHUNK_OVERHEAD + blobBytes + blobPieces * (CHUNK_OVERHEAD + BLOB_PIECE_HEADER) + commitBytes,
    isEmpty: versionCount === 0 && blobs.length === 0,
  }
}

/** Writes the plan's records, then its blobs, as chunks. `onProgress` may throw to stop (abort). */
export async function writeSegment(store: Store, writer: SegmentWriter, plan: SendPlan, onProgress: (versions: number, bytes: number) => void): Promise<void> {
  let batch: Buffer[] = []
  let batchBytes = 0
  const flush = async () => {
    if (batch.length === 0) return
    await writer.add(ChunkKind.records, encodeRecords(batch))
    onProgress(batch.length, batchBytes)
    batch = []
    batchBytes = 0
  }
  for (const range of plan.ranges) {
    for (const envelope of store.envelopes(range.deviceId, range.from, range.to)) {
      batch.push(envelope)
      batchBytes += envelope.length
      if (batchBytes >= RECORDS_CHUNK_TARGET) await flush()
    }
  }
  await flush()
  for (const blob of plan.blobs) await writeBlob(store, writer, blob, onProgress)
}

/**
 * Streams one blob from the media store into pieces, checking it against its hash as it goes. The next piece is
 * read while the current one is hashed, encrypted and queued, so the disk never waits for the CPU.
 */
async function writeBlob(store: Store, writer: SegmentWriter, blob: BlobRecord, onProgress: (versions: number, bytes: number) => void): Promise<void> {
  const hashBytes = Buffer.from(blob.hash, 'hex')
  const hasher = createHash('sha256')
  let file: DiskFile
  try {
    file = await store.media.openBlob(blob.hash)
  } catch (err) {
    throw diskError(err, store.media.pathOf(blob.hash))
  }
  const readPiece = async (at: number): Promise<Buffer> => {
    const length = Math.min(BLOB_PIECE_BYTES, blob.size - at)
    const piece = Buffer.allocUnsafe(BLOB_PIECE_HEADER + length)
    hashBytes.copy(piece, 0)
    piece.writeBigUInt64BE(BigInt(at), 32)
    let filled = 0
    while (filled < length) {
      const n = await file.read(piece, BLOB_PIECE_HEADER + filled, length - filled, at + filled)
      if (n === 0) throw mediaDamaged(blob.hash)
      filled += n
    }
    return piece
  }
  try {
    let at = 0
    let next = readPiece(0)
    do {
      const piece = await next
      const length = piece.length - BLOB_PIECE_HEADER
      at += length
      if (at < blob.size) next = readPiece(at)
      next.catch(() => undefined) // awaited on the next turn; never an unhandled rejection meanwhile
      hasher.update(piece.subarray(BLOB_PIECE_HEADER))
      await writer.add(ChunkKind.blob, piece)
      onProgress(0, length)
    } while (at < blob.size)
    if (hasher.digest('hex') !== blob.hash) throw mediaDamaged(blob.hash)
  } finally {
    await file.close()
  }
}

function mediaDamaged(hash: string): FerryError {
  return new FerryError('io', `A photo on this computer is damaged (${hash.slice(0, 12)}… no longer matches its fingerprint), so it was not copied. The sync file was not changed. Run \`ferry verify\` on a good copy, or remove that photo.`)
}
