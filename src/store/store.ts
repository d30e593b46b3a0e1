import { randomBytes } from 'node:crypto'
import { chmodSync, existsSync, mkdirSync, statSync } from 'node:fs'
import { createRequire } from 'node:module'
import path from 'node:path'
import type { Database, RootDatabase, RootDatabaseOptions, RootDatabaseOptionsWithPath } from 'lmdb'
import { badInput, diskError, FerryError } from '../errors.js'
import type { Disk } from '../fs/disk.js'
import { nodeDisk } from '../fs/node-disk.js'
import { deviceKeyFromDer, generateDeviceKey, type DeviceKey } from './device-key.js'
import { isLive, withVersion, type DocState } from './doc-state.js'
import { MediaStore } from './media-store.js'
import { PROJECT_SECRET_BYTES, projectIdOf } from './project-identity.js'
import type { StoreInfo } from './store-api.js'
import { fromStored, toStored, type BlobRecord, type StoredBlob } from './blob-record.js'
import { IncomingStage, type ClockEntry } from './incoming-stage.js'
import { docStateEncoding, presenceEncoding } from './index-codecs.js'
import type { VersionSummary } from './summary-log.js'
import { envelopeHash, openEnvelope, parseVersionId, sealVersion, type Version, type VersionBody } from './version.js'
import { VersionFiles } from './version-files.js'
import { VersionLog } from './version-log.js'
import { commitFailuresSoFar, ignoreOrphanedCommitFailures, storeWriteError, unlessCommitFails } from './lmdb-failures.js'
import { lmdbFileKind, type LmdbFileKind } from './lmdb-file-check.js'
import { acquireWriterLock } from './writer-lock.js'

export type { ClockEntry } from './incoming-stage.js'
export type { IncomingStage } from './incoming-stage.js'

/** A change this device makes: a new document (no docId), an edit, or a delete of an existing one. */
export interface LocalChange {
  docId?: string
  createdAt?: string
  updatedAt?: string
  deleted?: boolean
  value: VersionBody['value']
}

interface ProjectRecord {
  secret: Buffer
  name: string
}

const DB_FILE = 'ferry.mdb'
// Address space reserved for the database up front (the file still grows only as data is written). lmdb-js
// otherwise starts at 128 KiB and maps the file again each time it outgrows the map, keeping the old mappings: a
// large receive then counted many pages twice in its resident size. Not on Windows, where LMDB may size the file
// to the map.
const MAP_SIZE = process.platform === 'win32' ? {} : { mapSize: 4 * 1024 ** 3 }
/**
 * Bumped whenever the database layout changes; a folder of another layout is refused rather than misread. Layout 3
 * added version files; a layout-2 folder is read as it is and marked 3 when its first version file is registered,
 * so an older build never misreads a block pointing into one.
 */
const LAYOUT = 3
const READABLE_LAYOUTS = [2, 3]
/**
 * A write (a receive, a batch of local changes) of more envelope bytes than this puts the rest in a version file
 * (version-files.ts) instead of the database. `FERRY_VERSION_FILES_AFTER_BYTES` overrides it (tests use 0).
 */
const VERSION_FILES_AFTER_BYTES = 1024 * 1024

function versionFilesAfterBytes(): number {
  const set = Number(process.env.FERRY_VERSION_FILES_AFTER_BYTES)
  return process.env.FERRY_VERSION_FILES_AFTER_BYTES !== undefined && Number.isSafeInteger(set) && set >= 0 ? set : VERSION_FILES_AFTER_BYTES
}

/**
 * lmdb loads when a data folder is first opened, through its CommonJS build (dist/index.cjs, which also loads faster
 * than its ES module entry): commands that never open one (--help) do not pay the ~10 ms it takes to load.
 */
function openLmdb(options: RootDatabaseOptionsWithPath): RootDatabase {
  const { open } = createRequire(import.meta.url)('lmdb') as typeof import('lmdb')
  return open(options)
}

export const DEFAULT_PROJECT_NAME = 'My field project'

/**
 * The data folder: one LMDB environment, the version files of large writes (`versions/`, version-files.ts) and the
 * media store.
 *
 * Named databases:
 * - `log`       [deviceId, first seq] → a block of that device's consecutive envelopes (version-log.ts). Every
 *               device's log is held as a contiguous prefix 1..n, so the per-device clock below is exactly "what this
 *               device holds", and "what X lacks" is a range scan per device.
 * - `clock`     deviceId → {seq, hash, bytes} of the newest held version of that device.
 * - `docs`      docId → DocState (heads with winner summaries), iterated in docId order for export.
 * - `superseded` versionId → true once a held version links to it (makes head tracking order-independent).
 * - `blobs`     sha256 hex → size (and, for a preview or thumbnail, its original), for blobs whose files are
 *               durably in the media store.
 * - `meta`      project, device key, categories, live-document count, layout.
 * - `versionFiles` id → true for every version file a committed write made (any other file is a leftover).
 */
export class Store {
  readonly media: MediaStore
  readonly projectId: Buffer
  readonly projectSecret: Buffer
  private readonly log: VersionLog
  private readonly projectName: string
  private readonly deviceKeyDer: Buffer
  private parsedDeviceKey: DeviceKey | undefined
  private storeInfo: StoreInfo | undefined
  private readonly filesAfterBytes = versionFilesAfterBytes()
  /** lmdb-failures.ts: commit failures this process had seen before this store opened. */
  private readonly failuresAtOpen = commitFailuresSoFar()
  /** An LMDB write failed (a full or failing disk): close() must not wait for LMDB then. */
  private writeFailed = false

  private constructor(
    readonly dataDir: string,
    readonly disk: Disk,
    private readonly env: RootDatabase,
    versions: Database<Buffer, [string, number]>,
    private readonly clockDb: Database<ClockEntry, string>,
    private readonly docs: Database<DocState, string>,
    private readonly superseded: Database<true, string>,
    private readonly blobs: Database<StoredBlob, string>,
    private readonly meta: Database<unknown, string>,
    versionFiles: Database<true, number>,
  ) {
    this.log = new VersionLog(versions, new VersionFiles(path.join(dataDir, 'versions'), versionFiles, () => this.markLayout()))
    const project = meta.get('project') as ProjectRecord
    this.projectSecret = Buffer.from(project.secret)
    this.projectId = projectIdOf(this.projectSecret)
    this.projectName = project.name
    this.deviceKeyDer = Buffer.from(meta.get('deviceKey') as Buffer)
    this.media = new MediaStore(path.join(dataDir, 'media'), disk)
  }

  /** This device's key pair, parsed when first needed: a sync with nothing to send, a list or an export never sign. */
  get deviceKey(): DeviceKey {
    this.parsedDeviceKey ??= deviceKeyFromDer(this.deviceKeyDer)
    return this.parsedDeviceKey
  }

  get info(): StoreInfo {
    this.storeInfo ??= { dataDir: this.dataDir, projectId: this.projectId.toString('hex'), projectName: this.projectName, deviceId: this.deviceKey.deviceId }
    return this.storeInfo
  }

  /** Opens the data folder. Throws FerryError('not-initialised') when it holds no project. */
  static async open(dataDir: string, opts: { disk?: Disk; create?: boolean } = {}): Promise<Store> {
    if (!existsSync(path.join(dataDir, DB_FILE))) {
      if (opts.create) return Store.create(dataDir, { name: DEFAULT_PROJECT_NAME }, opts)
      throw new FerryError('not-initialised', `There is no Ferry project in ${dataDir}. Run \`ferry init\` to start one or \`ferry init --join FILE\` to join one.`)
    }
    refuseUnreadable(dataDir, databaseKind(dataDir))
    const store = Store.openEnv(dataDir, opts.disk ?? nodeDisk)
    if (store.meta.get('project') === undefined) {
      await store.env.close()
      throw new FerryError('not-initialised', `The data folder ${dataDir} was never finished setting up. Run \`ferry init\` again.`)
    }
    if (!READABLE_LAYOUTS.includes(store.meta.get('layout') as number)) {
      await store.env.close()
      throw new FerryError('not-initialised', `The data folder ${dataDir} was made by a development build of Ferry with another database layout. Move it away and run \`ferry init\` again.`)
    }
    const opened = new Store(dataDir, store.disk, store.env, store.versions, store.clockDb, store.docs, store.superseded, store.blobs, store.meta, store.versionFiles)
    try {
      opened.log.files.checkFolder()
    } catch (err) {
      await store.env.close()
      throw err
    }
    return opened
  }

  /** Creates a project in an empty (or new) data folder, with a fresh device key. */
  static async create(dataDir: string, project: { name: string; secret?: Buffer }, opts: { disk?: Disk } = {}): Promise<Store> {
    // A database without a project is an init that never finished (killed before its one transaction): made again.
    const kind = databaseKind(dataDir)
    refuseUnreadable(dataDir, kind)
    const held = kind === 'lmdb' ? await Store.projectIn(dataDir) : undefined
    if (held) throw alreadyHoldsProject(dataDir, held)
    makeDataFolder(dataDir)
    const secret = project.secret ?? randomBytes(PROJECT_SECRET_BYTES)
    if (secret.length !== PROJECT_SECRET_BYTES) throw badInput('A project key must be 32 bytes.')
    const lock = acquireWriterLock(dataDir, 'init')
    try {
      const parts = Store.openEnv(dataDir, opts.disk ?? nodeDisk)
      const { privateDer } = generateDeviceKey()
      parts.meta.transactionSync(() => {
        // Looked at again under the lock: another init may have finished since the look above.
        const other = parts.meta.get('project') as ProjectRecord | undefined
        if (other) throw alreadyHoldsProject(dataDir, { name: other.name, observations: (parts.meta.get('liveCount') as number | undefined) ?? 0 })
        parts.meta.putSync('deviceKey', privateDer)
        parts.meta.putSync('project', { secret, name: project.name } satisfies ProjectRecord)
        parts.meta.putSync('liveCount', 0)
        parts.meta.putSync('layout', LAYOUT)
      })
      await parts.env.flushed
      chmodSync(path.join(dataDir, DB_FILE), 0o600)
      return new Store(dataDir, parts.disk, parts.env, parts.versions, parts.clockDb, parts.docs, parts.superseded, parts.blobs, parts.meta, parts.versionFiles)
    } finally {
      lock.release()
    }
  }

  /** The project a data folder holds, if any: its name and how many observations it has. */
  private static async projectIn(dataDir: string): Promise<{ name: string; observations: number } | undefined> {
    const { env, meta } = Store.openEnv(dataDir, nodeDisk)
    try {
      const project = meta.get('project') as ProjectRecord | undefined
      return project && { name: project.name, observations: (meta.get('liveCount') as number | undefined) ?? 0 }
    } finally {
      await env.close()
    }
  }

  private static openEnv(dataDir: string, disk: Disk) {
    if (!statSync(dataDir, { throwIfNoEntry: false })?.isDirectory()) {
      throw new FerryError('not-initialised', `The data folder ${dataDir} does not exist. Run \`ferry init\` first.`)
    }
    ignoreOrphanedCommitFailures()
    const env = openLmdb({ path: path.join(dataDir, DB_FILE), maxDbs: 16, compression: false, overlappingSync: false, ...MAP_SIZE })
    const binary = { encoding: 'binary' as const, keyEncoding: 'ordered-binary' as const }
    return {
      disk,
      env,
      versions: env.openDB<Buffer, [string, number]>('log', binary),
      clockDb: env.openDB<ClockEntry, string>('clock', {}),
      docs: env.openDB<DocState, string>('docs', withEncoder(docStateEncoding)),
      superseded: env.openDB<true, string>('superseded', withEncoder(presenceEncoding)),
      blobs: env.openDB<StoredBlob, string>('blobs', {}),
      meta: env.openDB<unknown, string>('meta', {}),
      versionFiles: env.openDB<true, number>('versionFiles', { keyEncoding: 'uint32' }),
    }
  }

  async close(): Promise<void> {
    this.log.files.close()
    if (!this.writeFailed && commitFailuresSoFar() === this.failuresAtOpen) {
      try {
        await unlessCommitFails(this.env.flushed, this.failuresAtOpen)
        await unlessCommitFails(this.env.close(), this.failuresAtOpen)
        return
      } catch {
        // Every write waits for its own durability and reports its own failure (a receive's staged blocks, abandoned
        // after one failed, are the only writes nobody waits for). Closing must not replace that error with this one.
      }
    }
    // After a failed commit lmdb-js may never settle its flush or its close (lmdb-failures.ts). Start the close and
    // do not wait for it, so the error that write reported reaches the user instead of a process that just ends.
    this.env.close().catch(() => undefined)
  }

  /** Inside a write transaction that registers a version file: a layout-2 folder becomes layout 3. */
  private markLayout(): void {
    if (this.meta.get('layout') !== LAYOUT) this.meta.putSync('layout', LAYOUT)
  }

  /** Runs fn holding this data folder's writer lock; throws FerryError('busy') when another process holds it. */
  async exclusive<T>(fn: () => Promise<T>, purpose: 'sync' | 'edit' = 'edit'): Promise<T> {
    const lock = acquireWriterLock(this.dataDir, purpose)
    // lmdb-js reuses a read snapshot within one event-loop turn: start from one taken after the lock, so nothing
    // another process committed just before is missed when planning what to write.
    this.env.resetReadTxn()
    try {
      return await fn()
    } finally {
      lock.release()
    }
  }

  // ---- reads: never wait, never take the lock ----

  /** Per device, the newest version held. */
  clock(): Map<string, ClockEntry> {
    const result = new Map<string, ClockEntry>()
    for (const { key, value } of this.clockDb.getRange()) result.set(key, { seq: value.seq, hash: Buffer.from(value.hash), bytes: value.bytes })
    return result
  }

  getEnvelope(deviceId: string, seq: number): Buffer | undefined {
    return this.log.envelope(deviceId, seq)
  }

  getVersion(versionId: string): Version | undefined {
    const id = parseVersionId(versionId)
    if (!id) return undefined
    const envelope = this.getEnvelope(id.deviceId, id.seq)
    if (!envelope) return undefined
    const opened = openEnvelope(Buffer.from(envelope))
    if (!opened.ok) throw new Error(`stored version ${versionId} is unreadable: ${opened.reason}`)
    return opened.version
  }

  /** Envelopes of one device's versions fromSeq..toSeq, in order, read lazily; each a view valid while iterating. */
  envelopes(deviceId: string, fromSeq: number, toSeq: number): Iterable<Buffer> {
    return this.log.envelopes(deviceId, fromSeq, toSeq)
  }

  /** Envelope bytes of one device's versions 1..seq (its clock entry has them for the whole log). */
  bytesThrough(deviceId: string, seq: number): number {
    return this.log.bytesThrough(deviceId, seq)
  }

  docState(docId: string): DocState | undefined {
    return this.docs.get(docId)
  }

  /** Every document's winning version, live ones only, in docId order. */
  *currentVersions(): Iterable<Version> {
    for (const { value } of this.docs.getRange()) {
      if (!isLive(value)) continue
      yield this.getVersion(value.heads[0]!.versionId)!
    }
  }

  docIdsWithPrefix(prefix: string, limit: number): string[] {
    const ids: string[] = []
    for (const key of this.docs.getKeys({ start: prefix })) {
      if (!key.startsWith(prefix) || ids.length >= limit) break
      ids.push(key)
    }
    return ids
  }

  /** All heads of a document, winner first. */
  heads(docId: string): Version[] {
    return (this.docs.get(docId)?.heads ?? []).map((h) => this.getVersion(h.versionId)!)
  }

  countObservations(): number {
    return (this.meta.get('liveCount') as number | undefined) ?? 0
  }

  hasBlob(hash: string): boolean {
    return this.blobs.doesExist(hash)
  }

  /** How many blobs are held (LMDB keeps the count: no key is read). */
  blobCount(): number {
    return (this.blobs.getStats() as { entryCount: number }).entryCount
  }

  /** Every blob held, in hash order. `skip` (by hash) spares decoding the records not wanted. */
  *blobEntries(skip?: (hash: string) => boolean): Iterable<BlobRecord> {
    if (skip === undefined) {
      for (const { key, value } of this.blobs.getRange()) yield fromStored(key, value)
      return
    }
    for (const key of this.blobs.getKeys()) {
      if (skip(key)) continue
      const value = this.blobs.get(key)
      if (value !== undefined) yield fromStored(key, value)
    }
  }

  getMeta<T>(key: string): T | undefined {
    return this.meta.get(key) as T | undefined
  }

  // ---- writes: callers hold the writer lock (exclusive) ----

  async putMeta(key: string, value: unknown): Promise<void> {
    return this.writing(async () => {
      await this.meta.put(key, value)
      await this.env.flushed
    })
  }

  /**
   * Writes this device's changes as new signed versions, all or nothing. An edit or delete links to every current
   * head of the document, so it resolves forks. Returns the new versionIds. `changes` is iterated once, inside the
   * transaction (an import reads its documents from the file one at a time): an error it throws aborts it all.
   */
  async writeLocal(changes: Iterable<LocalChange>, blobs: ReadonlyArray<BlobRecord> = []): Promise<string[]> {
    return this.writing(() => this.writeLocalChanges(changes, blobs))
  }

  private async writeLocalChanges(changes: Iterable<LocalChange>, blobs: ReadonlyArray<BlobRecord>): Promise<string[]> {
    this.log.files.removeLeftovers() // of an import killed half-way, say: the caller holds the writer lock
    const now = new Date().toISOString()
    const me = this.deviceKey.deviceId
    const ids = this.env.transactionSync(() => {
      const tip = this.clockDb.get(me)
      let seq = tip?.seq ?? 0
      let bytes = tip?.bytes ?? 0
      let prev: Buffer | null = tip ? Buffer.from(tip.hash) : null
      const log = this.log.appenderSync(me, tip?.seq ?? 0, tip?.bytes ?? 0, this.filesAfterBytes)
      // The last block is written at the end; an edit of a document made earlier in this batch finds it here.
      const fresh = new Map<string, Pick<Version, 'createdAt' | 'originalVersionId' | 'versionId'>>()
      const written: string[] = []
      try {
        for (const change of changes) {
          const docId = change.docId ?? randomBytes(32).toString('hex')
          const state = change.docId === undefined ? undefined : this.docs.get(docId)
          const links = state?.heads.map((h) => h.versionId) ?? []
          const firstLinked = links[0] === undefined ? undefined : (fresh.get(links[0]) ?? this.getVersion(links[0]))
          seq += 1
          const envelope = sealVersion(this.deviceKey, this.projectId, {
            seq,
            prev,
            docId,
            createdAt: change.createdAt ?? firstLinked?.createdAt ?? now,
            updatedAt: change.updatedAt ?? now,
            links,
            deleted: change.deleted ?? false,
            ...(firstLinked ? { originalVersionId: firstLinked.originalVersionId ?? firstLinked.versionId } : {}),
            value: change.value,
          })
          const opened = openEnvelope(envelope)
          if (!opened.ok) throw new Error(`sealed an unreadable version: ${opened.reason}`)
          const { version } = opened
          this.adjustLiveCount(this.indexVersion(version))
          fresh.set(version.versionId, { createdAt: version.createdAt, originalVersionId: version.originalVersionId, versionId: version.versionId })
          log.add(envelope)
          bytes += envelope.length
          prev = envelopeHash(envelope)
          written.push(version.versionId)
        }
        log.finish()
      } catch (err) {
        log.abandon() // removes a version file it began
        throw err
      }
      if (prev) this.clockDb.putSync(me, { seq, hash: prev, bytes })
      for (const blob of blobs) this.blobs.putSync(blob.hash, toStored(blob))
      return written
    })
    await this.env.flushed
    return ids
  }

  /** Updates the document a version belongs to; returns the change in live documents (−1, 0 or 1). */
  private indexVersion(version: Omit<VersionSummary, 'deviceId' | 'seq'> & { versionId: string }): number {
    for (const link of version.links) this.superseded.putSync(link, true)
    const before = this.docs.get(version.docId)
    const after = withVersion(before, version, this.superseded.get(version.versionId) === true)
    this.docs.putSync(version.docId, after)
    return Number(isLive(after)) - Number(isLive(before))
  }

  private adjustLiveCount(change: number): void {
    if (change !== 0) this.meta.putSync('liveCount', this.countObservations() + change)
  }

  // ---- receiving from a sync file ----
  //
  // An IncomingStage writes verified envelopes into the log past the devices' clocks (where nothing looks, so they
  // stay invisible) and keeps a packed summary of each. commitIncoming then indexes them all and moves the clocks
  // in one transaction: until it commits, the received data is invisible; after, all of it is there. Each envelope
  // is decoded once and written once.

  /** Starts a receive, after removing what an earlier one staged and never committed (a crash, a failed check). */
  async beginIncoming(): Promise<IncomingStage> {
    await this.discardIncoming()
    return new IncomingStage(this.log, this.clock(), this.filesAfterBytes, (err) => storeWriteError(err, this.dataDir))
  }

  /** Removes what a receive staged and never committed; waits for its writes in flight first. */
  async discardIncoming(stage?: IncomingStage): Promise<void> {
    return this.writing((stillWanted) => this.discardStaged(stillWanted, stage))
  }

  private async discardStaged(stillWanted: () => void, stage?: IncomingStage): Promise<void> {
    await stage?.settle()
    stillWanted()
    // Files first, so a full disk gets its space back even if the transaction below cannot commit. A later file may
    // take a removed file's id while blocks past a clock still point to it: harmless, as nothing reads past a clock
    // and those blocks go (below, or in the local write's own transaction) before anything is written there again.
    this.log.files.removeLeftovers()
    const held = (deviceId: string) => this.clockDb.get(deviceId)?.seq ?? 0
    // A read first: nearly always there is nothing to remove, and then no write transaction (and fsync) is needed.
    if (this.log.staleBlocks(held).length === 0) return
    this.env.transactionSync(() => this.log.removeSync(this.log.staleBlocks(held)))
    await this.env.flushed
  }

  /**
   * Makes every staged version and the given blobs visible in one LMDB transaction, then waits until it is durable.
   * Each device's staged range must continue its clock exactly; anything else aborts it all.
   */
  async commitIncoming(stage: IncomingStage, newBlobs: ReadonlyArray<BlobRecord>): Promise<number> {
    return this.writing((stillWanted) => this.commitStaged(stillWanted, stage, newBlobs))
  }

  private async commitStaged(stillWanted: () => void, stage: IncomingStage, newBlobs: ReadonlyArray<BlobRecord>): Promise<number> {
    await stage.finish()
    stillWanted()
    const applied = this.env.transactionSync(() => {
      const seqs = new Map<string, number>()
      let count = 0
      let liveChange = 0
      for (const summary of stage.summaries.entries()) {
        const { deviceId, seq } = summary
        if (seq !== (seqs.get(deviceId) ?? this.clockDb.get(deviceId)?.seq ?? 0) + 1) throw new Error(`staged versions of ${deviceId} do not continue its clock`)
        liveChange += this.indexVersion(summary)
        seqs.set(deviceId, seq)
        count++
      }
      this.adjustLiveCount(liveChange)
      for (const [deviceId, tip] of stage.newTips()) {
        if (seqs.get(deviceId) !== tip.seq) throw new Error(`staged versions of ${deviceId} do not reach its new clock`)
        this.clockDb.putSync(deviceId, tip)
      }
      for (const blob of newBlobs) this.blobs.putSync(blob.hash, toStored(blob))
      if (stage.file) this.log.files.register(stage.file)
      return count
    })
    await this.env.flushed
    return applied
  }

  /**
   * Runs a write; a failure of the disk under the database (full, failing) becomes a plain FerryError. When a commit
   * fails where the write never hears of it, the caller gets the error at once and the write is abandoned: it may
   * still wake later, after the writer lock is released, so `stillWanted` tells it to stop before changing anything.
   */
  private async writing<T>(write: (stillWanted: () => void) => Promise<T>): Promise<T> {
    const since = commitFailuresSoFar()
    let abandoned = false
    const stillWanted = () => {
      if (abandoned) throw new Error('abandoned after a failed commit')
    }
    try {
      return await unlessCommitFails(write(stillWanted), since)
    } catch (err) {
      abandoned = true
      const plain = storeWriteError(err, this.dataDir)
      if (plain !== err) this.writeFailed = true // LMDB's own failure, not a refused value or a version file's
      throw plain
    }
  }
}

// lmdb-js takes a custom encoder for any database; its types declare the option only on the root's options.
function withEncoder(encoder: object): RootDatabaseOptions {
  return { encoder }
}

/** Creates a new project in dataDir (fresh secret, new device key) and returns the opened store. */
export async function initProject(dataDir: string, name: string, secret?: Buffer): Promise<Store> {
  return Store.create(dataDir, secret ? { name, secret } : { name })
}

/**
 * Makes the data folder, owner-only. A path that cannot be one (a file is there, a name too long) gets a plain
 * answer; a failing disk the usual one.
 */
function makeDataFolder(dataDir: string): void {
  try {
    const existing = statSync(dataDir, { throwIfNoEntry: false })
    if (existing && !existing.isDirectory()) throw badInput(`${dataDir} is a file, not a folder. Give a folder for the data (--data-dir), or leave the option out to use the default.`)
    mkdirSync(dataDir, { recursive: true, mode: 0o700 })
    chmodSync(dataDir, 0o700)
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    if (code === 'ENAMETOOLONG') throw badInput(`The data folder's name is too long: ${dataDir.slice(0, 60)}…. Choose a shorter one.`)
    if (code === 'ENOTDIR' || code === 'EEXIST') throw badInput(`${dataDir} cannot be made: part of that path is a file, not a folder. Choose another place for the data.`)
    throw diskError(err, dataDir) // a FerryError (the refusal above) passes through
  }
}

function alreadyHoldsProject(dataDir: string, project: { name: string; observations: number }): FerryError {
  // Often the daemon's own: started before joining, it made an empty project here. The way out is said in full.
  return badInput(
    `${dataDir} already holds the project “${project.name}” (${project.observations} observation${project.observations === 1 ? '' : 's'}). To start or join another one here, stop Ferry's daemon if it runs, move that folder away, and run the command again; or give another --data-dir.`,
  )
}

type DatabaseKind = 'missing' | LmdbFileKind

/**
 * What the data folder's database file is, looked at before LMDB opens it (lmdb-file-check.ts): 'empty': made but
 * never written (an init killed at once); 'lmdb': an environment (with or without a project in it); 'cut-short' and
 * 'other': one LMDB would crash on.
 */
function databaseKind(dataDir: string): DatabaseKind {
  try {
    return lmdbFileKind(path.join(dataDir, DB_FILE))
  } catch (err) {
    // No database there: the folder is missing, or is not a folder (which making it reports in words).
    const code = (err as NodeJS.ErrnoException).code
    if (code === 'ENOENT' || code === 'ENOTDIR') return 'missing'
    throw diskError(err, dataDir)
  }
}

/** Refuses a database LMDB cannot be trusted to open. */
function refuseUnreadable(dataDir: string, kind: DatabaseKind): void {
  if (kind === 'other') throw unreadableDatabase(dataDir, 'it is damaged, or another file was put in its place')
  if (kind === 'cut-short') throw unreadableDatabase(dataDir, 'it is cut short, as a copy that stopped part way or a disk that filled would leave it')
}

function unreadableDatabase(dataDir: string, why: string): FerryError {
  return new FerryError(
    'io',
    `The database in ${dataDir} (${DB_FILE}) is not one Ferry can read: ${why}. Nothing was changed. Restore the data folder from a backup, or move it away and start again (ferry init --join, then sync with a teammate's file).`,
  )
}
