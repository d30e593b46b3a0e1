import { createHash, randomBytes } from 'node:crypto'
import { createReadStream, existsSync, readdirSync, rmSync } from 'node:fs'
import path from 'node:path'
import type { Disk, DiskFile } from '../fs/disk.js'
import { damaged } from '../errors.js'

export const SHA256_HEX = /^[0-9a-f]{64}$/

/**
 * fsyncs of received blobs in flight at once. Issued together, the filesystem commits them in fewer journal
 * transactions, and a receive of many small files (each photo comes with a preview and a thumbnail) waits on
 * fsyncs more than on anything else: 1k obs + 100 photos import, 9 runs alternating, 2 at once 634 ms median,
 * 8 at once 547 ms; 16 no better. They take thread-pool threads the blob writes also use; that cost less than it saved.
 */
const SYNCS_AT_ONCE = 8

/**
 * Photos, audio and video, addressed by SHA-256 and kept as files beside the database: `blobs/ab/abcdef…`.
 * A blob is streamed into `tmp/` while its hash is computed, checked against the expected hash, fsynced, and only
 * then renamed to its final name, so a crash never leaves a half blob under a real name. Blobs are never held
 * whole in memory.
 */
export class MediaStore {
  // Folders known to exist, so receiving hundreds of photos costs one mkdir per folder, not two per photo.
  private readonly madeDirs = new Set<string>()
  // fsyncs of blobs written with deferSync, started as each blob lands so they overlap the rest of the receive.
  private readonly syncing = new Map<string, Promise<void>>()
  private readonly syncQueue = new Limiter(SYNCS_AT_ONCE)

  constructor(
    readonly root: string,
    private readonly disk: Disk,
  ) {}

  pathOf(hash: string): string {
    if (!SHA256_HEX.test(hash)) throw new Error(`not a SHA-256 hex: ${hash}`)
    return path.join(this.root, 'blobs', hash.slice(0, 2), hash)
  }

  /** Removes temp files left by a crash, and forgets fsyncs of an earlier receive. Called when a receive starts. */
  clearTemp(): void {
    this.syncing.clear()
    const tmp = path.join(this.root, 'tmp')
    if (!existsSync(tmp)) return
    for (const name of readdirSync(tmp)) rmSync(path.join(tmp, name), { force: true })
  }

  async beginWrite(): Promise<BlobWriter> {
    const tmpDir = path.join(this.root, 'tmp')
    await this.ensureDir(tmpDir)
    const tmpPath = path.join(tmpDir, `${randomBytes(8).toString('hex')}.part`)
    const file = await this.retryIfFolderGone(() => this.disk.open(tmpPath, 'create-new'), tmpDir)
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

  /**
   * Makes blobs written with `deferSync` durable, many at once: fsyncs issued together let the filesystem batch
   * them into a few journal commits instead of one per photo. Most were started as their blob landed (see
   * `syncSoon`); this waits for those and does the rest. Blobs count as held only once the index says so, and the
   * index is written after this, so a crash before it leaves at worst an unindexed file that is written again.
   */
  async syncBlobs(hashes: readonly string[]): Promise<void> {
    const started = hashes.map((h) => this.syncing.get(h) ?? this.syncFile(this.pathOf(h)))
    try {
      await Promise.all(started)
    } finally {
      for (const h of hashes) this.syncing.delete(h)
    }
    const dirs = [...new Set(hashes.map((h) => path.dirname(this.pathOf(h))))]
    await inParallel(dirs.map((dir) => () => this.disk.syncDir(dir)))
  }

  /**
   * Removes blob files the index does not list (the caller checked), as a failed receive leaves them. Best effort:
   * the receive's own error is what the user needs to hear, and a file left behind costs only space.
   */
  async removeBlobs(hashes: readonly string[]): Promise<void> {
    // Their fsyncs started as they landed: let those end first, so no file is left open once this returns.
    await Promise.allSettled(hashes.map((hash) => this.syncing.get(hash)))
    for (const hash of hashes) this.syncing.delete(hash)
    await inParallel(hashes.map((hash) => () => this.disk.unlink(this.pathOf(hash)).catch(() => undefined)))
  }

  /** Starts the fsync of a blob just written with `deferSync`, SYNCS_AT_ONCE at a time. */
  syncSoon(hash: string): void {
    const done = this.syncQueue.run(() => this.syncFile(this.pathOf(hash)))
    done.catch(() => undefined) // reported by syncBlobs, which awaits it
    this.syncing.set(hash, done)
  }

  private async syncFile(filePath: string): Promise<void> {
    const file = await this.disk.open(filePath, 'read')
    try {
      await file.sync()
    } finally {
      await file.close()
    }
  }

  async ensureDir(dir: string): Promise<void> {
    if (this.madeDirs.has(dir)) return
    await this.disk.mkdirp(dir)
    this.madeDirs.add(dir)
  }

  /** Runs fn; if a folder we thought existed is gone (removed behind our back), makes it again and retries once. */
  async retryIfFolderGone<T>(fn: () => Promise<T>, dir: string): Promise<T> {
    try {
      return await fn()
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
      this.madeDirs.clear()
      await this.ensureDir(dir)
      return fn()
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
  private inFlight: Promise<void> = Promise.resolve()

  constructor(
    private readonly store: MediaStore,
    private readonly disk: Disk,
    private readonly file: DiskFile,
    private readonly tmpPath: string,
  ) {}

  /** Queues a write and returns once the previous one finished: one write in flight while the caller goes on. */
  async append(chunk: Buffer): Promise<void> {
    this.hasher.update(chunk)
    const previous = this.inFlight
    const current = this.file.write(chunk, this.size)
    current.catch(() => undefined) // awaited by the next append or by commit
    this.inFlight = current
    this.size += chunk.length
    await previous
  }

  /**
   * Verifies the content against `expectedHash` (when given), makes it durable, and moves it under its hash.
   * On a mismatch nothing is kept and the error says the media is damaged.
   */
  async commit(expectedHash?: string, opts: { deferSync?: boolean } = {}): Promise<{ hash: string; size: number }> {
    try {
      await this.inFlight
    } catch (err) {
      await this.abort()
      throw err
    }
    const hash = this.hasher.digest('hex')
    if (expectedHash !== undefined && hash !== expectedHash) {
      await this.abort()
      throw damaged(`A photo or recording in the file is damaged (its content does not match its fingerprint ${expectedHash.slice(0, 12)}…).`)
    }
    try {
      if (!opts.deferSync) await this.file.sync()
      await this.file.close()
      this.done = true
      const finalPath = this.store.pathOf(hash)
      await this.store.ensureDir(path.dirname(finalPath))
      await this.store.retryIfFolderGone(() => this.disk.rename(this.tmpPath, finalPath), path.dirname(finalPath))
      if (opts.deferSync) this.store.syncSoon(hash)
      return { hash, size: this.size }
    } catch (err) {
      await this.abort()
      throw err
    }
  }

  async abort(): Promise<void> {
    if (!this.done) {
      this.done = true
      await this.inFlight.catch(() => undefined)
      await this.file.close().catch(() => undefined)
    }
    await this.disk.unlink(this.tmpPath).catch(() => undefined)
  }
}

/** Runs tasks with up to 16 at a time (enough to keep the disk queue full without flooding the thread pool). */
async function inParallel(tasks: Array<() => Promise<void>>): Promise<void> {
  const queue = [...tasks]
  const worker = async () => {
    for (let task = queue.shift(); task; task = queue.shift()) await task()
  }
  await Promise.all(Array.from({ length: Math.min(16, queue.length) }, worker))
}

/** Runs at most `limit` tasks at a time, in the order they were given. */
class Limiter {
  private active = 0
  private readonly waiting: Array<() => void> = []

  constructor(private readonly limit: number) {}

  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.active >= this.limit) await new Promise<void>((resolve) => this.waiting.push(resolve))
    this.active++
    try {
      return await task()
    } finally {
      this.active--
      this.waiting.shift()?.()
    }
  }
}
