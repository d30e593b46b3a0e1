import { createHash, randomBytes } from 'node:crypto'
import { cpSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { toJsonExport } from '../../../src/documents/export-format.js'
import type { Disk } from '../../../src/fs/disk.js'
import { Store } from '../../../src/store/store.js'
import { versionIdOf } from '../../../src/store/version.js'

/**
 * In-process worlds for the fault and security suites: several data folders of one project, opened as Stores,
 * with helpers to add data and to take a full fingerprint of what a store holds (every versionId, the chain tips,
 * the blob set and the export) — convergence is checked on those, never on counts.
 */
export async function makeStores(root: string, count: number, name = 'River monitoring'): Promise<Store[]> {
  const first = await Store.create(path.join(root, 'device1'), { name })
  const stores = [first]
  for (let i = 2; i <= count; i++) stores.push(await Store.create(path.join(root, `device${i}`), { name, secret: first.projectSecret }))
  return stores
}

export interface NewObservation {
  lat?: number
  lon?: number
  tags?: Record<string, string>
  photos?: Buffer[]
  /** Attachment name as the user's file was called (only ever a label). */
  photoName?: string
}

/** Adds one observation (and its photos) as `ferry add` does. Returns its versionId and the photos' hashes. */
export async function addObservation(store: Store, o: NewObservation = {}): Promise<{ versionId: string; docId: string; hashes: string[] }> {
  return store.exclusive(async () => {
    const now = new Date().toISOString()
    const blobs: Array<{ hash: string; size: number }> = []
    const attachments: Array<Record<string, unknown>> = []
    for (const photo of o.photos ?? []) {
      const writer = await store.media.beginWrite()
      await writer.append(photo)
      const blob = await writer.commit()
      blobs.push(blob)
      attachments.push({ driveDiscoveryId: store.info.deviceId, name: o.photoName ?? 'photo.jpg', type: 'photo', hash: blob.hash, external: true, createdAt: now })
    }
    const value = { schemaName: 'observation', lat: o.lat ?? rnd(-80, 80), lon: o.lon ?? rnd(-170, 170), attachments, tags: o.tags ?? { note: randomBytes(6).toString('hex') } }
    const [versionId] = await store.writeLocal([{ value, createdAt: now, updatedAt: now }], blobs)
    return { versionId: versionId!, docId: store.getVersion(versionId!)!.docId, hashes: blobs.map((b) => b.hash) }
  })
}

const rnd = (lo: number, hi: number) => Math.round((lo + Math.random() * (hi - lo)) * 1e6) / 1e6

export function smallPhoto(bytes = 2000): Buffer {
  return randomBytes(bytes)
}

/** Every versionId the store holds (each device's log is a contiguous prefix 1..seq). */
export function versionIds(store: Store): Set<string> {
  const ids = new Set<string>()
  for (const [device, tip] of store.clock()) for (let seq = 1; seq <= tip.seq; seq++) ids.add(versionIdOf(device, seq))
  return ids
}

export function exportOf(store: Store): string {
  return toJsonExport(store.currentVersions())
}

/** Everything that must be equal on two converged devices, and unchanged on a device a failed sync touched. */
export function fingerprint(store: Store): string {
  const clock = [...store.clock()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([d, t]) => `${d}:${t.seq}:${t.hash.toString('hex')}`)
  const blobs = [...store.blobEntries()].map((b) => `${b.hash}:${b.size}`).sort()
  return JSON.stringify({ clock, blobs, export: exportOf(store) })
}

/** Files under the media store's blobs folder, as paths relative to the data folder. */
export function mediaFiles(dataDir: string): string[] {
  const root = path.join(dataDir, 'media', 'blobs')
  const found: string[] = []
  const walk = (dir: string) => {
    let names: string[]
    try {
      names = readdirSync(dir)
    } catch {
      return
    }
    for (const name of names) {
      const p = path.join(dir, name)
      if (statSync(p).isDirectory()) walk(p)
      else found.push(path.relative(dataDir, p))
    }
  }
  walk(root)
  return found.sort()
}

/** Checks every blob the store indexes is on disk with the right content. */
export function blobsIntact(store: Store): string[] {
  const bad: string[] = []
  for (const { hash } of store.blobEntries()) {
    try {
      const data = readFileSync(store.media.pathOf(hash))
      if (createHash('sha256').update(data).digest('hex') !== hash) bad.push(hash)
    } catch {
      bad.push(hash)
    }
  }
  return bad
}

/** Copies a data folder (closed) to a new place, to run a risky merge on the copy. */
export function copyDataDir(from: string, to: string): void {
  mkdirSync(path.dirname(to), { recursive: true })
  cpSync(from, to, { recursive: true })
}

export async function reopen(store: Store, disk?: Disk): Promise<Store> {
  await store.close()
  return Store.open(store.dataDir, disk ? { disk } : {})
}

export function writeBytes(p: string, bytes: Buffer): void {
  writeFileSync(p, bytes)
}

export function sha256(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex')
}
