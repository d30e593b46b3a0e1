/**
 * A block: consecutive envelopes of one device packed into one LMDB value.
 *
 * One LMDB entry per version cost a node, a key encoding and a B-tree insert each, and sequential inserts split
 * pages in the middle, leaving the log at about half the page space it took (a 121 MB log filled 211 MB). A block
 * of ~32 KiB sits in contiguous overflow pages instead, so the log takes about its own size and a device's range
 * is read by a few cursor steps per megabyte.
 *
 * Layout (little-endian): u32 count | f64 bytesBefore | count × u32 envelope length | the envelopes, in seq order.
 * `bytesBefore` is the total envelope bytes of the device's versions before this block, so the size of any range of
 * a device's log follows from one block header instead of reading the range.
 *
 * A pointer block has the same header, with the count's top bit set, and instead of the envelopes: u32 file id |
 * f64 position — where, in a version file (version-files.ts), the envelopes lie, back to back. Counts, sizes and
 * offsets come from the header alone, as for a block holding its envelopes.
 */
export const BLOCK_TARGET_BYTES = 32 * 1024

const COUNT_AT = 0
const BYTES_BEFORE_AT = 4
const LENGTHS_AT = 12
const ELSEWHERE = 0x80000000

export function encodeBlock(envelopes: readonly Uint8Array[], bytesBefore: number): Buffer {
  const headerBytes = LENGTHS_AT + 4 * envelopes.length
  let total = headerBytes
  for (const e of envelopes) total += e.length
  const block = Buffer.allocUnsafe(total)
  block.writeUInt32LE(envelopes.length, COUNT_AT)
  block.writeDoubleLE(bytesBefore, BYTES_BEFORE_AT)
  let at = headerBytes
  envelopes.forEach((e, i) => {
    block.writeUInt32LE(e.length, LENGTHS_AT + 4 * i)
    block.set(e, at)
    at += e.length
  })
  return block
}

/** A pointer block: the header of `encodeBlock` for these envelopes, and where they are. */
export function encodePointerBlock(envelopes: readonly Uint8Array[], bytesBefore: number, fileId: number, position: number): Buffer {
  const at = LENGTHS_AT + 4 * envelopes.length
  const block = Buffer.allocUnsafe(at + 12)
  block.writeUInt32LE((envelopes.length | ELSEWHERE) >>> 0, COUNT_AT)
  block.writeDoubleLE(bytesBefore, BYTES_BEFORE_AT)
  envelopes.forEach((e, i) => block.writeUInt32LE(e.length, LENGTHS_AT + 4 * i))
  block.writeUInt32LE(fileId, at)
  block.writeDoubleLE(position, at + 4)
  return block
}

/** Where a pointer block's envelopes are; undefined for a block that holds them. */
export function blockLocation(block: Buffer): { fileId: number; position: number } | undefined {
  if ((block.readUInt32LE(COUNT_AT) & ELSEWHERE) === 0) return undefined
  const at = LENGTHS_AT + 4 * blockCount(block)
  return { fileId: block.readUInt32LE(at), position: block.readDoubleLE(at + 4) }
}

export function blockCount(block: Buffer): number {
  return block.readUInt32LE(COUNT_AT) & ~ELSEWHERE
}

export function blockBytesBefore(block: Buffer): number {
  return block.readDoubleLE(BYTES_BEFORE_AT)
}

/** Envelope bytes of the block's first `n` versions. */
export function blockBytesOfFirst(block: Buffer, n: number): number {
  let sum = 0
  for (let i = 0; i < n; i++) sum += block.readUInt32LE(LENGTHS_AT + 4 * i)
  return sum
}

/**
 * Views (no copies) of the envelopes at indexes from..to−1 of a block that holds them, or of `bytes`, the envelopes
 * of a pointer block read from `from` on.
 */
export function blockEnvelopes(block: Buffer, from: number, to: number, bytes?: Buffer): Buffer[] {
  const count = blockCount(block)
  let at = bytes ? -blockBytesOfFirst(block, from) : LENGTHS_AT + 4 * count
  const source = bytes ?? block
  const out: Buffer[] = []
  for (let i = 0; i < Math.min(to, count); i++) {
    const length = block.readUInt32LE(LENGTHS_AT + 4 * i)
    if (i >= from) out.push(source.subarray(at, at + length))
    at += length
  }
  return out
}
