import { createHash, webcrypto, type Hash } from 'node:crypto'

/**
 * SHA-256 of a blob that arrives in pieces, computed off the main thread when the blob is small enough to hold.
 *
 * node:crypto's streaming Hash runs on the calling thread, where it was a third of a photo sync's time (~1 ms per
 * MiB) while the CPU's other core waited. WebCrypto's digest runs on libuv's thread pool, in parallel with the main
 * thread's reading, decrypting and writing, but it takes the whole input at once. So pieces are kept (they are
 * held for their write anyway) until `digest()`; past `HOLD_LIMIT` the hasher falls back to streaming on the main
 * thread, so a 1 GB video never sits in memory.
 */
export class BlobHasher {
  private held: Buffer[] = []
  private heldBytes = 0
  private streaming: Hash | undefined

  static readonly HOLD_LIMIT = 16 * 1024 * 1024

  update(data: Buffer): void {
    if (this.streaming) {
      this.streaming.update(data)
      return
    }
    this.held.push(data)
    this.heldBytes += data.length
    if (this.heldBytes > BlobHasher.HOLD_LIMIT) {
      this.streaming = createHash('sha256')
      for (const piece of this.held) this.streaming.update(piece)
      this.held = []
    }
  }

  /** Lowercase hex, as blobs are named. Call once, after the last update. */
  async digest(): Promise<string> {
    if (this.streaming) return this.streaming.digest('hex')
    const whole = this.held.length === 1 ? this.held[0]! : Buffer.concat(this.held, this.heldBytes)
    this.held = []
    return Buffer.from(await webcrypto.subtle.digest('SHA-256', whole)).toString('hex')
  }
}
