import { createHash, randomBytes } from 'node:crypto'
import { createReadStream, existsSync, readdirSync, rmSync } from 'node:fs'
import path from 'node:path'
import type { Disk, DiskFile } from '../fs/disk.js'
import { damaged } from '../errors.js'

export const SHA256_HEX = /^[0-9a-f]{64}$/

/**
 * Photos, audio and video, addressed by SHA-256 and kept as files beside the database: `blobs/ab/abcdef…`.
 * A blob is streamed into `tmp/` while its hash is computed, checked against the expected hash, fsynced, and only
 * then renamed to its final name, so a crash never leaves a half blob under a real name. Blobs are never held
 * whole in memory.
 */
export class MediaStore {
  constructor(
    readonly root: string,
    private readonly disk: Disk,
  ) {}

  pathOf(hash: string): string {
    if (!SHA256_HEX.test(hash)) throw new Error(`not a SHA-256 hex: ${hash}`)
    return path.join(this.root, 'blobs', hash.slice(0, 2), hash)
  }

  has(hash: string): boolean {
    return existsSync(this.pathOf(hash))
  }

  /** Removes temp files left by a crash. Called when a writer starts. */
  clearTemp(): void {
    const tmp = path.join(this.root, 'tmp')
    if (!existsSync(tmp)) return
    for (const name of readdirSync(tmp)) rmSync(path.join(tmp, name), { force: true })
  }

  async beginWrite(): Promise<BlobWriter> {
    const tmpDir = path.join(this.root, 'tmp')
    await this.disk.mkdirp(tmpDir)
    const tmpPath = path.join(tmpDir, `${randomBytes(8).toString('hex')}.part`)
    const file = await this.disk.open(tmpPath, 'create-new')
    return new BlobWriter(this, this.disk, file, tmpPath)
  }

  /** Copies a file from outside into the store, streaming. */
  async addFile(sourcePath: string): Promise<{ hash: string; size: number }> {
    const writer = await this.beginWrite()
    try {
      for await (const chunk of createReadStream(sourcePath, { highWaterMark: 1 << 20 })) await writer.append(chunk as Buffer)
      return await writer.commit()
    } catch (err) {
      await writer.abort()
      throw err
    }
  }

  async openBlob(hash: string): Promise<DiskFile> {
    return this.disk.open(this.pathOf(hash), 'read')
  }
}

export class BlobWriter {
  private readonly hasher = createHash('sha256')
  private size = 0
  private done = false

  constructor(
    private readonly store: MediaStore,
    private readonly disk: Disk,
    private readonly file: DiskFile,
    private readonly tmpPath: string,
  ) {}

  async append(chunk: Buffer): Promise<void> {
    this.hasher.update(chunk)
    await this.file.write(chunk, this.size)
    this.size += chunk.length
  }

  /**
   * Verifies the content against `expectedHash` (when given), makes it durable, and moves it under its hash.
   * On a mismatch nothing is kept and the error says the media is damaged.
   */
  async commit(expectedHash?: string): Promise<{ hash: string; size: number }> {
    const hash = this.hasher.digest('hex')
    if (expectedHash !== undefined && hash !== expectedHash) {
      await this.abort()
      throw damaged(`A photo or recording in the file is damaged (its content does not match its fingerprint ${expectedHash.slice(0, 12)}…).`)
    }
    try {
      await this.file.sync()
      await this.file.close()
      this.done = true
      const finalPath = this.store.pathOf(hash)
      await this.disk.mkdirp(path.dirname(finalPath))
      await this.disk.rename(this.tmpPath, finalPath)
      return { hash, size: this.size }
    } catch (err) {
      await this.abort()
      throw err
    }
  }

  async abort(): Promise<void> {
    if (!this.done) {
      this.done = true
      await this.file.close().catch(() => undefined)
    }
    await this.disk.unlink(this.tmpPath).catch(() => undefined)
  }
}
