import type { Database } from 'lmdb'
import { blockBytesBefore, blockBytesOfFirst, blockCount, blockEnvelopes, blockLocation, BLOCK_TARGET_BYTES, encodeBlock, encodePointerBlock } from './version-block.js'
import type { VersionFiles, VersionFileWriter } from './version-files.js'

type BlockKey = [deviceId: string, firstSeq: number]

/**
 * Every device's log in the `log` database, as blocks keyed [deviceId, first seq] (see version-block.ts).
 *
 * What is visible is bounded by the device's clock, never by what the log holds: a receive writes its blocks
 * beyond the clock first and moves the clock when it commits, so blocks past a clock are leftovers of a receive
 * that never committed, found and removed by `staleBlocks`. Blocks never straddle a clock: a receive starts new
 * blocks at clock + 1, and local writes move the clock in the transaction that writes their block.
 *
 * A block holds its envelopes, or, written by a large write, points to them in a version file (version-files.ts);
 * readers take either.
 */
export class VersionLog {
  /**
   * Per device, the first seqs of its blocks, ascending: a cache, so reading one version (listing and exporting
   * read one per document, in no useful order) is a binary search and one get instead of a reverse cursor search.
   * Another process may have changed the log since: every hit is checked against the block read, and a miss
   * reloads the device's list once.
   */
  private readonly starts = new Map<string, number[]>()

  constructor(
    private readonly db: Database<Buffer, BlockKey>,
    readonly files: VersionFiles,
  ) {}

  /**
   * The block holding `seq` of the device, if the log holds it. The block is lmdb-js's reused read buffer, valid
   * until the next read: take what is needed from it at once.
   */
  private blockAt(deviceId: string, seq: number): { firstSeq: number; block: Buffer } | undefined {
    const cached = this.starts.get(deviceId)
    return (cached && this.readBlockAt(deviceId, seq, cached)) ?? this.readBlockAt(deviceId, seq, this.loadStarts(deviceId))
  }

  /**
   * The same, for one lookup (where a send starts reading, the size of what a file holds): a reverse cursor search,
   * unless the device's starts are cached already. Loading them reads a key per block, ~30 ms at 100,000 versions.
   */
  private oneBlockAt(deviceId: string, seq: number): { firstSeq: number; block: Buffer } | undefined {
    if (this.starts.has(deviceId)) return this.blockAt(deviceId, seq)
    for (const key of this.db.getKeys({ start: [deviceId, seq], end: [deviceId, 0], reverse: true, limit: 1 })) {
      return key[0] === deviceId ? this.readBlockAt(deviceId, seq, [key[1]]) : undefined
    }
    return undefined
  }

  private readBlockAt(deviceId: string, seq: number, starts: readonly number[]): { firstSeq: number; block: Buffer } | undefined {
    let lo = 0
    let hi = starts.length - 1
    if (hi < 0 || starts[0]! > seq) return undefined
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1
      if (starts[mid]! <= seq) lo = mid
      else hi = mid - 1
    }
    const firstSeq = starts[lo]!
    const fast = this.db.getBinaryFast([deviceId, firstSeq])
    // A view of exactly the value: lmdb-js's buffer only pretends to be that long, which Buffer.from trips over.
    const block = fast?.subarray(0, fast.length)
    return block && seq < firstSeq + blockCount(block) ? { firstSeq, block } : undefined
  }

  private loadStarts(deviceId: string): number[] {
    const starts: number[] = []
    for (const key of this.db.getKeys({ start: [deviceId, 0] })) {
      if (key[0] !== deviceId) break
      starts.push(key[1])
    }
    this.starts.set(deviceId, starts)
    return starts
  }

  /** One envelope, copied out so it does not keep its whole block alive. */
  envelope(deviceId: string, seq: number): Buffer | undefined {
    const found = this.blockAt(deviceId, seq)
    if (!found) return undefined
    const index = seq - found.firstSeq
    const envelope = this.envelopesOf(found.block, index, index + 1)[0]!
    // Read from a version file, it is a buffer of its own already; inside LMDB, a view of lmdb-js's reused buffer.
    return blockLocation(found.block) ? envelope : Buffer.from(envelope)
  }

  /** Views of envelopes from..to−1 of a block, read from its version file if it points to one. */
  private envelopesOf(block: Buffer, from: number, to: number): Buffer[] {
    const where = blockLocation(block)
    if (!where) return blockEnvelopes(block, from, to)
    const skip = blockBytesOfFirst(block, from)
    return blockEnvelopes(block, from, to, this.files.read(where.fileId, where.position + skip, blockBytesOfFirst(block, to) - skip))
  }

  /** Envelopes fromSeq..toSeq of a device, in order, read block by block. Each is a view into its block. */
  *envelopes(deviceId: string, fromSeq: number, toSeq: number): Iterable<Buffer> {
    if (fromSeq > toSeq) return
    const first = this.oneBlockAt(deviceId, fromSeq)
    if (!first) return
    let seq = fromSeq
    for (const { key, value } of this.db.getRange({ start: [deviceId, first.firstSeq], end: [deviceId, toSeq + 1] })) {
      const from = seq - key[1]
      const to = Math.min(blockCount(value), toSeq + 1 - key[1])
      if (from < 0) throw new Error(`the log of ${deviceId} has a gap before ${key[1]}`)
      for (const envelope of this.envelopesOf(value, from, to)) yield envelope
      seq = key[1] + to
    }
  }

  /** Envelope bytes of the device's versions 1..seq. */
  bytesThrough(deviceId: string, seq: number): number {
    if (seq <= 0) return 0
    const found = this.oneBlockAt(deviceId, seq)
    if (!found) throw new Error(`version ${deviceId}/${seq} is not in the log`)
    return blockBytesBefore(found.block) + blockBytesOfFirst(found.block, seq - found.firstSeq + 1)
  }

  /**
   * Queues a block of envelopes for the next batched write transaction, holding them or, given a version file,
   * pointing to them there; resolves once committed.
   */
  put(deviceId: string, firstSeq: number, envelopes: readonly Uint8Array[], bytes: number, bytesBefore: number, file?: VersionFileWriter): Promise<boolean> {
    this.starts.delete(deviceId)
    return this.db.put([deviceId, firstSeq], encodeMaybeElsewhere(envelopes, bytes, bytesBefore, file))
  }

  /** Resolves once every queued write is committed. */
  get committed(): Promise<unknown> {
    return this.db.committed
  }

  /**
   * Appends a device's new envelopes right after its clock (`held` versions, `heldBytes` bytes), inside a write
   * transaction. Blocks are written as they fill, so a large batch never waits whole in memory; a small last block
   * is continued rather than followed by another, so a log written a few versions at a time does not become a chain
   * of tiny blocks. Once `filesAfterBytes` of them are written, the rest go to a version file (`finish` makes it
   * durable and registers it, so call it before the transaction ends).
   */
  appenderSync(deviceId: string, held: number, heldBytes: number, filesAfterBytes: number): { add(envelope: Buffer): void; finish(): void; abandon(): void } {
    this.starts.delete(deviceId)
    for (const key of this.staleKeysOf(deviceId, held)) this.db.removeSync(key)
    let firstSeq = held + 1
    let bytesBefore = heldBytes
    let pending: Buffer[] = []
    let pendingBytes = 0
    let added = 0
    let addedBytes = 0
    let file: VersionFileWriter | undefined
    const tail = held > 0 ? this.blockAt(deviceId, held) : undefined
    // Only a block that holds its envelopes is continued; a version file is never written again.
    if (tail && !blockLocation(tail.block)) {
      const count = blockCount(tail.block)
      const tailBytes = blockBytesOfFirst(tail.block, count)
      if (tail.firstSeq + count - 1 === held && tailBytes < BLOCK_TARGET_BYTES) {
        pending = blockEnvelopes(Buffer.from(tail.block), 0, count)
        pendingBytes = tailBytes
        firstSeq = tail.firstSeq
        bytesBefore = blockBytesBefore(tail.block)
      }
    }
    const flush = () => {
      if (!file && addedBytes > filesAfterBytes) file = this.files.create()
      this.db.putSync([deviceId, firstSeq], encodeMaybeElsewhere(pending, pendingBytes, bytesBefore, file))
      firstSeq += pending.length
      bytesBefore += pendingBytes
      pending = []
      pendingBytes = 0
    }
    return {
      add(envelope) {
        pending.push(envelope)
        pendingBytes += envelope.length
        addedBytes += envelope.length
        added++
        if (pendingBytes >= BLOCK_TARGET_BYTES) flush()
      },
      finish: () => {
        if (added > 0 && pending.length > 0) flush()
        if (file) {
          file.syncNow()
          file.close()
          this.files.register(file)
        }
      },
      abandon: () => file?.discard(),
    }
  }

  /**
   * Keys of blocks past their device's clock (`held` gives a device's clock). Costs one cursor seek per device in
   * the log, so the check before every receive is cheap.
   */
  staleBlocks(held: (deviceId: string) => number): BlockKey[] {
    const stale: BlockKey[] = []
    let device = this.firstDevice()
    while (device !== undefined) {
      let next: string | undefined
      for (const key of this.db.getKeys({ start: [device, held(device) + 1] })) {
        if (key[0] !== device) {
          next = key[0]
          break
        }
        stale.push(key)
      }
      device = next
    }
    return stale
  }

  removeSync(keys: readonly BlockKey[]): void {
    for (const key of keys) {
      this.starts.delete(key[0])
      this.db.removeSync(key)
    }
  }

  private staleKeysOf(deviceId: string, held: number): BlockKey[] {
    const stale: BlockKey[] = []
    for (const key of this.db.getKeys({ start: [deviceId, held + 1] })) {
      if (key[0] !== deviceId) break
      stale.push(key)
    }
    return stale
  }

  private firstDevice(): string | undefined {
    for (const key of this.db.getKeys({ limit: 1 })) return key[0]
    return undefined
  }
}

function encodeMaybeElsewhere(envelopes: readonly Uint8Array[], bytes: number, bytesBefore: number, file: VersionFileWriter | undefined): Buffer {
  return file ? encodePointerBlock(envelopes, bytesBefore, file.id, file.append(envelopes, bytes)) : encodeBlock(envelopes, bytesBefore)
}
