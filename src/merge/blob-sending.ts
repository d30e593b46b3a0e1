import { createHash } from 'node:crypto'
import { diskError, FerryError } from '../errors.js'
import type { DiskFile } from '../fs/disk.js'
import type { BlobRecord } from '../store/blob-record.js'
import type { Store } from '../store/store.js'
import { BLOB_PIECE_BYTES, BLOB_PIECE_HEADER, ChunkKind } from '../syncfile/format.js'
import type { SegmentWriter } from '../syncfile/writer.js'

/** Blobs opened and read ahead of the one being sent: opening a photo overlaps encrypting the ones before it. */
const READ_AHEAD_BLOBS = 4

/**
 * Sends blobs from the media store as pieces (hash ‖ offset ‖ data), whole blobs in the order given, checking each
 * against its hash, so the caller commits only what is intact: a damaged photo stops the sync before the file
 * changes. The next blobs are opened and read while the current one is hashed and encrypted, so the CPU never waits
 * for the disk.
 *
 * `sendThrough` lets the caller place blobs between its records chunks (writeSegment); `close` releases the blobs
 * read ahead and never sent, whatever happened.
 */
export class BlobSender {
  private readonly ahead: BlobSource[] = []
  private next = 0
  private sentBytes = 0

  constructor(
    private readonly store: Store,
    private readonly writer: SegmentWriter,
    private readonly blobs: readonly BlobRecord[],
    private readonly onProgress: (versions: number, bytes: number) => void,
  ) {
    this.readAhead()
  }

  /** Sends whole blobs, in order, until at least `bytes` blob bytes have been sent in all or none are left. */
  async sendThrough(bytes: number): Promise<void> {
    while (this.sentBytes < bytes) {
      const source = this.ahead.shift()
      if (!source) return
      this.readAhead()
      await this.send(source)
      this.sentBytes += source.blob.size
    }
  }

  async close(): Promise<void> {
    await Promise.all(this.ahead.splice(0).map((source) => source.close()))
  }

  private readAhead(): void {
    while (this.next < this.blobs.length && this.ahead.length < READ_AHEAD_BLOBS) this.ahead.push(new BlobSource(this.store, this.blobs[this.next++]!))
  }

  private async send(source: BlobSource): Promise<void> {
    const hasher = createHash('sha256')
    try {
      for await (const piece of source.pieces()) {
        hasher.update(piece.subarray(BLOB_PIECE_HEADER))
        await this.writer.add(ChunkKind.blob, piece)
        this.onProgress(0, piece.length - BLOB_PIECE_HEADER)
      }
    } finally {
      await source.close()
    }
    const { hash } = source.blob
    if (hasher.digest('hex') !== hash) throw mediaDamaged(hash)
  }
}

/** One blob of the media store, opened and its first piece read as soon as it is made. */
class BlobSource {
  private readonly file: Promise<DiskFile>
  private readonly first: Promise<Buffer>

  constructor(
    private readonly store: Store,
    readonly blob: BlobRecord,
  ) {
    this.file = store.media.openBlob(blob.hash).catch((err: unknown) => Promise.reject(diskError(err, store.media.pathOf(blob.hash))))
    this.first = this.file.then((file) => this.readPiece(file, 0))
    this.first.catch(() => undefined) // awaited by pieces(); a source dropped after an error is only closed
  }

  /** The blob's pieces in order, the next one read while the caller handles the current one. */
  async *pieces(): AsyncGenerator<Buffer> {
    const file = await this.file
    let next = this.first
    let at = 0
    do {
      const piece = await next
      at += piece.length - BLOB_PIECE_HEADER
      if (at < this.blob.size) {
        next = this.readPiece(file, at)
        next.catch(() => undefined) // awaited on the next turn; never an unhandled rejection meanwhile
      }
      yield piece
    } while (at < this.blob.size)
  }

  async close(): Promise<void> {
    const file = await this.file.catch(() => undefined)
    await file?.close().catch(() => undefined)
  }

  private async readPiece(file: DiskFile, at: number): Promise<Buffer> {
    const length = Math.min(BLOB_PIECE_BYTES, this.blob.size - at)
    const piece = Buffer.allocUnsafe(BLOB_PIECE_HEADER + length)
    Buffer.from(this.blob.hash, 'hex').copy(piece, 0)
    piece.writeBigUInt64BE(BigInt(at), 32)
    let filled = 0
    while (filled < length) {
      let n: number
      try {
        n = await file.read(piece, BLOB_PIECE_HEADER + filled, length - filled, at + filled)
      } catch (err) {
        throw diskError(err, this.store.media.pathOf(this.blob.hash))
      }
      if (n === 0) throw mediaDamaged(this.blob.hash)
      filled += n
    }
    return piece
  }
}

function mediaDamaged(hash: string): FerryError {
  return new FerryError('io', `A photo on this computer is damaged (${hash.slice(0, 12)}… no longer matches its fingerprint), so it was not copied. The sync file was not changed. Run \`ferry verify\` on a good copy, or remove that photo.`)
}
