import { createHash, type Hash } from 'node:crypto'
import { diskError } from '../errors.js'
import type { Disk, DiskFile } from '../fs/disk.js'
import { ChunkCipher } from './chunk-crypto.js'
import { encodeCommit, type CommitFields } from './commit.js'
import { ChunkKind, FOOTER_BYTES, FOOTER_MAGIC, HEADER_BYTES, hashChunkDigest } from './format.js'
import type { FileHeader } from './header.js'

const WRITE_BATCH = 4 * 1024 * 1024
/**
 * Appends one segment and its commit. Bytes before `segmentStart` are never written: a torn tail from an earlier
 * interrupted write is cut first, and everything new goes after the last valid commit. The commit and its footer
 * are the last bytes written, and the file is fsynced before the caller says the sync is done, so pulling the drive
 * at any moment leaves the old commit or the new one.
 */
export class SegmentWriter {
  /** Where the next chunk goes. */
  private offset: number
  private readonly hasher: Hash = createHash('sha256')
  private pending: Buffer[] = []
  private pendingBytes = 0
  private pendingStart: number
  bytesWritten = 0
  private inFlight: Promise<void> = Promise.resolve()

  private constructor(
    private readonly file: DiskFile,
    private readonly filePath: string,
    private readonly cipher: ChunkCipher,
    readonly segmentStart: number,
  ) {
    this.offset = segmentStart
    this.pendingStart = segmentStart
  }

  /** Starts a brand-new file (at a temporary path; the caller renames it into place). */
  static async createNew(disk: Disk, filePath: string, secret: Buffer, header: FileHeader): Promise<SegmentWriter> {
    const file = await guard(() => disk.open(filePath, 'create-new'), filePath)
    try {
      await guard(() => file.write(header.bytes, 0), filePath)
    } catch (err) {
      await file.close().catch(() => undefined)
      throw err
    }
    const writer = new SegmentWriter(file, filePath, new ChunkCipher(secret, header), HEADER_BYTES)
    writer.bytesWritten = HEADER_BYTES
    return writer
  }

  /** Continues an existing file after its last valid commit, cutting off any torn tail. */
  static async appendTo(disk: Disk, filePath: string, secret: Buffer, header: FileHeader, validEnd: number): Promise<SegmentWriter> {
    const file = await guard(() => disk.open(filePath, 'update'), filePath)
    try {
      if ((await file.size()) !== validEnd) await guard(() => file.truncate(validEnd), filePath)
    } catch (err) {
      await file.close().catch(() => undefined)
      throw err
    }
    return new SegmentWriter(file, filePath, new ChunkCipher(secret, header), validEnd)
  }

  async add(kind: ChunkKind, plaintext: Buffer): Promise<void> {
    const [frame, ciphertext, tag] = this.cipher.sealParts(kind, this.offset, plaintext)
    hashChunkDigest(this.hasher, frame, tag)
    this.offset += frame.length + ciphertext.length + tag.length
    await this.queue(frame, ciphertext, tag)
  }

  /** Writes the commit and its footer, then makes the file durable. */
  async commit(fields: Omit<CommitFields, 'segmentStart' | 'segmentHash'>): Promise<void> {
    const commitOffset = this.offset
    const commit = this.cipher.seal(ChunkKind.commit, commitOffset, encodeCommit({ ...fields, segmentStart: this.segmentStart, segmentHash: this.hasher.digest() }))
    const footer = Buffer.alloc(FOOTER_BYTES)
    footer.writeBigUInt64BE(BigInt(commitOffset), 0)
    FOOTER_MAGIC.copy(footer, 8)
    this.offset += commit.length + FOOTER_BYTES
    await this.queue(commit, footer)
    await this.drain()
    await guard(() => this.file.sync(), this.filePath)
  }

  async close(): Promise<void> {
    await this.inFlight.catch(() => undefined)
    await this.file.close().catch(() => undefined)
  }

  private async queue(...parts: Buffer[]): Promise<void> {
    for (const bytes of parts) {
      this.pending.push(bytes)
      this.pendingBytes += bytes.length
    }
    if (this.pendingBytes >= WRITE_BATCH) await this.flush()
  }

  /**
   * Starts writing the pending batch and returns once the previous write has finished, so one write is always in
   * flight while the caller reads and encrypts the next batch (disk and CPU overlap). `drain` waits for the last.
   */
  private async flush(): Promise<void> {
    if (this.pendingBytes === 0) return
    const batch = this.pending
    const at = this.pendingStart
    this.pending = []
    this.pendingStart += this.pendingBytes
    this.bytesWritten += this.pendingBytes
    this.pendingBytes = 0
    const previous = this.inFlight
    const current = guard(() => this.file.writev(batch, at), this.filePath)
    // Never left unhandled: it is awaited by the next flush or by drain.
    current.catch(() => undefined)
    this.inFlight = current
    await previous
  }

  private async drain(): Promise<void> {
    await this.flush()
    await this.inFlight
  }
}

async function guard<T>(fn: () => Promise<T>, filePath: string): Promise<T> {
  try {
    return await fn()
  } catch (err) {
    throw diskError(err, filePath)
  }
}
