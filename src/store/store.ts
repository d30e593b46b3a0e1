import { randomBytes } from 'node:crypto'
import { chmodSync, existsSync, mkdirSync, statSync } from 'node:fs'
import { createRequire } from 'node:module'
import path from 'node:path'
import type { Database, RootDatabase, RootDatabaseOptionsWithPath } from 'lmdb'
import { badInput, FerryError } from '../errors.js'
import type { Disk } from '../fs/disk.js'
import { nodeDisk } from '../fs/node-disk.js'
import { deviceKeyFromDer, generateDeviceKey, type DeviceKey } from './device-key.js'
import { isLive, withVersion, type DocState } from './doc-state.js'
import { MediaStore } from './media-store.js'
import { PROJECT_SECRET_BYTES, projectIdOf } from './project-identity.js'
import type { StoreInfo } from './store-api.js'
import { fromStored, toStored, type BlobRecord, type StoredBlob } from './blob-record.js'
import { envelopeHash, openEnvelope, parseVersionId, sealVersion, versionIdOf, type Version, type VersionBody } from './version.js'
import { acquireWriterLock } from './writer-lock.js'

/** The newest version a device holds of its own log, and that version's envelope hash (the chain's tip). */
export interface ClockEntry {
  seq: number
  hash: Buffer
}

/** A change this device makes: a new document (no docId), an edit, or a delete of an existing one. */
export interface LocalChange {
  docId?: string
  createdAt?: string
  updatedAt?: string
  deleted?: boolean
  value: VersionBody['value']
}

/** What indexing a version needs, without decoding it again. */
interface VersionSummary {
  versionId: string
  docId: string
  links: string[]
  deleted: boolean
  updatedAt: string
}

interface StagedSummary extends Omit<VersionSummary, 'versionId'> {
  hash: Buffer
}

interface ProjectRecord {
  secret: Buffer
  name: string
}

const DB_FILE = 'ferry.mdb'

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
 * The data folder: one LMDB environment plus the media store.
 *
 * Named databases:
 * - `versions`  [deviceId, seq] → envelope. Every device's log is held as a contiguous prefix 1..n, so the per-device
 *               clock below is exactly "what this device holds", and "what X lacks" is a range scan per device.
 * - `clock`     deviceId → {seq, hash} of the newest held version of that device.
 * - `docs`      docId → DocState (heads with winner summaries), iterated in docId order for export.
 * - `superseded` versionId → true once a held version links to it (makes head tracking order-independent).
 * - `blobs`     sha256 hex → size (and, for a preview or thumbnail, its original), for blobs whose files are
 *               durably in the media store.
 * - `incoming`  [deviceId, seq] → summary of a version received from a sync file, verified, not yet visible.
 * - `meta`      project, device key, categories, live-document count.
 */
export class Store {
  readonly media: MediaStore
  readonly projectId: Buffer
  readonly projectSecret: Buffer
  private readonly projectName: string
  private readonly deviceKeyDer: Buffer
  private parsedDeviceKey: DeviceKey | undefined
  private storeInfo: StoreInfo | undefined

  private constructor(
    readonly dataDir: string,
    readonly disk: Disk,
    private readonly env: RootDatabase,
    private readonly versions: Database<Buffer, [string, number]>,
    private readonly clockDb: Database<ClockEntry, string>,
    private readonly docs: Database<DocState, string>,
    private readonly superseded: Database<true, string>,
    private readonly blobs: Database<StoredBlob, string>,
    private readonly incoming: Database<StagedSummary, [string, number]>,
    private readonly meta: Database<unknown, string>,
  ) {
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
    const store = Store.openEnv(dataDir, opts.disk ?? nodeDisk)
    if (store.meta.get('project') === undefined) {
      await store.env.close()
      throw new FerryError('not-initialised', `The data folder ${dataDir} was never finished setting up. Run \`ferry init\` again.`)
    }
    return new Store(dataDir, store.disk, store.env, store.versions, store.clockDb, store.docs, store.superseded, store.blobs, store.incoming, store.meta)
  }

  /** Creates a project in an empty (or new) data folder, with a fresh device key. */
  static async create(dataDir: string, project: { name: string; secret?: Buffer }, opts: { disk?: Disk } = {}): Promise<Store> {
    if (existsSync(path.join(dataDir, DB_FILE))) {
      throw badInput(`${dataDir} already holds a Ferry project. Use another --data-dir to start or join a different one.`)
    }
    mkdirSync(dataDir, { recursive: true, mode: 0o700 })
    chmodSync(dataDir, 0o700)
    const secret = project.secret ?? randomBytes(PROJECT_SECRET_BYTES)
    if (secret.length !== PROJECT_SECRET_BYTES) throw badInput('A project key must be 32 bytes.')
    const lock = acquireWriterLock(dataDir, 'init')
    try {
      const parts = Store.openEnv(dataDir, opts.disk ?? nodeDisk)
      const { privateDer } = generateDeviceKey()
      parts.meta.transactionSync(() => {
        parts.meta.putSync('deviceKey', privateDer)
        parts.meta.putSync('project', { secret, name: project.name } satisfies ProjectRecord)
        parts.meta.putSync('liveCount', 0)
      })
      await parts.env.flushed
      chmodSync(path.join(dataDir, DB_FILE), 0o600)
      return new Store(dataDir, parts.disk, parts.env, parts.versions, parts.clockDb, parts.docs, parts.superseded, parts.blobs, parts.incoming, parts.meta)
    } finally {
      lock.release()
    }
  }

  private static openEnv(dataDir: string, disk: Disk) {
    if (!statSync(dataDir, { throwIfNoEntry: false })?.isDirectory()) {
      throw new FerryError('not-initialised', `The data folder ${dataDir} does not exist. Run \`ferry init\` first.`)
    }
    const env = openLmdb({ path: path.join(dataDir, DB_FILE), maxDbs: 16, compression: false })
    const binary = { encoding: 'binary' as const, keyEncoding: 'ordered-binary' as const }
    return {
      disk,
      env,
      versions: env.openDB<Buffer, [string, number]>('versions', binary),
      clockDb: env.openDB<ClockEntry, string>('clock', {}),
      docs: env.openDB<DocState, string>('docs', {}),
      superseded: env.openDB<true, string>('superseded', {}),
      blobs: env.openDB<StoredBlob, string>('blobs', {}),
      incoming: env.openDB<StagedSummary, [string, number]>('incoming', { keyEncoding: 'ordered-binary' }),
      meta: env.openDB<unknown, string>('meta', {}),
    }
  }

  async close(): Promise<void> {
    await this.env.flushed
    await this.env.close()
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
    for (const { key, value } of this.clockDb.getRange()) result.set(key, { seq: value.seq, hash: Buffer.from(value.hash) })
    return result
  }

  getEnvelope(deviceId: string, seq: number): Buffer | undefined {
    return this.versions.get([deviceId, seq])
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

  /** Envelopes of one device's versions fromSeq..toSeq, in order, read lazily. */
  *envelopes(deviceId: string, fromSeq: number, toSeq: number): Iterable<Buffer> {
    for (const { value } of this.versions.getRange({ start: [deviceId, fromSeq], end: [deviceId, toSeq + 1] })) yield value
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
    await this.meta.put(key, value)
    await this.env.flushed
  }

  /**
   * Writes this device's changes as new signed versions, all or nothing. An edit or delete links to every current
   * head of the document, so it resolves forks. Returns the new versionIds.
   */
  async writeLocal(changes: readonly LocalChange[], blobs: ReadonlyArray<BlobRecord> = []): Promise<string[]> {
    const now = new Date().toISOString()
    const me = this.deviceKey.deviceId
    const ids = this.env.transactionSync(() => {
      const tip = this.clockDb.get(me)
      let seq = tip?.seq ?? 0
      let prev: Buffer | null = tip ? Buffer.from(tip.hash) : null
      const written: string[] = []
      for (const change of changes) {
        const docId = change.docId ?? randomBytes(32).toString('hex')
        const state = change.docId === undefined ? undefined : this.docs.get(docId)
        const links = state?.heads.map((h) => h.versionId) ?? []
        const firstLinked = links[0] === undefined ? undefined : this.getVersion(links[0])
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
        this.applyVersion(opened.version)
        prev = envelopeHash(envelope)
        written.push(opened.version.versionId)
      }
      if (prev) this.clockDb.putSync(me, { seq, hash: prev })
      for (const blob of blobs) this.blobs.putSync(blob.hash, toStored(blob))
      return written
    })
    await this.env.flushed
    return ids
  }

  /** Adds a version to the log and updates its document. Runs inside a write transaction. */
  private applyVersion(version: Version): void {
    this.versions.putSync([version.deviceId, version.seq], version.envelope)
    this.adjustLiveCount(this.indexVersion(version))
  }

  /** Updates the document a version belongs to; returns the change in live documents (−1, 0 or 1). */
  private indexVersion(version: VersionSummary): number {
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
  // Verified envelopes are written straight into `versions` (where nothing looks beyond a device's clock, so they
  // stay invisible) and a small summary of each goes into `incoming`. commitIncoming then indexes them all and
  // moves the clocks in one transaction: until it commits, the received data is invisible; after, all of it is
  // there. Each envelope is decoded and written once.

  /** Removes what an earlier merge staged and never committed (a crash, a failed check). */
  async discardIncoming(): Promise<void> {
    await this.incoming.committed
    await this.versions.committed
    this.env.transactionSync(() => {
      for (const { key } of this.incoming.getRange()) {
        const [deviceId, seq] = key
        if (seq > (this.clockDb.get(deviceId)?.seq ?? 0)) this.versions.removeSync([deviceId, seq])
      }
      this.incoming.clearSync()
    })
  }

  /** Stages one verified version; resolves when LMDB has taken it (callers await in batches, for backpressure). */
  stageIncoming(version: Version, hash: Buffer): Promise<boolean> {
    const summary: StagedSummary = { docId: version.docId, links: version.links, deleted: version.deleted, updatedAt: version.updatedAt, hash }
    void this.versions.put([version.deviceId, version.seq], version.envelope)
    return this.incoming.put([version.deviceId, version.seq], summary)
  }

  /**
   * Makes every staged version and the given blobs visible in one LMDB transaction, then waits until it is durable.
   * Each device's staged range must continue its clock exactly; anything else aborts it all.
   */
  async commitIncoming(newBlobs: ReadonlyArray<BlobRecord>): Promise<number> {
    await this.incoming.committed
    await this.versions.committed
    const applied = this.env.transactionSync(() => {
      const tips = new Map<string, ClockEntry>()
      let count = 0
      let liveChange = 0
      for (const { key, value } of this.incoming.getRange()) {
        const [deviceId, seq] = key
        const tip = tips.get(deviceId) ?? this.clockDb.get(deviceId)
        if (seq !== (tip?.seq ?? 0) + 1) throw new Error(`staged versions of ${deviceId} do not continue its clock`)
        liveChange += this.indexVersion({ ...value, versionId: versionIdOf(deviceId, seq) })
        tips.set(deviceId, { seq, hash: Buffer.from(value.hash) })
        count++
      }
      this.adjustLiveCount(liveChange)
      for (const [deviceId, tip] of tips) this.clockDb.putSync(deviceId, tip)
      for (const blob of newBlobs) this.blobs.putSync(blob.hash, toStored(blob))
      this.incoming.clearSync()
      return count
    })
    await this.env.flushed
    return applied
  }
}

/** Creates a new project in dataDir (fresh secret, new device key) and returns the opened store. */
export async function initProject(dataDir: string, name: string, secret?: Buffer): Promise<Store> {
  return Store.create(dataDir, secret ? { name, secret } : { name })
}
