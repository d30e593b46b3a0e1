import { existsSync } from 'node:fs'
import path from 'node:path'
import { badInput, damaged, diskError, FerryError } from '../errors.js'
import { isFolder } from '../fs/is-folder.js'
import type { IncomingStage, Store } from '../store/store.js'
import type { Commit } from '../syncfile/commit.js'
import { newHeader, type FileHeader } from '../syncfile/header.js'
import { SyncFileReader, type FileState } from '../syncfile/reader.js'
import { SegmentWriter } from '../syncfile/writer.js'
import { MAX_NAME_BYTES } from '../fs/output-path.js'
import { lockSyncFile } from './sync-file-lock.js'
import { removeLeftTemporaryFiles, temporaryNameFor } from './create-temp-files.js'
import type { BlobSink } from './blob-assembly.js'
import { walkSegment } from './segment-walk.js'
import { checkRoom } from './room.js'
import { planSend, writeSegment } from './send-plan.js'
import type { CreateOptions, MediaPolicy, SyncOptions, SyncProgress, SyncReport, TransferCounts } from './types.js'
import { collectDeadBuffers, COLLECT_EVERY_BYTES } from './dead-buffers.js'
import { ChainTips } from './chain-tips.js'
import { ForkedHistory, forkedDevice, forkedDeviceToExtend, forkedHistoryError, tipsAfterSend } from './history-tips.js'
import { MergeThreads } from './merge-threads.js'
import type { BlobRecord } from '../store/blob-record.js'
import { describeProject } from './describe-project.js'
import { monotonicMs } from '../monotonic.js'

/**
 * The two-way merge, top to bottom:
 *
 *   1. header: another project's file stops here, nothing changed;
 *   2. file → database: verify every chunk, chain, signature and blob hash of the segments that hold something this
 *      device lacks, staging versions out of sight; then make them visible in one transaction and wait until durable;
 *   3. database → file: append what the file lacks after its last valid commit, commit, fsync file and folder.
 *
 * Step 2 finishes before step 3 starts, so a failure anywhere loses nothing: the database has its old state or the
 * union, the file its old commit or its new one.
 */
export async function syncWithFile(store: Store, filePath: string, opts: SyncOptions = {}): Promise<SyncReport> {
  const started = monotonicMs()
  return store.exclusive(async () => {
    const fileLock = lockSyncFile(filePath)
    try {
      return await syncLocked(store, filePath, opts, started)
    } finally {
      fileLock.release()
    }
  }, 'sync')
}

/** syncWithFile, holding both the data folder's lock and the file's. */
async function syncLocked(store: Store, filePath: string, opts: SyncOptions, started: number): Promise<SyncReport> {
  const reader = await SyncFileReader.open(store.disk, filePath, store.projectSecret, store.projectId, describeProject)
  let received: TransferCounts
  let state: FileState
  try {
    state = await reader.state()
    // Only a clean interrupted write may be cut off by the next append. Anything else after the last valid
    // commit might be committed data whose footer was damaged: refuse rather than risk cutting it.
    if (state.tail.state === 'damaged') throw reader.damagedTail(state)
    const forked = forkedDevice(store.clock(), store, state.commits)
    if (forked) throw forkedHistoryError(store, reader.name, forked)
    received = await receive(store, reader, state, opts).catch((err: unknown) => {
      throw err instanceof ForkedHistory ? forkedHistoryError(store, reader.name, err.deviceId) : err
    })
    const forkedToExtend = await forkedDeviceToExtend(store, reader, state.commits, opts.signal).catch((err: unknown) => Promise.reject(afterReceiving(err, received)))
    throwIfAborted(opts.signal)
    if (forkedToExtend) throw afterReceiving(forkedHistoryError(store, reader.name, forkedToExtend), received)
  } finally {
    await reader.close()
  }
  opts.log?.debug({ file: filePath, commits: state.commits.length, tail: state.tail.state, ...received, ms: Math.round(monotonicMs() - started) }, 'received from sync file')
  const sent = await send(store, filePath, reader.header, state, mediaPolicyOf(state), opts).catch((err: unknown) => Promise.reject(afterReceiving(err, received)))
  opts.log?.debug({ file: filePath, ...sent, ms: Math.round(monotonicMs() - started) }, 'sent to sync file')
  return { file: filePath, received, sent, ms: Math.round(monotonicMs() - started) }
}

/**
 * Whether syncing with the file would change anything: versions or photos to take from it, or to give it, or an
 * interrupted write to cut off. Reads the commits only, as a sync with nothing to do does; a file that cannot be
 * read counts as a change, so the sync that follows reports the problem.
 */
export async function syncWouldChange(store: Store, filePath: string): Promise<boolean> {
  let reader: SyncFileReader | undefined
  try {
    reader = await SyncFileReader.open(store.disk, filePath, store.projectSecret, store.projectId, describeProject)
    const state = await reader.state()
    const ours = store.clock()
    if (state.tail.state !== 'clean' || forkedDevice(ours, store, state.commits)) return true
    if (segmentsNeeded(store, state.commits, ours).length > 0) return true
    return !planSend(store, state.commits.at(-1)?.clock ?? new Map(), state.commits, mediaPolicyOf(state)).isEmpty
  } catch {
    return true
  } finally {
    await reader?.close()
  }
}

/**
 * A send that failed after the receive committed: "nothing was changed" is true of the file, not of this computer,
 * which has already taken in what the file brought. The message says so, in the error's own kind (exit code).
 */
function afterReceiving(err: unknown, received: TransferCounts): unknown {
  if (!(err instanceof FerryError) || received.versions + received.blobs === 0) return err
  const count = (n: number, what: string) => `${n} ${what}${n === 1 ? '' : 's'}`
  const took = `This computer did take in what the file brought (${count(received.versions, 'record')}, ${count(received.blobs, 'media file')}); only the file was not updated.`
  return new FerryError(err.kind, `${err.message.replace(/ Nothing was changed\.?/, '')} ${took}`, { cause: err })
}

/** Writes a new sync file with everything this device holds. Refuses an existing path. */
export async function createSyncFile(store: Store, filePath: string, opts: CreateOptions = {}): Promise<SyncReport> {
  const started = monotonicMs()
  if (isFolder(filePath)) {
    throw badInput(`${filePath} is a folder. Give the new sync file's name, such as ${path.join(filePath, 'field.ferry')}.`)
  }
  if (existsSync(filePath)) throw badInput(`${filePath} already exists. To sync with it, run \`ferry sync ${filePath}\`; to make a new file, choose another name.`)
  const dir = path.dirname(filePath)
  if (!existsSync(dir)) throw badInput(`The folder ${dir} does not exist. Create it or choose another place for the sync file.`)
  if (Buffer.byteLength(path.basename(filePath)) > MAX_NAME_BYTES) throw badInput(`The name ${path.basename(filePath).slice(0, 40)}… is too long (at most ${MAX_NAME_BYTES} bytes). Choose a shorter name.`)
  const tmpPath = temporaryNameFor(filePath)
  const header = newHeader(store.projectId)
  const emptyFile: FileState = { commits: [], validEnd: 0, tail: { state: 'clean' } }
  const sent = await store.exclusive(async () => {
    const fileLock = lockSyncFile(filePath)
    try {
      await removeLeftTemporaryFiles(store.disk, filePath)
      const counts = await send(store, tmpPath, header, emptyFile, opts.media ?? 'all', opts, { createNew: true, shownAs: filePath })
      if (existsSync(filePath)) throw badInput(`${filePath} appeared while the file was being written. Nothing was changed; choose another name.`)
      await store.disk.rename(tmpPath, filePath)
      await store.disk.syncDir(dir)
      return counts
    } catch (err) {
      await store.disk.unlink(tmpPath).catch(() => undefined)
      throw diskError(err, filePath, { retry: 'make the file again (ferry create)' })
    } finally {
      fileLock.release()
    }
  })
  return { file: filePath, received: { versions: 0, blobs: 0, bytes: 0 }, sent, ms: Math.round(monotonicMs() - started) }
}

function mediaPolicyOf(state: FileState): MediaPolicy {
  return state.commits[0]?.media ?? 'all'
}

// ---- step 2: file → database ----

const STAGE_BATCH_BYTES = 8 * 1024 * 1024

async function receive(store: Store, reader: SyncFileReader, state: FileState, opts: SyncOptions): Promise<TransferCounts> {
  const ours = store.clock()
  const needed = segmentsNeeded(store, state.commits, ours)
  const counts = { versions: 0, blobs: 0, bytes: 0 }
  if (needed.length === 0) return counts

  const total = needed.reduce((sum, s) => ({ versions: sum.versions + s.newVersions, bytes: sum.bytes + s.commit.offset - s.commit.segmentStart }), { versions: 0, bytes: 0 })
  const progress = new ProgressReporter('receiving', total, opts.onProgress)
  // Started for a large read, stopped as soon as the reading is done (the commit and the send have no use for them).
  const threads = new MergeThreads(opts.workerThreads)
  try {
    const stage = await store.beginIncoming()
    store.media.clearTemp()
    // Photos are stored as they arrive, before later records are checked: if the receive fails, those it stored
    // are not in the index (nothing refers to them) and are removed, so a damaged file leaves nothing behind.
    const stored: string[] = []
    try {
      return await receiveSegments(store, reader, stage, needed, ours, threads, progress, opts, counts, mediaStoreSink(store, stored))
    } catch (err) {
      // Photos first: on a full disk, removing the staged records (an LMDB transaction) can fail too, and the
      // photos' space is what lets the next try succeed.
      await store.media.removeBlobs(stored.filter((hash) => !store.hasBlob(hash)))
      await store.discardIncoming(stage)
      throw err
    }
  } finally {
    await threads.close()
  }
}

async function receiveSegments(
  store: Store,
  reader: SyncFileReader,
  stage: IncomingStage,
  needed: Array<{ commit: Commit; newVersions: number }>,
  ours: Map<string, { seq: number; hash: Buffer }>,
  threads: MergeThreads,
  progress: ProgressReporter,
  opts: SyncOptions,
  counts: TransferCounts,
  sink: BlobSink,
): Promise<TransferCounts> {
  const checker = await threads.checker(progress.totalVersions)
  const tips = new ChainTips(ours)
  const newBlobs: BlobRecord[] = []
  let stagedAtLastWait = 0
  let readSinceCollect = 0

  for (const { commit } of needed) {
    const completed = await walkSegment(reader, commit, { checker, tips }, sink, {
      skipKnown: true,
      onVersion(deviceId, seq, envelope, hash) {
        stage.add(deviceId, seq, envelope, hash)
        counts.versions++
        counts.bytes += envelope.length
        progress.add(1, 0)
      },
      onSummaries(summaries, count, devices) {
        stage.summaries.appendPacked(summaries, count, devices)
      },
      async afterChunk(bytes) {
        throwIfAborted(opts.signal)
        progress.add(0, bytes)
        // Backpressure: every 8 MiB, let LMDB take what was staged before the previous mark, so memory stays flat
        // (awaiting every chunk would cost a commit per chunk).
        if (counts.bytes - stagedAtLastWait > STAGE_BATCH_BYTES) {
          await stage.written()
          stagedAtLastWait = counts.bytes
        }
        readSinceCollect += bytes
        if (readSinceCollect > COLLECT_EVERY_BYTES) {
          collectDeadBuffers()
          readSinceCollect = 0
        }
      },
    })
    const listed = new Map(commit.blobs.map((b) => [b.hash, b]))
    for (const blob of completed) if (blob.stored) newBlobs.push(listed.get(blob.hash)!)
    for (const [device, seq] of commit.clock) {
      if (tips.seqOf(device) < seq) throw reader.damagedAt(commit.offset, 'its commit lists records it does not contain')
    }
  }
  await threads.close()
  const forged = tips.unsignedDevice(store.projectId)
  if (forged) throw damaged(`${reader.name} is damaged or was tampered with: records claiming to come from device ${forged.slice(0, 12)}… are not signed by it. Nothing was changed.`)

  progress.phase('flushing')
  await store.media.syncBlobs(newBlobs.map((b) => b.hash)).catch((err: unknown) => Promise.reject(diskError(err, store.media.root)))
  await store.commitIncoming(stage, newBlobs)
  counts.blobs = newBlobs.length
  counts.bytes += newBlobs.reduce((sum, b) => sum + b.size, 0)
  return counts
}

/**
 * The commits whose segments hold a version or blob this device lacks. Segment i holds, per device, the versions
 * between commit i−1's clock and commit i's, and the blobs commit i lists.
 */
function segmentsNeeded(store: Store, commits: Commit[], ours: Map<string, { seq: number }>): Array<{ commit: Commit; newVersions: number }> {
  const needed: Array<{ commit: Commit; newVersions: number }> = []
  let before = new Map<string, number>()
  for (const commit of commits) {
    let newVersions = 0
    for (const [device, seq] of commit.clock) {
      const from = Math.max(before.get(device) ?? 0, ours.get(device)?.seq ?? 0)
      if (seq > from) newVersions += seq - from
    }
    if (newVersions > 0 || commit.blobs.some((b) => !store.hasBlob(b.hash))) needed.push({ commit, newVersions })
    before = commit.clock
  }
  return needed
}

/** Received blobs go into the media store; a failing disk here is this computer's disk, reported as such. */
/** Stores received blobs in the media store; the hash of each one it stores is added to `stored`. */
function mediaStoreSink(store: Store, stored: string[]): BlobSink {
  const onDisk = <T>(fn: () => Promise<T>) => fn().catch((err: unknown) => Promise.reject(diskError(err, store.media.root)))
  return {
    async begin(hash) {
      if (store.hasBlob(hash)) return null
      const writer = await onDisk(() => store.media.beginWrite())
      return {
        append: (data) => onDisk(() => writer.append(data)),
        finish: async () => {
          try {
            await writer.commit(hash, { deferSync: true })
            stored.push(hash)
            return true
          } catch (err) {
            if (err instanceof FerryError && err.kind === 'damaged') return false
            throw diskError(err, store.media.root)
          }
        },
        abort: () => writer.abort(),
      }
    },
  }
}

// ---- step 3: database → file ----

async function send(
  store: Store,
  filePath: string,
  header: FileHeader,
  state: FileState,
  media: MediaPolicy,
  opts: SyncOptions,
  /** createNew: `filePath` is a new file's temporary name, and `shownAs` the name to show. */
  mode: { createNew?: boolean; shownAs?: string } = {},
): Promise<TransferCounts> {
  const last = state.commits.at(-1)
  const plan = planSend(store, last?.clock ?? new Map(), state.commits, media)
  if (plan.isEmpty && !mode.createNew) return { versions: 0, blobs: 0, bytes: 0 }

  const existingBytes = mode.createNew ? 0 : state.validEnd
  // An interrupted write after the last commit is cut off before anything is appended: its bytes are room too.
  const tailBytes = !mode.createNew && state.tail.state === 'torn' ? state.tail.bytes : 0
  await checkRoom(store.disk, filePath, existingBytes, plan.estimatedBytes, { shownAs: mode.shownAs, reclaimableBytes: tailBytes })
  const progress = new ProgressReporter('sending', { versions: plan.versionCount, bytes: plan.estimatedBytes }, opts.onProgress)
  const writer = mode.createNew
    ? await SegmentWriter.createNew(store.disk, filePath, store.projectSecret, header, { path: mode.shownAs ?? filePath, retry: 'make the file again (ferry create)' })
    : await SegmentWriter.appendTo(store.disk, filePath, store.projectSecret, header, state.validEnd)
  let written = false
  try {
    await writeSegment(store, writer, plan, (versions, bytes) => {
      throwIfAborted(opts.signal)
      progress.add(versions, bytes)
    })
    await writer.commit({
      n: (last?.n ?? 0) + 1,
      prev: last?.offset ?? null,
      clock: plan.newClock,
      tips: tipsAfterSend(store, plan.newClock, state.commits),
      blobs: plan.blobs,
      totals: {
        versions: (last?.totals.versions ?? 0) + plan.versionCount,
        blobs: (last?.totals.blobs ?? 0) + plan.blobs.length,
        blobBytes: (last?.totals.blobBytes ?? 0) + plan.blobBytes,
      },
      media,
      writer: store.info.deviceId,
      at: new Date().toISOString(),
    })
    written = true
  } finally {
    // A failed append gives its room back (a full drive) and leaves the file ending at its last commit; a new
    // file's temporary one is removed by createSyncFile.
    if (!written && !mode.createNew) await writer.abandon()
    await writer.close()
  }
  progress.phase('flushing')
  try {
    await store.disk.syncDir(path.dirname(filePath))
  } catch (err) {
    throw diskError(err, filePath)
  }
  return { versions: plan.versionCount, blobs: plan.blobs.length, bytes: writer.bytesWritten }
}

// ---- shared ----

function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new FerryError('interrupted', 'The sync was stopped before it finished. Nothing was lost; sync again to finish it.')
}

class ProgressReporter {
  private readonly done = { versions: 0, bytes: 0 }
  private lastEmit = 0

  constructor(
    private current: SyncProgress['phase'],
    private readonly total: { versions: number; bytes: number },
    private readonly listener: ((p: SyncProgress) => void) | undefined,
  ) {
    this.emit(true)
  }

  get totalVersions(): number {
    return this.total.versions
  }

  add(versions: number, bytes: number): void {
    this.done.versions += versions
    this.done.bytes += bytes
    this.emit(false)
  }

  phase(phase: SyncProgress['phase']): void {
    this.current = phase
    this.emit(true)
  }

  // At most ten events a second: progress must never cost more than the work it reports.
  private emit(force: boolean): void {
    if (!this.listener) return
    const now = monotonicMs()
    if (!force && now - this.lastEmit < 100) return
    this.lastEmit = now
    this.listener({ phase: this.current, done: { ...this.done }, total: { ...this.total } })
  }
}
