import { createHash, type Hash } from 'node:crypto'
import { BLOB_PIECE_HEADER } from '../syncfile/format.js'

/** Where a blob's bytes go while it is read from a file: the media store when receiving, nowhere when verifying. */
export interface BlobSink {
  /** null: this blob is not wanted (already held); its pieces are still checked for order. */
  begin(hash: string, size: number): Promise<BlobTarget | null>
}
export interface BlobTarget {
  append(data: Buffer): Promise<void>
  /** Verifies the whole blob against its hash: false when it does not match. A failing disk throws. */
  finish(): Promise<boolean>
  abort(): Promise<void>
}

/** A sink that only checks hashes, for `verify`. */
export const hashingSink: BlobSink = {
  async begin(hash) {
    const hasher: Hash = createHash('sha256')
    return {
      append: async (data) => void hasher.update(data),
      finish: async () => hasher.digest('hex') === hash,
      abort: async () => undefined,
    }
  },
}

/**
 * Reassembles the blobs of one segment from their pieces (hash ‖ offset ‖ data), in order, checking each blob is
 * one the segment's commit lists, with its listed size, complete, and matching its hash. Returns problems in words.
 */
export class BlobAssembly {
  private current: { hash: string; size: number; received: number; target: BlobTarget | null } | undefined
  private readonly seen = new Set<string>()
  readonly completed: Array<{ hash: string; size: number; stored: boolean }> = []

  constructor(
    private readonly listed: Map<string, number>,
    private readonly sink: BlobSink,
  ) {}

  async piece(plaintext: Buffer): Promise<string | undefined> {
    if (plaintext.length < BLOB_PIECE_HEADER) return 'a photo piece is too short'
    const hash = plaintext.subarray(0, 32).toString('hex')
    const at = Number(plaintext.readBigUInt64BE(32))
    const data = plaintext.subarray(BLOB_PIECE_HEADER)
    if (at === 0 && this.current?.hash !== hash) {
      if (this.current) return 'a photo is incomplete'
      const size = this.listed.get(hash)
      if (size === undefined || this.seen.has(hash)) return 'a photo is not listed in its commit'
      this.seen.add(hash)
      this.current = { hash, size, received: 0, target: await this.sink.begin(hash, size) }
    }
    const blob = this.current
    if (!blob || blob.hash !== hash || at !== blob.received || blob.received + data.length > blob.size) return 'photo pieces are out of order'
    if (blob.target) await blob.target.append(data)
    blob.received += data.length
    if (blob.received === blob.size) {
      this.current = undefined
      if (blob.target && !(await blob.target.finish())) return `a photo's content does not match its fingerprint ${hash.slice(0, 12)}…`
      this.completed.push({ hash, size: blob.size, stored: blob.target !== null })
    }
    return undefined
  }

  /** At the end of the segment: every listed blob arrived whole. */
  async end(): Promise<string | undefined> {
    if (this.current) {
      await this.current.target?.abort()
      return 'a photo is incomplete'
    }
    if (this.seen.size !== this.listed.size) return 'its commit lists a photo it does not contain'
    return undefined
  }

  async abort(): Promise<void> {
    await this.current?.target?.abort()
    this.current = undefined
  }
}
