import { createHash } from 'node:crypto'
import path from 'node:path'
import { damaged, diskError, FerryError } from '../errors.js'
import type { Disk, DiskFile } from '../fs/disk.js'
import { statOrNothing } from '../fs/is-folder.js'
import { ChunkCipher } from './chunk-crypto.js'
import { decodeCommit, type Commit } from './commit.js'
import { FOOTER_BYTES, FOOTER_MAGIC, FRAME_BYTES, HEADER_BYTES, isChunkKind, MAX_CIPHERTEXT, ChunkKind, OFFSET_PROJECT_ID, TAG_BYTES, hashChunkDigest } from './format.js'
import { parseHeader, type FileHeader } from './header.js'

export interface Chunk {
  offset: number
  kind: ChunkKind
  plaintext: Buffer
}

/** What lies after the last valid commit. */
export type Tail =
  | { state: 'clean' }
  /** An interrupted append: complete valid chunks, then an incomplete one or zeros. Ignored; cut by the next write. */
  | { state: 'torn'; bytes: number }
  /** Bytes that are not an interrupted Ferry write: damage or foreign data. Ignored by sync, reported by verify. */
  | { state: 'damaged'; bytes: number; at: number; reason: string }

export interface FileState {
  /** Commits oldest first; empty for a file that holds only its header. */
  commits: Commit[]
  /** Where the content the last commit covers ends (just past its footer): the next append starts here. */
  validEnd: number
  tail: Tail
}

const READ_BLOCK = 4 * 1024 * 1024
/** The reason given for a file with data, or only a header, but no commit: a copy cut short. */
const CUT_SHORT = 'it ends before its first commit'

/**
 * Reads a sync file. Everything read is treated as hostile: lengths are checked against limits and against the
 * file's size before anything is allocated, every chunk is authenticated before it is parsed, and a failure is a
 * FerryError('damaged') with a plain message (exit 4), never a crash.
 */
export class SyncFileReader {
  private constructor(
    readonly filePath: string,
    readonly file: DiskFile,
    readonly header: FileHeader,
    readonly size: number,
    private readonly cipher: ChunkCipher,
  ) {}

  /**
   * Opens the file and checks its header. `expectProject` is the reader's project id: a file of another project
   * throws FerryError('other-project') before any key is tried.
   */
  static async open(disk: Disk, filePath: string, secret: Buffer, expectProject: Buffer, describeProject: (id: Buffer) => string): Promise<SyncFileReader> {
    const name = path.basename(filePath)
    refuseFolder(filePath)
    let file: DiskFile
    try {
      file = await disk.open(filePath, 'read')
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new FerryError('bad-input', `There is no file at ${filePath}. Check the name and try again.`)
      throw diskError(err, filePath, { reading: true })
    }
    try {
      const size = await file.size()
      const head = Buffer.alloc(Math.min(size, HEADER_BYTES))
      await readFully(file, head, 0, filePath)
      if (size === 0) throw damaged(`${name} is empty: the copy was cut off before anything was written. Copy it again.`)
      const header = parseHeader(head, name)
      if (!header.projectId.equals(expectProject)) {
        if (await isOursWithDamagedId(file, filePath, size, head, secret, expectProject)) {
          throw damaged(`${name} is a file of this project whose header is damaged (it names another project). Nothing was changed. Use another copy of the file.`)
        }
        throw new FerryError('other-project', `${name} belongs to another project (${describeProject(header.projectId)}), not to this one. Nothing was changed. Sync it on a computer of that project, or join that project first.`)
      }
      return new SyncFileReader(filePath, file, header, size, new ChunkCipher(secret, header))
    } catch (err) {
      await file.close().catch(() => undefined)
      throw err
    }
  }

  get name(): string {
    return path.basename(this.filePath)
  }

  async close(): Promise<void> {
    await this.file.close().catch(() => undefined)
  }

  /**
   * Finds the last valid commit and the history before it. Fast path: the footer at the very end points at the
   * last commit. Otherwise (a torn tail) the chunk frames are walked from the start, which costs one small read per
   * chunk and never reads the data.
   */
  async state(): Promise<FileState> {
    const fast = await this.commitFromFooter(this.size)
    if (fast) return { commits: await this.historyOf(fast), validEnd: this.size, tail: { state: 'clean' } }
    // A complete footer at the very end means the writer finished a commit there: if that commit does not check
    // out, committed data is damaged, and falling back to an earlier commit would cut it off.
    if (this.size >= HEADER_BYTES + FOOTER_BYTES && (await this.readAt(this.size - 8, 8)).equals(FOOTER_MAGIC)) {
      throw this.damagedAt(this.size - FOOTER_BYTES, 'its last commit fails its check')
    }
    return this.scan()
  }

  /** The commit whose footer ends at `end`, or undefined when there is none there. */
  private async commitFromFooter(end: number): Promise<Commit | undefined> {
    if (end < HEADER_BYTES + FRAME_BYTES + FOOTER_BYTES) return undefined
    const footer = await this.readAt(end - FOOTER_BYTES, FOOTER_BYTES)
    if (!footer.subarray(8).equals(FOOTER_MAGIC)) return undefined
    const offset = Number(footer.readBigUInt64BE(0))
    if (offset < HEADER_BYTES || offset > end - FOOTER_BYTES - FRAME_BYTES) return undefined
    const found = await this.commitAt(offset)
    if (!found || offset + found.chunkLength + FOOTER_BYTES !== end) return undefined
    return found.commit
  }

  /** Reads and opens the commit chunk at `offset`. */
  private async commitAt(offset: number): Promise<{ commit: Commit; chunkLength: number } | undefined> {
    const frame = await this.readAt(offset, FRAME_BYTES)
    const length = frame.readUInt32BE(0)
    if (frame[4] !== ChunkKind.commit || length > MAX_CIPHERTEXT[ChunkKind.commit] || offset + FRAME_BYTES + length > this.size) return undefined
    const plain = this.cipher.open(frame, await this.readAt(offset + FRAME_BYTES, length), offset)
    const commit = plain && decodeCommit(plain, offset)
    return commit ? { commit, chunkLength: FRAME_BYTES + length } : undefined
  }

  private async footerPointsTo(at: number, commitOffset: number): Promise<boolean> {
    const footer = await this.readAt(at, FOOTER_BYTES)
    return footer.subarray(8).equals(FOOTER_MAGIC) && Number(footer.readBigUInt64BE(0)) === commitOffset
  }

  /** Follows `prev` links back to the first commit; every link must be consistent or the file is damaged. */
  private async historyOf(last: Commit): Promise<Commit[]> {
    const commits = [last]
    let current = last
    while (current.prev !== null) {
      if (current.prev >= current.offset) throw this.damagedAt(current.offset, 'its commits are out of order')
      const found = await this.commitAt(current.prev)
      if (!found || found.commit.n !== current.n - 1) throw this.damagedAt(current.prev, 'an earlier commit is unreadable')
      if (current.segmentStart !== found.commit.offset + found.chunkLength + FOOTER_BYTES) throw this.damagedAt(current.segmentStart, 'its commits do not line up')
      if (!(await this.footerPointsTo(found.commit.offset + found.chunkLength, found.commit.offset))) throw this.damagedAt(found.commit.offset + found.chunkLength, 'a commit has a damaged footer')
      commits.push(found.commit)
      current = found.commit
    }
    if (current.n !== 1 || current.segmentStart !== HEADER_BYTES) throw this.damagedAt(HEADER_BYTES, 'its first commit is missing')
    return commits.reverse()
  }

  /** Walks every frame from the header on, keeping the last complete commit and classifying what follows it. */
  private async scan(): Promise<FileState> {
    let offset = HEADER_BYTES
    let last: Commit | undefined
    let validEnd = HEADER_BYTES
    const frame = Buffer.alloc(FRAME_BYTES)
    while (offset < this.size) {
      const remaining = this.size - offset
      // A frame cut short can only be the end of an interrupted write: every frame Ferry writes is complete.
      if (remaining < FRAME_BYTES) return this.tailFrom(last, validEnd, { state: 'torn', bytes: this.size - validEnd })
      await readFully(this.file, frame, offset, this.filePath)
      const kind = frame[4]!
      const length = frame.readUInt32BE(0)
      if (!isChunkKind(kind) || length > MAX_CIPHERTEXT[kind]) {
        return this.tailFrom(last, validEnd, await this.tornOrDamaged(offset, 'holds data that is not a Ferry chunk'))
      }
      const chunkEnd = offset + FRAME_BYTES + length
      if (chunkEnd > this.size) return this.tailFrom(last, validEnd, { state: 'torn', bytes: this.size - validEnd })
      if (kind === ChunkKind.commit) {
        const plain = this.cipher.open(frame, await this.readAt(offset + FRAME_BYTES, length), offset)
        const commit = plain && decodeCommit(plain, offset)
        if (!commit) return this.tailFrom(last, validEnd, { state: 'damaged', bytes: this.size - validEnd, at: offset, reason: 'a commit fails its check' })
        if (chunkEnd + FOOTER_BYTES > this.size) return this.tailFrom(last, validEnd, { state: 'torn', bytes: this.size - validEnd })
        const footer = await this.readAt(chunkEnd, FOOTER_BYTES)
        if (!footer.subarray(8).equals(FOOTER_MAGIC) || Number(footer.readBigUInt64BE(0)) !== offset) {
          return this.tailFrom(last, validEnd, await this.tornOrDamaged(chunkEnd, 'a commit has a damaged footer'))
        }
        last = commit
        validEnd = chunkEnd + FOOTER_BYTES
        offset = validEnd
      } else {
        offset = chunkEnd
      }
    }
    // Complete chunks after the last commit, but no commit for them: an append interrupted between chunks.
    return this.tailFrom(last, validEnd, validEnd === this.size ? { state: 'clean' } : { state: 'torn', bytes: this.size - validEnd })
  }

  private async tailFrom(last: Commit | undefined, validEnd: number, tail: Tail): Promise<FileState> {
    const commits = last ? await this.historyOf(last) : []
    if (tail.state !== 'clean' && validEnd === this.size) tail = { state: 'clean' }
    // Data but no commit at all, or a header alone, is not an interrupted sync: a file is only ever given its name
    // (renamed from a temporary one) once its first commit is written. It is a copy cut short, and cutting it off
    // would throw away what it carries; salvage can still read it.
    if (!last && (tail.state === 'torn' || validEnd === this.size)) tail = { state: 'damaged', bytes: this.size - validEnd, at: validEnd, reason: CUT_SHORT }
    return { commits, validEnd, tail }
  }

  /** Zeros (space a crash allocated but never wrote) count as an interrupted write; anything else is damage. */
  private async tornOrDamaged(offset: number, reason: string): Promise<Tail> {
    for (let at = offset; at < this.size; at += READ_BLOCK) {
      const block = await this.readAt(at, Math.min(READ_BLOCK, this.size - at))
      if (block.some((b) => b !== 0)) return { state: 'damaged', bytes: this.size - offset, at: offset, reason }
    }
    return { state: 'torn', bytes: this.size - offset }
  }

  /**
   * Streams the chunks of one commit's segment, opened and authenticated, then checks the segment's hash against
   * the commit. Memory stays bounded by one read block and one chunk. With `only`, chunks of other kinds are
   * skipped unread (but for their tags, which the segment hash covers).
   */
  async *segment(commit: Commit, only?: ChunkKind): AsyncGenerator<Chunk> {
    const hasher = createHash('sha256')
    let offset = commit.segmentStart
    const end = commit.offset
    // One read buffer, refilled in place: a fresh 4 MiB buffer per read made a large receive churn through as many
    // bytes of short-lived memory as the file has, and the process's peak size with it. Only ciphertext lives here;
    // what is yielded is the opened plaintext, a buffer of its own.
    let buffer = Buffer.allocUnsafe(0)
    let block = buffer
    let blockStart = offset
    const take = async (at: number, length: number): Promise<Buffer> => {
      if (at + length > end) throw this.damagedAt(at, 'a chunk runs past its commit')
      if (at < blockStart || at + length > blockStart + block.length) {
        const size = Math.max(length, Math.min(READ_BLOCK, end - at))
        if (buffer.length < size) buffer = Buffer.allocUnsafe(size)
        block = buffer.subarray(0, size)
        await readFully(this.file, block, at, this.filePath)
        blockStart = at
      }
      return block.subarray(at - blockStart, at - blockStart + length)
    }
    while (offset < end) {
      // Copied: taking the body may refill the buffer under it.
      const frame = Buffer.from(await take(offset, FRAME_BYTES))
      const kind = frame[4]!
      const length = frame.readUInt32BE(0)
      if (!isChunkKind(kind) || kind === ChunkKind.commit || length > MAX_CIPHERTEXT[kind]) throw this.damagedAt(offset, 'a chunk header is damaged')
      if (only !== undefined && kind !== only) {
        // Not wanted: only its tag is read, for the segment hash; the body is neither read nor opened.
        hashChunkDigest(hasher, frame, await take(offset + FRAME_BYTES + length - TAG_BYTES, TAG_BYTES))
        offset += FRAME_BYTES + length
        continue
      }
      const body = await take(offset + FRAME_BYTES, length)
      hashChunkDigest(hasher, frame, body.subarray(body.length - TAG_BYTES))
      const plaintext = this.cipher.open(frame, body, offset)
      if (!plaintext) throw this.damagedAt(offset, 'a chunk fails its check')
      yield { offset, kind, plaintext }
      offset += FRAME_BYTES + length
    }
    if (!hasher.digest().equals(commit.segmentHash)) throw this.damagedAt(commit.segmentStart, 'a part of it does not match its commit')
  }

  /** What follows the last commit (or the header) is not an interrupted write that may be cut off: see FileState. */
  damagedTail(state: FileState, intact?: { versions: number; blobs: number }): FerryError {
    if (state.tail.state !== 'damaged') throw new Error('the tail is not damaged')
    if (state.commits.length === 0 && state.tail.reason === CUT_SHORT) {
      return damaged(`${this.name} is cut short: it ends before its first commit (was the copy interrupted?), so none of it can be synced. Nothing was changed. Copy it again from where it came from (the other computer, the email), or ask for it again.`)
    }
    const before = intact ? ` Everything before them is intact (records: ${intact.versions}, photos: ${intact.blobs}).` : ''
    return damaged(
      `${this.name} is damaged ${state.commits.length === 0 ? 'before its first commit' : 'after its last commit'}: the ${state.tail.bytes} bytes from byte ${state.tail.at} cannot be read (${state.tail.reason}).${before} Sync refuses the file rather than cut them off, as they may be data whose commit was damaged. Nothing was changed. Use another copy of the file.`,
    )
  }

  damagedAt(offset: number, what: string): FerryError {
    return damaged(`${this.name} is damaged: ${what} (at byte ${offset}). Nothing was changed. Use another copy of the file, or run \`ferry verify\` for details.`)
  }

  private async readAt(position: number, length: number): Promise<Buffer> {
    const buffer = Buffer.allocUnsafe(length)
    await readFully(this.file, buffer, position, this.filePath)
    return buffer
  }
}

async function readFully(file: DiskFile, buffer: Buffer, position: number, filePath: string): Promise<void> {
  let done = 0
  while (done < buffer.length) {
    let n: number
    try {
      n = await file.read(buffer, done, buffer.length - done, position + done)
    } catch (err) {
      throw diskError(err, filePath)
    }
    if (n === 0) throw damaged(`${path.basename(filePath)} ended while it was being read (was it changed or removed?). Nothing was changed; try again.`)
    done += n
  }
}

/**
 * A folder given where a sync file was expected gets a plain answer. Opening a folder for reading succeeds on Linux
 * and fails only at the first read (EISDIR), which would otherwise read as a failing drive.
 */
export function refuseFolder(filePath: string): void {
  // One look before opening: a pipe would make the open wait, forever, for a writer.
  const stats = statOrNothing(filePath)
  if (stats?.isDirectory()) {
    throw new FerryError('bad-input', `${filePath} is a folder, not a sync file. Give the sync file's own name, such as ${path.join(filePath, 'field.ferry')}.`)
  }
  if (stats && (stats.isFIFO() || stats.isSocket())) {
    throw new FerryError('bad-input', `${filePath} is a pipe, not a sync file. Give the sync file itself (a sync file is read and written in place).`)
  }
}

/**
 * Whether a file whose header names another project is this project's after all, with a damaged project id: its
 * first chunk opens with the header rebuilt around this project's id. Every chunk's authentication covers the
 * header, so only the right id (and the file's own salt, under this project's key) can open it. Read only when the
 * ids differ, to tell "another project" from "damaged".
 */
export async function isOursWithDamagedId(file: DiskFile, filePath: string, size: number, head: Buffer, secret: Buffer, projectId: Buffer): Promise<boolean> {
  if (size < HEADER_BYTES + FRAME_BYTES) return false
  const rebuilt = Buffer.from(head.subarray(0, HEADER_BYTES))
  projectId.copy(rebuilt, OFFSET_PROJECT_ID)
  const frame = Buffer.alloc(FRAME_BYTES)
  await readFully(file, frame, HEADER_BYTES, filePath)
  const kind = frame[4]!
  const length = frame.readUInt32BE(0)
  if (!isChunkKind(kind) || length > MAX_CIPHERTEXT[kind] || HEADER_BYTES + FRAME_BYTES + length > size) return false
  const body = Buffer.alloc(length)
  await readFully(file, body, HEADER_BYTES + FRAME_BYTES, filePath)
  const header = parseHeader(rebuilt, '')
  return new ChunkCipher(secret, header).open(frame, body, HEADER_BYTES) !== undefined
}
