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
    /** How errors name the file, and what they tell the person to do again. */
    private readonly shown: Shown,
    private readonly cipher: ChunkCipher,
    readonly segmentStart: number,
  ) {
    this.offset = segmentStart
    this.pendingStart = segmentStart
  }

  /**
   * Starts a brand-new file at a temporary path; the caller renames it into place. Errors name `shown.path`, the
   * file the person asked for, not the hidden temporary one.
   */
  static async createNew(disk: Disk, tmpPath: string, secret: Buffer, header: FileHeader, shown: Shown): Promise<SegmentWriter> {
    const file = await guard(() => disk.open(tmpPath, 'create-new'), shown)
    try {
      await guard(() => file.write(header.bytes, 0), shown)
    } catch (err) {
      await file.close().catch(() => undefined)
      throw err
    }
    const writer = new SegmentWriter(file, shown, new ChunkCipher(secret, header), HEADER_BYTES)
    writer.bytesWritten = HEADER_BYTES
    return writer
  }

  /** Continues an existing file after its last valid commit, cutting off any torn tail. */
  static async appendTo(disk: Disk, filePath: string, secret: Buffer, header: FileHeader, validEnd: number): Promise<SegmentWriter> {
    const shown = { path: filePath }
    const file = await guard(() => disk.open(filePath, 'update'), shown)
    try {
      if ((await file.size()) !== validEnd) await guard(() => file.truncate(validEnd), shown)
    } catch (err) {
      await file.close().catch(() => undefined)
      throw err
    }
    return new SegmentWriter(file, shown, new ChunkCipher(secret, header), validEnd)
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
    await guard(() => this.file.sync(), this.shown)
  }

  async close(): Promise<void> {
    await this.inFlight.catch(() => undefined)
    await this.file.close().catch(() => undefined)
  }

  /**
   * After a failed append: cuts the file back to where the segment began, best effort, so the space it took is free
   * again (a full drive) and the file ends at its last commit. Left as it is when that fails too (the drive is gone):
   * what was written is then an interrupted write, which the next sync cuts off.
   */
  async abandon(): Promise<void> {
    await this.inFlight.catch(() => undefined)
    await this.file.truncate(this.segmentStart).catch(() => undefined)
    await this.file.sync().catch(() => undefined)
  }

  private async queue(...parts: Buffer[]): Promise<void> {
    for (const bytes of parts) {
      this.pending.push(bytes)
      this.pendingBytes += bytes.length
    }
    if (this.pendingBytes >= WRITE_BATCH) await this.flush()
  }

  /**
   * Waits for the write in flight, then starts writing the pending batch and returns: one write is in flight while
   * the caller reads and encrypts the next batch (disk and CPU overlap). `drain` waits for the last.
   *
   * Never two at once: were a later batch written while an earlier one failed (a full drive), the file would hold a
   * hole followed by data, which no reader can tell from damage, and every later sync would refuse the file.
   */
  private async flush(): Promise<void> {
    if (this.pendingBytes === 0) return
    await this.inFlight
    const batch = this.pending
    const at = this.pendingStart
    this.pending = []
    this.pendingStart += this.pendingBytes
    this.bytesWritten += this.pendingBytes
    this.pendingBytes = 0
    const current = guard(() => this.file.writev(batch, at), this.shown)
    // Never left unhandled: it is awaited by the next flush or by drain.
    current.catch(() => undefined)
    this.inFlight = current
  }

  private async drain(): Promise<void> {
    await this.flush()
    await this.inFlight
  }
}

/** The file as errors name it, and what they tell the person to do again (diskError's `retry`). */
export interface Shown {
  path: string
  retry?: string
}

async function guard<T>(fn: () => Promise<T>, shown: Shown): Promise<T> {
  try {
    return await fn()
  } catch (err) {
    throw diskError(err, shown.path, { retry: shown.retry })
  }
}
