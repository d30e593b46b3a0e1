import type { DocState } from './doc-state.js'
import { FieldReader, writeString } from './length-prefixed.js'
import { rankHeads } from './winner.js'

/**
 * Value encodings of the document index, given to lmdb-js as custom encoders. A receive of 100k versions writes
 * 100k document states in one transaction; lmdb-js's default (msgpack with shared structures) spent more time
 * encoding them than LMDB spent storing them, and took 60 % more pages.
 */
interface LmdbEncoder<T> {
  encode(value: T): Buffer
  decode(bytes: Buffer, size?: number): T
}

/** DocState: u16 head count, then per head u8 deleted, u32 length + UTF-8 versionId, u32 length + UTF-8 updatedAt. */
export const docStateEncoding: LmdbEncoder<DocState> = {
  encode(state) {
    let max = 2
    for (const h of state.heads) max += 9 + 3 * (h.versionId.length + h.updatedAt.length)
    const out = Buffer.allocUnsafe(max)
    let at = out.writeUInt16LE(state.heads.length, 0)
    for (const h of state.heads) {
      at = out.writeUInt8(h.deleted ? 1 : 0, at)
      at = writeString(out, at, h.versionId)
      at = writeString(out, at, h.updatedAt)
    }
    return out.subarray(0, at)
  },
  decode(bytes) {
    // lmdb-js hands over a reused buffer: everything is copied out into strings before returning.
    const count = bytes.readUInt16LE(0)
    const fields = new FieldReader(bytes, 2)
    const heads: DocState['heads'] = []
    for (let i = 0; i < count; i++) {
      const deleted = bytes[fields.at++] === 1
      const versionId = fields.string()
      heads.push({ versionId, updatedAt: fields.string(), deleted })
    }
    // Ranked again, not trusted as stored: earlier builds ranked by the computer's time zone, so a fork indexed by
    // one may be stored in another order than every device now agrees on. One head needs no ranking.
    return { heads: count > 1 ? rankHeads(heads) : heads }
  },
}

const PRESENT = Buffer.from([1])

/** `superseded` only records that a key is there. */
export const presenceEncoding: LmdbEncoder<true> = {
  encode: () => PRESENT,
  decode: () => true,
}
