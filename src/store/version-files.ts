import { closeSync, existsSync, fdatasync, fdatasyncSync, fstatSync, fsyncSync, mkdirSync, openSync, readdirSync, readSync, statSync, unlinkSync, writevSync } from 'node:fs'
import path from 'node:path'
import type { Database } from 'lmdb'
import { diskError, FerryError } from '../errors.js'
import { folderFsyncRefused } from '../fs/node-disk.js'

/** Version files a reader keeps open at once (see `descriptor`). */
const MAX_OPEN_FILES = 32

/**
 * Envelopes of large writes, kept in append-only files beside the database (`<data folder>/versions/<id>.blocks`)
 * rather than in LMDB; the log's block entry then says where they are (version-block.ts, "pointer blocks").
 *
 * Why: LMDB is memory-mapped, so reading a 130 MB log once (creating a sync file, exporting) left every page of it
 * in the process's resident memory. Read with pread, the bytes pass through the page cache, which the kernel owns
 * and shares, and the process holds one block at a time. Writing them is one sequential append and one fdatasync
 * instead of LMDB's copy into overflow pages. Small writes (one edit, a small sync) stay inside LMDB, where one
 * transaction keeps them, so a folder does not fill with tiny files.
 *
 * Safety, the same as a block inside LMDB:
 * - a file is written and fdatasynced, and its folder fsynced, before the transaction that refers to it commits;
 * - that transaction also registers the file (`versionFiles` database); a file nobody registered is the leftover of
 *   a write that never committed (a crash, a full disk) and is removed by the next write (`removeLeftovers`, under
 *   the writer lock, so never while another process is still writing one);
 * - a registered file is never written again: later writes make new files.
 */
export class VersionFiles {
  private readonly open = new Map<number, number>()

  constructor(
    private readonly dir: string,
    private readonly registry: Database<true, number>,
    /** Called in the registering transaction, before the registration. */
    private readonly beforeRegister: () => void,
  ) {}

  /**
   * Reads `length` bytes at `position` of a registered file. Throws a plain error when the file is missing or
   * shorter than the database says (a data folder copied without its `versions` folder, or damaged).
   */
  read(id: number, position: number, length: number): Buffer {
    const out = Buffer.allocUnsafe(length)
    let done = 0
    try {
      const fd = this.descriptor(id)
      while (done < length) {
        const n = readSync(fd, out, done, length - done, position + done)
        if (n === 0) break
        done += n
      }
    } catch (err) {
      // A missing file is a folder copied without it; anything else is the disk (EIO, EACCES, EMFILE…).
      throw (err as NodeJS.ErrnoException).code === 'ENOENT' ? this.damagedFolder(id, err) : diskError(err, this.pathOf(id))
    }
    if (done < length) throw this.damagedFolder(id)
    return out
  }

  /**
   * Throws the same plain error when the database refers to version files and their folder is missing (a data
   * folder copied without it), so the store refuses to open rather than write on as if nothing were missing.
   */
  checkFolder(): void {
    const last = this.lastRegistered()
    if (last !== 0 && !existsSync(this.dir)) throw this.damagedFolder(last)
  }

  /** A new file for one write; the caller registers it (`register`) in the transaction that refers to it. */
  create(): VersionFileWriter {
    // The first file also makes the folder: its name must be as durable as the files in it.
    if (mkdirSync(this.dir, { recursive: true, mode: 0o700 }) !== undefined) syncFolder(path.dirname(this.dir))
    let id = Math.max(this.lastRegistered(), ...this.onDisk()) + 1
    for (;;) {
      try {
        return new VersionFileWriter(id, this.pathOf(id), this.dir, openSync(this.pathOf(id), 'wx', 0o600))
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw diskError(err, this.dir)
        id++
      }
    }
  }

  /**
   * Records a written file as part of the store; call inside the write transaction that refers to it. Throws (so
   * the transaction aborts) if the file at its path is no longer the one written: only another process that wrongly
   * believed it held the writer lock could have removed or replaced it, and registering it would lose the versions.
   */
  register(file: VersionFileWriter): void {
    const now = statSync(this.pathOf(file.id), { throwIfNoEntry: false })
    if (now?.ino !== file.inode.ino || now.dev !== file.inode.dev) {
      throw new FerryError('io', `The data folder's file ${this.pathOf(file.id)} was removed or replaced while Ferry was writing it (by another Ferry process?). Nothing was changed; try again.`)
    }
    this.beforeRegister()
    this.registry.putSync(file.id, true)
  }

  /** Removes files no committed transaction registered. Call only while holding the writer lock. */
  removeLeftovers(): void {
    for (const id of this.onDisk()) {
      if (this.registry.get(id) === true) continue
      this.forget(id)
      try {
        unlinkSync(this.pathOf(id))
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw diskError(err, this.dir)
      }
    }
  }

  close(): void {
    for (const id of [...this.open.keys()]) this.forget(id)
  }

  private descriptor(id: number): number {
    let fd = this.open.get(id)
    if (fd === undefined) {
      // A folder gains a file per large write, for years: keep only the most recently opened ones open, well under
      // the usual limit of 1,024 descriptors a process may hold. Reads go file by file, so few reopen.
      if (this.open.size >= MAX_OPEN_FILES) this.forget(this.open.keys().next().value!)
      fd = openSync(this.pathOf(id), 'r')
      this.open.set(id, fd)
    }
    return fd
  }

  private forget(id: number): void {
    const fd = this.open.get(id)
    if (fd === undefined) return
    this.open.delete(id)
    closeSync(fd)
  }

  private damagedFolder(id: number, cause?: unknown): FerryError {
    return new FerryError(
      'io',
      `The data folder's file ${this.pathOf(id)} is missing or shorter than its database says (was the folder copied without its versions folder?). Nothing was changed; restore the whole folder from a copy and try again.`,
      { cause },
    )
  }

  private pathOf(id: number): string {
    return path.join(this.dir, `${id}.blocks`)
  }

  private lastRegistered(): number {
    for (const key of this.registry.getKeys({ reverse: true, limit: 1 })) return key
    return 0
  }

  private onDisk(): number[] {
    let names: string[]
    try {
      names = readdirSync(this.dir)
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return []
      throw diskError(err, this.dir)
    }
    return names.flatMap((name) => {
      const match = /^(\d+)\.blocks$/.exec(name)
      return match ? [Number(match[1])] : []
    })
  }
}

/**
 * Appends envelopes to one new version file. Writes are plain `write`s into the page cache (the kernel writes them
 * back while the read goes on); `sync` makes the file and its name durable before the commit that refers to it.
 */
export class VersionFileWriter {
  private position = 0
  private closed = false

  /** Which file this is, whatever its name: `register` checks the name still leads to it. */
  readonly inode: { ino: number; dev: number }

  constructor(
    readonly id: number,
    private readonly filePath: string,
    private readonly dir: string,
    private readonly fd: number,
  ) {
    const { ino, dev } = fstatSync(fd)
    this.inode = { ino, dev }
  }

  /** Appends the envelopes one after the other; returns the position of the first. */
  append(envelopes: readonly Uint8Array[], bytes: number): number {
    const at = this.position
    let done = 0
    try {
      while (done < bytes) {
        // writevSync may write less than asked (a signal, a nearly full disk): continue from where it stopped.
        const n = writevSync(this.fd, done === 0 ? (envelopes as Uint8Array[]) : remainder(envelopes, done), at + done)
        if (n === 0) throw Object.assign(new Error('write returned 0'), { code: 'EIO' })
        done += n
      }
    } catch (err) {
      throw diskError(err, this.filePath)
    }
    this.position += bytes
    return at
  }

  /** fdatasync of the file and fsync of its folder, without blocking the event loop (a receive). */
  async sync(): Promise<void> {
    await new Promise<void>((resolve, reject) => fdatasync(this.fd, (err) => (err ? reject(diskError(err, this.filePath)) : resolve())))
    syncFolder(this.dir)
  }

  /** The same, blocking: inside a write transaction (a local write). */
  syncNow(): void {
    try {
      fdatasyncSync(this.fd)
    } catch (err) {
      throw diskError(err, this.filePath)
    }
    syncFolder(this.dir)
  }

  close(): void {
    if (this.closed) return
    this.closed = true
    closeSync(this.fd)
  }

  /**
   * Closes and removes the file of a write that failed, so a full disk gets its space back at once. Nothing refers
   * to it (it is registered only in the transaction that failed). Best effort: what stays is removed as a leftover.
   */
  discard(): void {
    this.close()
    try {
      unlinkSync(this.filePath)
    } catch {
      // removeLeftovers will try again
    }
  }
}

/** fsync of a folder, so the names in it are durable. Blocking, for inside a write transaction (node-disk's syncDir is async). */
function syncFolder(dir: string): void {
  // Windows cannot open a folder as a file; NTFS makes the name durable with the file's own flush.
  if (process.platform === 'win32') return
  const dirFd = openSync(dir, 'r')
  try {
    fsyncSync(dirFd)
  } catch (err) {
    if (!folderFsyncRefused(err)) throw diskError(err, dir)
  } finally {
    closeSync(dirFd)
  }
}

/** The envelopes' bytes from `skip` on, as views. */
function remainder(envelopes: readonly Uint8Array[], skip: number): Uint8Array[] {
  const out: Uint8Array[] = []
  for (const e of envelopes) {
    if (skip >= e.length) {
      skip -= e.length
      continue
    }
    out.push(skip > 0 ? e.subarray(skip) : e)
    skip = 0
  }
  return out
}
