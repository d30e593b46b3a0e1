import type { Commit } from '../syncfile/commit.js'
import { ChunkKind } from '../syncfile/format.js'
import type { Chunk, SyncFileReader } from '../syncfile/reader.js'
import type { Version } from '../store/version.js'
import { BlobAssembly, type BlobSink } from './blob-assembly.js'
import { decodeRecords } from './records.js'
import type { VersionChains } from './version-chains.js'

export interface SegmentVisitor {
  /** A new version that continued its device's chain. */
  onVersion(version: Version, hash: Buffer, envelope: Buffer): void
  /** true: a version the reader already holds is skipped (a sync); false: it is damage (verify reads from nothing). */
  skipKnown: boolean
  /** After each chunk; may throw to stop (an abort) or wait (backpressure). */
  afterChunk?(chunk: Chunk): Promise<void> | void
}

/**
 * Reads one commit's segment, checking every record against the device chains and reassembling every blob into
 * `sink`, as both a sync and `verify` do. Returns the blobs completed. Any problem is a damaged-file error that
 * names where it is.
 */
export async function walkSegment(reader: SyncFileReader, commit: Commit, chains: VersionChains, sink: BlobSink, visitor: SegmentVisitor): Promise<BlobAssembly['completed']> {
  const blobs = new BlobAssembly(new Map(commit.blobs.map((b) => [b.hash, b.size])), sink)
  try {
    for await (const chunk of reader.segment(commit)) {
      if (chunk.kind === ChunkKind.records) {
        const envelopes = decodeRecords(chunk.plaintext)
        if (!envelopes) throw reader.damagedAt(chunk.offset, 'a group of records is unreadable')
        for (const envelope of envelopes) {
          const checked = chains.accept(envelope)
          if ('problem' in checked) throw reader.damagedAt(chunk.offset, checked.problem)
          if ('known' in checked) {
            if (visitor.skipKnown) continue
            throw reader.damagedAt(chunk.offset, 'a record appears twice')
          }
          visitor.onVersion(checked.version, checked.hash, envelope)
        }
      } else {
        const problem = await blobs.piece(chunk.plaintext)
        if (problem) throw reader.damagedAt(chunk.offset, problem)
      }
      await visitor.afterChunk?.(chunk)
    }
    const problem = await blobs.end()
    if (problem) throw reader.damagedAt(commit.offset, problem)
    return blobs.completed
  } catch (err) {
    await blobs.abort()
    throw err
  }
}
