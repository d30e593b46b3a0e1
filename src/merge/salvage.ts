import path from 'node:path'
import { damaged, diskError, FerryError } from '../errors.js'
import type { DiskFile } from '../fs/disk.js'
import type { BlobWriter } from '../store/media-store.js'
import type { Store } from '../store/store.js'
import { openEnvelope, verifyEnvelopeSignature, type Version } from '../store/version.js'
import { ChunkCipher } from '../syncfile/chunk-crypto.js'
import { decodeCommit } from '../syncfile/commit.js'
import {
  BLOB_PIECE_HEADER,
  ChunkKind,
  FILE_SALT_BYTES,
  FOOTER_BYTES,
  FOOTER_MAGIC,
  FORMAT_VERSION,
  FRAME_BYTES,
  HEADER_BYTES,
  isChunkKind,
  MAGIC,
  MAX_CIPHERTEXT,
  OFFSET_FILE_SALT,
  OFFSET_PROJECT_ID,
  OFFSET_VERSION,
} from '../syncfile/format.js'
import { parseHeader, type FileHeader } from '../syncfile/header.js'
import { isOursWithDamagedId, refuseFolder } from '../syncfile/reader.js'
import { describeProject } from './describe-project.js'
import { decodeRecords } from './records.js'
import type { SyncProgress } from './types.js'
import { VersionChains } from './version-chains.js'
import { observationChecker } from '../store/comapeo-schema.js'
import { monotonicMs } from '../monotonic.js'

/**
 * Salvage: take everything still intact out of a damaged sync file, when `sync` refuses it.
 *
 * The file is only ever opened for reading. Its chunks are walked one by one from the header; a chunk that fails
 * authentication is skipped and the walk resynchronises on the next chunk that authenticates. From what opens:
 *
 * - versions are imported per device only as far as their hash chain continues unbroken from what this computer
 *   already holds, and only up to the newest version whose device signature verifies (that signature vouches for
 *   the chain below it) — exactly the rules of a normal sync, applied to the longest intact prefix;
 * - photos and recordings are reassembled from consecutive pieces and kept only when their SHA-256 matches.
 *
 * Everything found is made visible in one transaction, as a sync does. The report says what was imported and what
 * could not be read.
 */
export interface SalvageOptions {
  onProgress?: (progress: SyncProgress) => void
  signal?: AbortSignal
}

export interface SalvageReport {
  file: string
  received: { versions: number; blobs: number; bytes: number }
  /** Chunks that opened, and the byte ranges that could not be read (damaged or foreign). */
  chunks: { intact: number; damaged: number }
  damagedRanges: Array<{ start: number; end: number }>
  /** Versions found intact but not importable (their device's chain is broken before them, or unsigned). */
  versionsUnusable: number
  /** Photos whose pieces were found but did not add up to their fingerprint. */
  blobsDamaged: number
  /** What the readable commits say the file holds but could not be recovered (nor was already here). */
  missing: { versions: number; blobs: number }
  /** Devices whose history in the file stops early, with the reason. */
  devicesStopped: Array<{ deviceId: string; importedUpTo: number; reason: string }>
  ms: number
}

const BLOCK = 4 * 1024 * 1024

export async function salvageSyncFile(store: Store, filePath: string, opts: SalvageOptions = {}): Promise<SalvageReport> {
  const started = monotonicMs()
  const name = path.basename(filePath)
  return store.exclusive(async () => {
    refuseFolder(filePath)
    let file: DiskFile
    try {
      file = await store.disk.open(filePath, 'read')
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new FerryError('bad-input', `There is no file at ${filePath}. Check the name and try again.`)
      throw diskError(err, filePath)
    }
    // Photos are stored as they are found: if the salvage fails, those not in the index are removed (photos first,
    // as a receive does: on a full disk, their space is what lets the next try succeed).
    const stored: string[] = []
    try {
      const source = new Source(file, await file.size(), filePath)
      const header = await recoverHeader(store, source, name)
      const cipher = new ChunkCipher(store.projectSecret, header)
      const found = await walk(source, cipher, store, opts, stored)
      if (found.chunks.intact === 0) {
        await discardBlobs(store)
        throw damaged(`Nothing in ${name} could be read: it is too badly damaged, or not a file of this project. Nothing was changed. Use another copy of the file.`)
      }
      return await importFound(store, found, filePath, started)
    } catch (err) {
      await store.media.removeBlobs(stored.filter((hash) => !store.hasBlob(hash)))
      throw err
    } finally {
      await file.close().catch(() => undefined)
    }
  }, 'sync')
}

// ---- reading ----

/** Reads through one cached block, so walking frames costs one read per block, not one per chunk. */
class Source {
  private block: Buffer = Buffer.alloc(0)
  private blockStart = 0

  constructor(
    private readonly file: DiskFile,
    readonly size: number,
    private readonly filePath: string,
  ) {}

  /** See reader.ts: whether this file, naming another project in `head`, is one of `store`'s with a damaged header. */
  isOursWithDamagedId(head: Buffer, store: Store): Promise<boolean> {
    return isOursWithDamagedId(this.file, this.filePath, this.size, head, store.projectSecret, store.projectId)
  }

  async read(at: number, length: number): Promise<Buffer> {
    if (at < 0 || at + length > this.size) throw new RangeError('read past the end')
    if (at >= this.blockStart && at + length <= this.blockStart + this.block.length) return this.block.subarray(at - this.blockStart, at - this.blockStart + length)
    const want = Math.max(length, Math.min(BLOCK, this.size - at))
    const buffer = Buffer.allocUnsafe(want)
    let done = 0
    while (done < want) {
      let n: number
      try {
        n = await this.file.read(buffer, done, want - done, at + done)
      } catch (err) {
        throw diskError(err, this.filePath)
      }
      if (n === 0) throw damaged(`${path.basename(this.filePath)} got shorter while it was being read. Nothing was changed; try again.`)
      done += n
    }
    this.block = buffer
    this.blockStart = at
    return buffer.subarray(0, length)
  }
}

/**
 * The header as found, or — when only its fixed fields are damaged — rebuilt from this project's id and the file's
 * own salt (every chunk's authentication covers the header, so a rebuilt one is proven right by the first chunk
 * that opens with it).
 */
async function recoverHeader(store: Store, source: Source, name: string): Promise<FileHeader> {
  if (source.size < HEADER_BYTES + FRAME_BYTES) throw damaged(`${name} is too short to hold anything Ferry can recover.`)
  const found = Buffer.from(await source.read(0, HEADER_BYTES))
  const magicOk = found.subarray(0, MAGIC.length).equals(MAGIC)
  const version = found.readUInt16BE(OFFSET_VERSION)
  if (magicOk && version > FORMAT_VERSION) {
    throw new FerryError('newer-format', `${name} was made by a newer Ferry (file format ${version}). Update Ferry on this computer, then try again.`)
  }
  let asFound: FileHeader | undefined
  try {
    asFound = parseHeader(found, name)
  } catch {
    asFound = undefined
  }
  if (asFound && !asFound.projectId.equals(store.projectId) && !(await source.isOursWithDamagedId(found, store))) {
    throw new FerryError('other-project', `${name} belongs to another project (${describeProject(asFound.projectId)}), not to this one. Nothing was changed.`)
  }
  const rebuilt = Buffer.alloc(HEADER_BYTES)
  MAGIC.copy(rebuilt, 0)
  rebuilt.writeUInt16BE(FORMAT_VERSION, OFFSET_VERSION)
  store.projectId.copy(rebuilt, OFFSET_PROJECT_ID)
  found.copy(rebuilt, OFFSET_FILE_SALT, OFFSET_FILE_SALT, OFFSET_FILE_SALT + FILE_SALT_BYTES)
  return asFound?.projectId.equals(store.projectId) ? asFound : parseHeader(rebuilt, name)
}

interface Found {
  /** device → seq → distinct envelopes found for that slot. */
  envelopes: Map<string, Map<number, Buffer[]>>
  blobs: Array<{ hash: string; size: number; stored: boolean }>
  blobsDamaged: number
  claimedBlobs: Set<string>
  claimedClock: Map<string, number>
  chunks: { intact: number; damaged: number }
  damagedRanges: Array<{ start: number; end: number }>
}

/** A frame that could start a chunk here: a known kind, a length within its limit and within the file. */
function plausible(frame: Buffer, at: number, size: number): { kind: ChunkKind; length: number } | undefined {
  const kind = frame[4]!
  const length = frame.readUInt32BE(0)
  if (!isChunkKind(kind) || length > MAX_CIPHERTEXT[kind] || length < 16 || at + FRAME_BYTES + length > size) return undefined
  return { kind, length }
}

/** Reads every chunk it can; each photo it stores is added to `stored`. */
async function walk(source: Source, cipher: ChunkCipher, store: Store, opts: SalvageOptions, stored: string[]): Promise<Found> {
  const found: Found = {
    envelopes: new Map(),
    blobs: [],
    blobsDamaged: 0,
    claimedBlobs: new Set(),
    claimedClock: new Map(),
    chunks: { intact: 0, damaged: 0 },
    damagedRanges: [],
  }
  const blobs = new BlobCollector(store, found, stored)
  try {
    return await walkChunks(source, cipher, found, blobs, opts)
  } catch (err) {
    await blobs.abort() // the photo being written: its temporary file removed, its file closed
    throw err
  }
}

async function walkChunks(source: Source, cipher: ChunkCipher, found: Found, blobs: BlobCollector, opts: SalvageOptions): Promise<Found> {
  const size = source.size
  const total = { versions: 0, bytes: size }
  let lastProgress = 0

  /** Opens the chunk at `at`; undefined when nothing authentic starts there. */
  const openAt = async (at: number): Promise<{ kind: ChunkKind; plaintext: Buffer; end: number } | undefined> => {
    if (at + FRAME_BYTES > size) return undefined
    const frame = Buffer.from(await source.read(at, FRAME_BYTES))
    const p = plausible(frame, at, size)
    if (!p) return undefined
    const plaintext = cipher.open(frame, await source.read(at + FRAME_BYTES, p.length), at)
    if (!plaintext) return undefined
    let end = at + FRAME_BYTES + p.length
    if (p.kind === ChunkKind.commit && end + FOOTER_BYTES <= size) {
      const footer = await source.read(end, FOOTER_BYTES)
      if (footer.subarray(8).equals(FOOTER_MAGIC)) end += FOOTER_BYTES
    }
    return { kind: p.kind, plaintext, end }
  }

  /** Cheap test that an authentic chunk may start at `at` (used to pick resync candidates before decrypting). */
  const mayStartChunk = async (at: number): Promise<boolean> => {
    if (at === size) return true
    if (at + FRAME_BYTES > size) return false
    return plausible(Buffer.from(await source.read(at, FRAME_BYTES)), at, size) !== undefined
  }

  let at = HEADER_BYTES
  let damageStart: number | undefined
  while (at < size) {
    if (opts.signal?.aborted) throw new FerryError('interrupted', 'The salvage was stopped before it finished. Nothing was changed; run it again.')
    let chunk = await openAt(at)
    if (!chunk && damageStart === undefined) {
      // The frame may be intact and only the data damaged: if the next chunk opens where this one says it ends,
      // skip just this one.
      const frame = at + FRAME_BYTES <= size ? plausible(Buffer.from(await source.read(at, FRAME_BYTES)), at, size) : undefined
      const next = frame ? at + FRAME_BYTES + frame.length : undefined
      if (next !== undefined && (next === size || (await openAt(next)))) {
        found.chunks.damaged++
        found.damagedRanges.push({ start: at, end: next })
        await blobs.interrupt()
        at = next
        continue
      }
    }
    if (!chunk) {
      if (damageStart === undefined) {
        damageStart = at
        found.chunks.damaged++
        await blobs.interrupt()
      }
      // Resynchronise: the next offset where an authentic chunk opens and is followed by a plausible chunk (or the
      // end). Candidates are picked from a cached block by their kind byte and length before anything is decrypted.
      chunk = undefined
      let from = at + 1
      search: while (from + FRAME_BYTES <= size) {
        const block = await source.read(from, Math.min(BLOCK, size - from))
        let i = 0
        for (; i + 5 <= block.length; i++) {
          const kind = block[i + 4]!
          if (!isChunkKind(kind)) continue
          const length = block.readUInt32BE(i)
          const candidate = from + i
          if (length > MAX_CIPHERTEXT[kind] || length < 16 || candidate + FRAME_BYTES + length > size) continue
          const end = candidate + FRAME_BYTES + length
          const followed = (await mayStartChunk(end)) || (kind === ChunkKind.commit && (await mayStartChunk(end + FOOTER_BYTES)))
          if (followed && (chunk = await openAt(candidate))) {
            at = candidate
            break search
          }
        }
        from += Math.max(1, i)
      }
      if (!chunk) break
      found.damagedRanges.push({ start: damageStart, end: at })
      damageStart = undefined
    }
    found.chunks.intact++
    if (chunk.kind === ChunkKind.records) {
      const envelopes = decodeRecords(chunk.plaintext)
      if (envelopes) for (const envelope of envelopes) keepEnvelope(found, envelope)
      await blobs.interrupt()
    } else if (chunk.kind === ChunkKind.blob) {
      await blobs.piece(chunk.plaintext)
    } else {
      const commit = decodeCommit(chunk.plaintext, at)
      if (commit) {
        for (const b of commit.blobs) found.claimedBlobs.add(b.hash)
        for (const [device, seq] of commit.clock) found.claimedClock.set(device, Math.max(seq, found.claimedClock.get(device) ?? 0))
      }
      await blobs.interrupt()
    }
    at = chunk.end
    if (opts.onProgress && monotonicMs() - lastProgress > 100) {
      lastProgress = monotonicMs()
      opts.onProgress({ phase: 'reading', done: { versions: 0, bytes: at }, total })
    }
  }
  if (damageStart !== undefined) found.damagedRanges.push({ start: damageStart, end: size })
  await blobs.interrupt()
  return found
}

function keepEnvelope(found: Found, envelope: Buffer): void {
  const opened = openEnvelope(envelope)
  if (!opened.ok) return
  const { deviceId, seq } = opened.version
  let slots = found.envelopes.get(deviceId)
  if (!slots) found.envelopes.set(deviceId, (slots = new Map()))
  const list = slots.get(seq) ?? []
  if (!list.some((e) => e.equals(envelope))) list.push(Buffer.from(envelope))
  slots.set(seq, list)
}

/**
 * Reassembles photos from consecutive pieces (hash ‖ offset ‖ data). A photo is complete when the pieces that
 * arrived in order hash to its name; anything else (a piece missing, out of order, damaged) is discarded.
 */
class BlobCollector {
  private current: { hash: string; received: number; writer: BlobWriter | null } | undefined

  constructor(
    private readonly store: Store,
    private readonly found: Found,
    /** The hash of each photo stored. */
    private readonly stored: string[],
  ) {}

  /** Stops: drops the photo being written. */
  async abort(): Promise<void> {
    const blob = this.current
    this.current = undefined
    await blob?.writer?.abort()
  }

  async piece(plaintext: Buffer): Promise<void> {
    if (plaintext.length < BLOB_PIECE_HEADER) return this.interrupt()
    const hash = plaintext.subarray(0, 32).toString('hex')
    const at = Number(plaintext.readBigUInt64BE(32))
    const data = plaintext.subarray(BLOB_PIECE_HEADER)
    if (this.current && (this.current.hash !== hash || this.current.received !== at)) await this.interrupt()
    if (!this.current) {
      if (at !== 0) return // the beginning of this photo was lost
      const held = this.store.hasBlob(hash)
      this.current = { hash, received: 0, writer: held ? null : await this.store.media.beginWrite() }
    }
    if (this.current.writer) await this.current.writer.append(data)
    this.current.received += data.length
  }

  /** The current photo ends here (another kind of chunk, damage, or the end): keep it if its hash matches. */
  async interrupt(): Promise<void> {
    const blob = this.current
    this.current = undefined
    if (!blob) return
    if (!blob.writer) {
      this.found.blobs.push({ hash: blob.hash, size: blob.received, stored: false })
      return
    }
    try {
      const { hash, size } = await blob.writer.commit(blob.hash)
      this.stored.push(hash)
      this.found.blobs.push({ hash, size, stored: true })
    } catch (err) {
      if (err instanceof FerryError && err.kind === 'damaged') this.found.blobsDamaged++
      else throw diskError(err, this.store.media.root)
    }
  }
}

async function discardBlobs(store: Store): Promise<void> {
  store.media.clearTemp()
}

// ---- importing ----

async function importFound(store: Store, found: Found, filePath: string, started: number): Promise<SalvageReport> {
  const ours = store.clock()
  const checkObservation = await observationChecker()
  const importable: Array<{ version: Version; hash: Buffer }> = []
  const devicesStopped: SalvageReport['devicesStopped'] = []
  let unusable = 0
  let versionBytes = 0

  for (const [deviceId, slots] of found.envelopes) {
    const tip = ours.get(deviceId)
    const chains = new VersionChains(tip ? new Map([[deviceId, tip]]) : new Map(), checkObservation)
    const chain: Array<{ version: Version; hash: Buffer }> = []
    let seq = (tip?.seq ?? 0) + 1
    let reason: string | undefined
    for (;;) {
      const candidates = slots.get(seq)
      if (!candidates) {
        if ([...slots.keys()].some((s) => s > seq)) reason = `version ${seq} could not be read`
        break
      }
      let accepted: { version: Version; hash: Buffer } | undefined
      let problem = ''
      for (const envelope of candidates) {
        const checked = chains.accept(envelope)
        if ('version' in checked) {
          accepted = checked
          break
        }
        if ('problem' in checked) problem = checked.problem
      }
      if (!accepted) {
        reason = problem || `version ${seq} does not continue the device history`
        break
      }
      chain.push(accepted)
      seq++
    }
    // The newest version whose signature verifies vouches for every version below it in the chain.
    let signedUpTo = chain.length
    while (signedUpTo > 0 && !verifyEnvelopeSignature(store.projectId, chain[signedUpTo - 1]!.version)) signedUpTo--
    if (signedUpTo < chain.length) reason = reason ?? `version ${chain[signedUpTo]!.version.seq} and after are not signed by their device`
    const taken = chain.slice(0, signedUpTo)
    importable.push(...taken)
    for (const v of taken) versionBytes += v.version.envelope.length
    const inFile = [...slots.keys()].filter((s) => s > (tip?.seq ?? 0)).length
    unusable += inFile - taken.length
    if (reason) devicesStopped.push({ deviceId, importedUpTo: (tip?.seq ?? 0) + taken.length, reason })
  }

  const stage = await store.beginIncoming()
  const newBlobs = found.blobs.filter((b) => b.stored).map(({ hash, size }) => ({ hash, size }))
  try {
    for (const v of importable) stage.addVersion(v.version, v.hash)
    await store.commitIncoming(stage, newBlobs)
  } catch (err) {
    await store.discardIncoming(stage)
    throw err
  }

  const after = store.clock()
  let missingVersions = 0
  for (const [device, seq] of found.claimedClock) missingVersions += Math.max(0, seq - (after.get(device)?.seq ?? 0))
  const missingBlobs = [...found.claimedBlobs].filter((h) => !store.hasBlob(h)).length
  return {
    file: filePath,
    received: { versions: importable.length, blobs: newBlobs.length, bytes: versionBytes + newBlobs.reduce((s, b) => s + b.size, 0) },
    chunks: found.chunks,
    damagedRanges: found.damagedRanges,
    versionsUnusable: unusable,
    blobsDamaged: found.blobsDamaged,
    missing: { versions: missingVersions, blobs: missingBlobs },
    devicesStopped,
    ms: Math.round(monotonicMs() - started),
  }
}
