import { FieldReader, writeString } from './length-prefixed.js'
import { versionIdOf } from './version.js'

/** What indexing a version needs, without decoding it again. */
export interface VersionSummary {
  deviceId: string
  seq: number
  docId: string
  links: readonly string[]
  deleted: boolean
  updatedAt: string
}

const PAGE_BYTES = 1024 * 1024
// u16 device index, f64 seq, u8 deleted, u32 link count, and a u32 length before each string.
const FIXED_BYTES = 2 + 8 + 1 + 4 + 4 + 4
/** Where a packed summary's docId field starts. */
export const SUMMARY_DOC_ID = 11

/** The most bytes `packSummary` can take for these fields (UTF-8 takes at most 3 bytes per UTF-16 unit). */
export function summaryBytesBound(docId: string, updatedAt: string, links: readonly string[]): number {
  let bytes = FIXED_BYTES + 3 * (docId.length + updatedAt.length)
  for (const link of links) bytes += 4 + 3 * link.length
  return bytes
}

/**
 * Writes one summary at `at` (the caller sized `out` with summaryBytesBound); returns where the next one starts.
 * `device` indexes the device table of whoever reads the bytes back (SummaryLog.appendPacked's `devices`).
 */
export function packSummary(out: Buffer, at: number, device: number, seq: number, docId: string, updatedAt: string, links: readonly string[], deleted: boolean): number {
  at = out.writeUInt16LE(device, at)
  at = out.writeDoubleLE(seq, at)
  at = out.writeUInt8(deleted ? 1 : 0, at)
  at = writeString(out, at, docId)
  at = writeString(out, at, updatedAt)
  at = out.writeUInt32LE(links.length, at)
  for (const link of links) at = writeString(out, at, link)
  return at
}

/** A run of packed summaries and the table their device indexes refer to. */
interface Page {
  bytes: Buffer
  devices: readonly string[]
}

/**
 * The summaries of a receive's versions, kept until it commits, packed into 1 MiB buffers: about 130 bytes a
 * version instead of an object graph of several hundred bytes the garbage collector walks again and again
 * (and instead of a staging database whose pages would be written once and read back once).
 *
 * Summaries come either one at a time (`add`) or already packed by the records check (`appendPacked`, which may
 * have run on a worker thread): each run of bytes keeps the device table its indexes refer to.
 */
export class SummaryLog {
  private readonly pages: Page[] = []
  private page = Buffer.allocUnsafe(PAGE_BYTES)
  private at = 0
  private readonly devices: string[] = []
  private readonly deviceIndex = new Map<string, number>()
  count = 0

  // Positional, so adding allocates nothing.
  add(deviceId: string, seq: number, docId: string, links: readonly string[], deleted: boolean, updatedAt: string): void {
    const maxBytes = summaryBytesBound(docId, updatedAt, links)
    if (this.at + maxBytes > this.page.length) {
      this.closePage()
      this.page = Buffer.allocUnsafe(Math.max(PAGE_BYTES, maxBytes))
    }
    this.at = packSummary(this.page, this.at, this.indexOf(deviceId), seq, docId, updatedAt, links, deleted)
    this.count++
  }

  /** Appends `count` summaries packed by packSummary, whose device indexes refer to `devices`. Keeps `bytes`. */
  appendPacked(bytes: Buffer, count: number, devices: readonly string[]): void {
    if (count === 0) return
    this.closePage()
    this.pages.push({ bytes, devices })
    this.count += count
  }

  /** The summaries in the order they were added, each with its versionId. */
  *entries(): Iterable<VersionSummary & { versionId: string }> {
    for (const { bytes: page, devices } of [...this.pages, { bytes: this.page.subarray(0, this.at), devices: this.devices }]) {
      const fields = new FieldReader(page)
      while (fields.at < page.length) {
        const at = fields.at
        const deviceId = devices[page.readUInt16LE(at)]!
        const seq = page.readDoubleLE(at + 2)
        const deleted = page[at + 10] === 1
        fields.at += SUMMARY_DOC_ID
        const docId = fields.string()
        const updatedAt = fields.string()
        const linkCount = page.readUInt32LE(fields.at)
        fields.at += 4
        const links: string[] = []
        for (let i = 0; i < linkCount; i++) links.push(fields.string())
        yield { deviceId, seq, versionId: versionIdOf(deviceId, seq), docId, links, deleted, updatedAt }
      }
    }
  }

  /** Ends the page being filled, so summaries appended after it keep their order. */
  private closePage(): void {
    if (this.at === 0) return
    this.pages.push({ bytes: this.page.subarray(0, this.at), devices: this.devices })
    this.page = this.page.subarray(this.at)
    this.at = 0
  }

  private indexOf(deviceId: string): number {
    let index = this.deviceIndex.get(deviceId)
    if (index === undefined) {
      if (this.devices.length === 0xffff) throw new Error('too many devices in one receive')
      index = this.devices.length
      this.devices.push(deviceId)
      this.deviceIndex.set(deviceId, index)
    }
    return index
  }
}
