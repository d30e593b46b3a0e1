import type { Commit } from '../syncfile/commit.js'
import { ChunkKind } from '../syncfile/format.js'
import type { SyncFileReader } from '../syncfile/reader.js'
import { BlobAssembly, type BlobSink } from './blob-assembly.js'
import type { ChainTips } from './chain-tips.js'
import { ForkedHistory } from './history-tips.js'
import type { CheckedChunk, RecordChecker } from './record-checker.js'
import { RecordEntries } from './records-check.js'
import { envelopeHash } from '../store/version.js'

export interface SegmentVisitor {
  /** true: a version the reader already holds is skipped (a sync); false: it is damage (verify reads from nothing). */
  skipKnown: boolean
  /**
   * A new version that continued its device's chain. `envelope` is a view into its chunk; `hash` is its own.
   */
  onVersion?(deviceId: string, seq: number, envelope: Buffer, hash: Buffer): void
  /** After a chunk's new versions: their packed summaries (summary-log.ts), device indexes into `devices`. */
  onSummaries?(summaries: Buffer, count: number, devices: readonly string[]): void
  /** After each chunk is read, with its plaintext size; may throw to stop (an abort) or wait (backpressure). */
  afterChunk?(bytes: number): Promise<void> | void
}

/** How a walk checks versions: the checker does the work that needs no order, the tips the rest. */
export interface RecordReading {
  checker: RecordChecker
  tips: ChainTips
}

interface Pending {
  offset: number
  result: Promise<CheckedChunk>
}

/**
 * Reads one commit's segment, checking every record against the device chains and reassembling every blob into
 * `sink`, as both a sync and `verify` do. Returns the blobs completed. Any problem is a damaged-file error that
 * names where it is.
 *
 * Records chunks go to the checker and are read on while it works: up to a few per checking thread are in flight,
 * and their results are taken in file order, so versions reach the chains and the visitor in the order written.
 */
export async function walkSegment(reader: SyncFileReader, commit: Commit, records: RecordReading, sink: BlobSink, visitor: SegmentVisitor): Promise<BlobAssembly['completed']> {
  const blobs = new BlobAssembly(new Map(commit.blobs.map((b) => [b.hash, b.size])), sink)
  const pending: Pending[] = []
  const maxPending = 2 * records.checker.parallelism
  let recordsFailed = false
  const takeOldest = async () => {
    const oldest = pending.shift()!
    try {
      takeRecords(reader, await oldest.result, oldest.offset, records.tips, visitor)
    } catch (err) {
      recordsFailed = true
      throw err
    }
  }
  try {
    for await (const chunk of reader.segment(commit)) {
      const bytes = chunk.plaintext.length
      if (chunk.kind === ChunkKind.records) {
        const result = records.checker.check(chunk.plaintext)
        result.catch(() => undefined) // awaited in turn below; never an unhandled rejection meanwhile
        pending.push({ offset: chunk.offset, result })
        while (pending.length > maxPending) await takeOldest()
      } else {
        const problem = await blobs.piece(chunk.plaintext)
        if (problem) throw reader.damagedAt(chunk.offset, problem)
      }
      await visitor.afterChunk?.(bytes)
    }
    while (pending.length > 0) await takeOldest()
    const problem = await blobs.end()
    if (problem) throw reader.damagedAt(commit.offset, problem)
    return blobs.completed
  } catch (err) {
    await blobs.abort()
    // Chunks still with the checker come before whatever failed here: a problem in one of them is the first one.
    if (!recordsFailed) while (pending.length > 0) await takeOldest()
    throw err
  }
}

/** Places a checked chunk's versions on their chains, in order, and hands the new ones to the visitor. */
function takeRecords(reader: SyncFileReader, { plaintext, checked }: CheckedChunk, offset: number, tips: ChainTips, visitor: SegmentVisitor): void {
  const entries = new RecordEntries(checked, plaintext)
  const taken: number[] = []
  let nextInvalid = 0
  for (let i = 0; i < checked.count; i++) {
    entries.at(i)
    const placed = tips.place(entries)
    if (placed === 'known') {
      if (visitor.skipKnown) continue
      throw reader.damagedAt(offset, 'a record appears twice')
    }
    if (placed !== 'next') throw placed.forked ? new ForkedHistory(entries.deviceId) : reader.damagedAt(offset, placed.problem)
    while (nextInvalid < checked.invalid.length && checked.invalid[nextInvalid]! < i) nextInvalid++
    if (checked.invalid[nextInvalid] === i) throw reader.damagedAt(offset, `observation ${entries.docId().slice(0, 12)}… is not a valid document`)
    const envelope = entries.envelope()
    const hash = envelopeHash(envelope)
    const deviceId = entries.deviceId
    const seq = entries.seq
    tips.advance(deviceId, seq, hash, envelope)
    visitor.onVersion?.(deviceId, seq, envelope, hash)
    taken.push(i)
  }
  if (checked.problem !== undefined) throw reader.damagedAt(offset, checked.problem)
  tips.settle()
  if (visitor.onSummaries && taken.length > 0) visitor.onSummaries(summariesOf(entries, taken), taken.length, checked.devices)
}

/** The packed summaries of the taken entries: all of them as they are, or the taken ones copied out. */
function summariesOf(entries: RecordEntries, taken: readonly number[]): Buffer {
  const { checked } = entries
  if (taken.length === checked.count) return checked.summaries
  const ranges = taken.map((i) => entries.at(i).summaryRange())
  return Buffer.concat(ranges.map(([start, end]) => checked.summaries.subarray(start, end)))
}
