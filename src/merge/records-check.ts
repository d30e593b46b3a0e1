import type { ObservationCheck } from '../store/comapeo-schema.js'
import { FieldReader } from '../store/length-prefixed.js'
import { packSummary, SUMMARY_DOC_ID, summaryBytesBound } from '../store/summary-log.js'
import { openEnvelope } from '../store/version.js'
import { decodeRecords } from './records.js'

/**
 * The expensive, order-free part of reading a records chunk: decode every envelope, check its shape and its
 * CoMapeo document, and pack what the index will need. It needs no state, so it runs wherever there is a
 * spare core (record-checker.ts, record-check-workers.ts): on a worker thread for a large read, in the calling
 * thread for a small one.
 * What depends on order — does a version continue its device's chain, is it one the receiver holds — is decided
 * afterwards, in the merge's thread, by ChainTips.
 *
 * The result is a few buffers rather than an object per version, so it crosses threads by transfer, not by copy.
 */
export interface CheckedRecords {
  /** The first envelope that could not be read, in words; the entries before it are still reported. */
  problem?: string
  /** Device ids the entries refer to by index. */
  devices: string[]
  count: number
  /** `count` entries of ENTRY_BYTES; read them with RecordEntries. */
  entries: Buffer
  /** One summary (summary-log.ts) per entry, its device index into `devices`. */
  summaries: Buffer
  /** Entries whose document is not a valid CoMapeo observation: a problem only if the receiver lacks them. */
  invalid: number[]
}

// Entry layout: envelope start u32 | envelope end u32 | device index u16 | seq f64 | has prev u8 | prev (32) |
// summary start u32 | summary end u32, all within the chunk's plaintext and `summaries`.
//
// No envelope hash: the merge's thread computes it when it takes an entry (segment-walk.ts). On two cores the
// worker thread checking records was the one the merge waited for, and the merge's thread had time to spare: hashing
// there, a 100,000-version import takes ~6 % less time (two runs of 7 alternating: 1639 → 1533 ms, 1709 → 1606 ms).
const START = 0
const END = 4
const DEVICE = 8
const SEQ = 10
const HAS_PREV = 18
const PREV = 19
const SUMMARY_START = 51
const SUMMARY_END = 55
export const ENTRY_BYTES = 59
/** Entries name their device by a u16 index. */
const MAX_DEVICES_PER_CHUNK = 0x10000

export function checkRecords(plaintext: Buffer, isObservation: ObservationCheck): CheckedRecords {
  const envelopes = decodeRecords(plaintext)
  if (!envelopes) return { problem: 'a group of records is unreadable', devices: [], count: 0, entries: Buffer.allocUnsafeSlow(0), summaries: Buffer.allocUnsafeSlow(0), invalid: [] }
  // Buffers of their own (never slices of Node's shared pool), so they can be transferred between threads.
  const entries = Buffer.allocUnsafeSlow(envelopes.length * ENTRY_BYTES)
  let summaries = Buffer.allocUnsafeSlow(Math.max(1024, envelopes.length * 256))
  let summaryEnd = 0
  const devices: string[] = []
  const deviceIndex = new Map<string, number>()
  const invalid: number[] = []
  let problem: string | undefined
  let count = 0
  for (const envelope of envelopes) {
    // Entries locate envelopes by offset in the chunk: every envelope must be a view into it (decodeRecords gives
    // views; were a decoder ever to hand back copies, refusing is safe and staging other bytes is not).
    const start = envelope.byteOffset - plaintext.byteOffset
    if (envelope.buffer !== plaintext.buffer || start < 0 || start + envelope.length > plaintext.length) {
      problem = 'a group of records is unreadable'
      break
    }
    const opened = openEnvelope(envelope)
    if (!opened.ok) {
      problem = `a record is unreadable (${opened.reason})`
      break
    }
    const v = opened.version
    if (!isObservation(v.value).ok) invalid.push(count)
    let device = deviceIndex.get(v.deviceId)
    if (device === undefined) {
      if (devices.length === MAX_DEVICES_PER_CHUNK) {
        problem = 'a group of records names too many devices'
        break
      }
      device = devices.push(v.deviceId) - 1
      deviceIndex.set(v.deviceId, device)
    }
    const bound = summaryBytesBound(v.docId, v.updatedAt, v.links)
    if (summaryEnd + bound > summaries.length) {
      const bigger = Buffer.allocUnsafeSlow(2 * summaries.length + bound)
      summaries.copy(bigger, 0, 0, summaryEnd)
      summaries = bigger
    }
    const summaryStart = summaryEnd
    summaryEnd = packSummary(summaries, summaryEnd, device, v.seq, v.docId, v.updatedAt, v.links, v.deleted)
    const at = count * ENTRY_BYTES
    entries.writeUInt32LE(start, at + START)
    entries.writeUInt32LE(start + envelope.length, at + END)
    entries.writeUInt16LE(device, at + DEVICE)
    entries.writeDoubleLE(v.seq, at + SEQ)
    entries[at + HAS_PREV] = v.prev ? 1 : 0
    if (v.prev) entries.set(v.prev, at + PREV)
    else entries.fill(0, at + PREV, at + PREV + 32)
    entries.writeUInt32LE(summaryStart, at + SUMMARY_START)
    entries.writeUInt32LE(summaryEnd, at + SUMMARY_END)
    count++
  }
  // Summaries are kept until the receive commits: in a buffer of their exact size, not the room guessed above.
  const packed = Buffer.allocUnsafeSlow(summaryEnd)
  summaries.copy(packed, 0, 0, summaryEnd)
  const result: CheckedRecords = { devices, count, entries: entries.subarray(0, count * ENTRY_BYTES), summaries: packed, invalid }
  if (problem !== undefined) result.problem = problem
  return result
}

/**
 * Reads the entries of a CheckedRecords without an object per entry: `at(i)` moves the cursor, the getters read
 * the entry under it.
 */
export class RecordEntries {
  private base = 0

  constructor(
    readonly checked: CheckedRecords,
    private readonly plaintext: Buffer,
  ) {}

  at(index: number): this {
    this.base = index * ENTRY_BYTES
    return this
  }

  get deviceId(): string {
    return this.checked.devices[this.checked.entries.readUInt16LE(this.base + DEVICE)]!
  }

  get seq(): number {
    return this.checked.entries.readDoubleLE(this.base + SEQ)
  }

  get hasPrev(): boolean {
    return this.checked.entries[this.base + HAS_PREV] === 1
  }

  /** Whether this entry's `prev` is `hash`. */
  prevIs(hash: Buffer): boolean {
    return hash.length === 32 && this.checked.entries.compare(hash, 0, 32, this.base + PREV, this.base + PREV + 32) === 0
  }

  /** The envelope, a view into the chunk's plaintext. */
  envelope(): Buffer {
    const e = this.checked.entries
    return this.plaintext.subarray(e.readUInt32LE(this.base + START), e.readUInt32LE(this.base + END))
  }

  /** Where the entry's packed summary lies in `summaries`. */
  summaryRange(): [start: number, end: number] {
    const e = this.checked.entries
    return [e.readUInt32LE(this.base + SUMMARY_START), e.readUInt32LE(this.base + SUMMARY_END)]
  }

  /** The document id, read back from the summary (only to name a problem). */
  docId(): string {
    const [start] = this.summaryRange()
    return new FieldReader(this.checked.summaries, start + SUMMARY_DOC_ID).string()
  }
}
