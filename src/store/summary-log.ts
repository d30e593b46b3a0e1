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

/**
 * The summaries of a receive's versions, kept until it commits, packed into 1 MiB buffers: about 130 bytes a
 * version instead of an object graph of several hundred bytes the garbage collector walks again and again
 * (and instead of a staging database whose pages would be written once and read back once).
 */
export class SummaryLog {
  private readonly pages: Buffer[] = []
  private page = Buffer.allocUnsafe(PAGE_BYTES)
  private at = 0
  private readonly devices: string[] = []
  private readonly deviceIndex = new Map<string, number>()
  count = 0

  // Positional, so adding allocates nothing.
  add(deviceId: string, seq: number, docId: string, links: readonly string[], deleted: boolean, updatedAt: string): void {
    let maxBytes = FIXED_BYTES + 3 * (docId.length + updatedAt.length)
    for (const link of links) maxBytes += 4 + 3 * link.length
    if (this.at + maxBytes > this.page.length) {
      this.pages.push(this.page.subarray(0, this.at))
      this.page = Buffer.allocUnsafe(Math.max(PAGE_BYTES, maxBytes))
      this.at = 0
    }
    const page = this.page
    let at = this.at
    at = page.writeUInt16LE(this.indexOf(deviceId), at)
    at = page.writeDoubleLE(seq, at)
    at = page.writeUInt8(deleted ? 1 : 0, at)
    at = writeString(page, at, docId)
    at = writeString(page, at, updatedAt)
    at = page.writeUInt32LE(links.length, at)
    for (const link of links) at = writeString(page, at, link)
    this.at = at
    this.count++
  }

  /** The summaries in the order they were added, each with its versionId. */
  *entries(): Iterable<VersionSummary & { versionId: string }> {
    for (const page of [...this.pages, this.page.subarray(0, this.at)]) {
      const fields = new FieldReader(page)
      while (fields.at < page.length) {
        const at = fields.at
        const deviceId = this.devices[page.readUInt16LE(at)]!
        const seq = page.readDoubleLE(at + 2)
        const deleted = page[at + 10] === 1
        fields.at += 11
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
