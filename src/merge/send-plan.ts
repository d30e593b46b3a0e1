import type { Store } from '../store/store.js'
import type { Commit } from '../syncfile/commit.js'
import { BLOB_PIECE_BYTES, BLOB_PIECE_HEADER, ChunkKind, FOOTER_BYTES, FRAME_BYTES, RECORDS_CHUNK_TARGET, TAG_BYTES } from '../syncfile/format.js'
import type { SegmentWriter } from '../syncfile/writer.js'
import { encodeRecords } from './records.js'
import { BlobSender } from './blob-sending.js'
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
    // The clock keeps each log's size, so sizing the range reads one block header at most, never the range.
    // 5 bytes a version covers its CBOR byte-string header.
    versionBytes += tip.bytes - store.bytesThrough(deviceId, held) + 5 * (tip.seq - held)
  }
  const blobs: SendPlan['blobs'] = []
  let blobBytes = 0
  if (media !== 'none') {
    const inFile = new Set(commits.flatMap((c) => c.blobs.map((b) => b.hash)))
    // Counted before listed: when this device holds exactly the file's blobs there is nothing to send, and a
    // no-change sync of a file with thousands of photos need not read every blob's key to find that out.
    const holdsExactlyTheFiles = store.blobCount() === inFile.size && [...inFile].every((hash) => store.hasBlob(hash))
    const candidates = holdsExactlyTheFiles ? [] : store.blobEntries((hash) => inFile.has(hash))
    for (const blob of candidates) {
      if (media === 'previews' && !blob.variant) continue
      blobs.push(blob)
      blobBytes += blob.size
    }
  }
  const recordChunks = Math.ceil(versionBytes / RECORDS_CHUNK_TARGET) + ranges.length
  const blobPieces = blobs.reduce((n, b) => n + Math.max(1, Math.ceil(b.size / BLOB_PIECE_BYTES)), 0)
  // Per device a clock entry and a tip (device id and hash, ~70 bytes in CBOR): 48 + 72 covers both.
  const commitBytes = 512 + 48 * blobs.length + (48 + 72) * newClock.size + CHUNK_OVERHEAD + FOOTER_BYTES
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

/**
 * Writes the plan's records and blobs as chunks, interleaved in proportion to their bytes: after each records
 * chunk, whole blobs until the share of blob bytes sent catches up with the share of records sent. A reader then
 * stores the photos between records chunks while its worker threads check the records (segment-walk.ts), instead
 * of checking every record first and storing every photo after. `onProgress` may throw to stop (abort).
 */
export async function writeSegment(store: Store, writer: SegmentWriter, plan: SendPlan, onProgress: (versions: number, bytes: number) => void): Promise<void> {
  const blobs = new BlobSender(store, writer, plan.blobs, onProgress)
  try {
    let batch: Buffer[] = []
    let batchBytes = 0
    let recordBytesSent = 0
    const flush = async () => {
      if (batch.length === 0) return
      await writer.add(ChunkKind.records, encodeRecords(batch))
      onProgress(batch.length, batchBytes)
      recordBytesSent += batchBytes
      batch = []
      batchBytes = 0
      // plan.versionBytes is an estimate a little above the truth; the last blobs go after the last chunk anyway.
      await blobs.sendThrough((plan.blobBytes * recordBytesSent) / Math.max(1, plan.versionBytes))
    }
    for (const range of plan.ranges) {
      for (const envelope of store.envelopes(range.deviceId, range.from, range.to)) {
        batch.push(envelope)
        batchBytes += envelope.length
        if (batchBytes >= RECORDS_CHUNK_TARGET) await flush()
      }
    }
    await flush()
    await blobs.sendThrough(Infinity)
  } finally {
    await blobs.close()
  }
}
