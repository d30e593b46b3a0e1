import type { ComapeoSchema } from '../store/comapeo-schema.js'
import { fstatSync } from 'node:fs'
import path from 'node:path'
import { badInput } from '../errors.js'
import type { LocalChange } from '../store/store.js'
import { JsonLayoutError, scanJsonLayout, SpanParser, type JsonLayout } from './json-elements.js'
import { monotonicMs } from '../monotonic.js'
import { importedTimestamp } from './import-timestamps.js'

/**
 * An import file, checked whole and read again one document at a time. `changes` parses each document from the
 * file once more and checks it again (the file could change between the two readings: a document that became bad
 * stops the import inside its transaction, so still nothing is written).
 */
export interface ImportPlan {
  count: number
  /** Attachment hashes, in order of first appearance, so their blobs can be brought in. */
  attachmentHashes: string[]
  changes(): Iterable<ImportChange>
}

/**
 * A document to write; a CoMapeo document also names the version it was exported from. A GeoJSON feature carries
 * only a position and tags (`partial`): written over an observation held here, it keeps the rest (attachments,
 * metadata, preset). Its updatedAt, with its content, tells which held version it was exported from (import-fate.ts).
 */
export type ImportChange = LocalChange & {
  docId: string
  versionId?: string
  partial?: boolean
  /** updatedAt as the file gives it: it tells which version held here the document was exported from. */
  exportedUpdatedAt?: string
  /** A CoMapeo document's links: the versions it was made from, a base for it when its own is not held here. */
  links?: string[]
}

/** Called now and then while the documents are checked, and again while they are written (the count so far). */
export type ImportProgress = (phase: 'checking' | 'writing', done: number, total: number) => void

const isPlainObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v)

/**
 * Reads an import file, open as `fd`: a JSON array of CoMapeo observation documents (as `generate-mapeo-data
 * --schema observation` prints them) or a GeoJSON FeatureCollection. Every document is checked before anything is
 * written; the first bad one stops the import with a sentence naming it and saying why. One document is held at a
 * time (json-elements.ts), never the whole file.
 */
export function planImport(fd: number, fileName: string, schema: ComapeoSchema, onProgress?: ImportProgress): ImportPlan {
  const name = path.basename(fileName)
  // Its size and time now, to see at the write whether the file changed since it was checked.
  const before = fstatSync(fd)
  let layout: JsonLayout
  try {
    layout = scanJsonLayout(fd, before.size)
  } catch (err) {
    if (err instanceof JsonLayoutError) throw notJson(name, err.message)
    throw err
  }
  if (layout.root === 'other' || (layout.root === 'object' && (layout.members.type !== 'FeatureCollection' || !layout.hasFeatures))) {
    throw badInput(`${name} is neither a JSON array of observations nor a GeoJSON FeatureCollection. Nothing was imported.`)
  }
  const now = new Date().toISOString()
  const toChange = layout.root === 'array' ? (doc: unknown, i: number) => fromComapeoDoc(doc, i, name, schema) : (feature: unknown, i: number) => fromFeature(feature, i, name, schema, now)
  const count = layout.spans.length / 2
  const hashes = new Set<string>()
  function* read(phase: 'checking' | 'writing'): Iterable<ImportChange> {
    if (phase === 'writing') {
      const now = fstatSync(fd)
      if (now.size !== before.size || now.mtimeMs !== before.mtimeMs) throw badInput(`${name} changed while it was being imported. Nothing was imported; run the import again.`)
    }
    const spans = new SpanParser(fd)
    const seen = new Set<string>()
    let shown = 0
    for (let i = 0; i < count; i++) {
      // At most ten times a second; the time is looked at every 256 documents.
      if (onProgress && (i & 255) === 0 && monotonicMs() - shown > 100) {
        shown = monotonicMs()
        onProgress(phase, i, count)
      }
      let parsed: unknown
      try {
        parsed = spans.parse(layout.spans[2 * i]!, layout.spans[2 * i + 1]!)
      } catch (err) {
        throw notJson(name, `${err instanceof Error ? err.message : 'parse error'}, in ${layout.root === 'array' ? 'document' : 'feature'} ${i + 1}`)
      }
      const change = toChange(parsed, i)
      // Checked in both readings: the write must not take a document twice (its second would become an edit).
      if (seen.has(change.docId)) throw badInput(`${name} holds document ${change.docId} twice. Nothing was imported.`)
      seen.add(change.docId)
      if (phase === 'checking') for (const a of (change.value.attachments as Array<{ hash?: unknown }> | undefined) ?? []) hashes.add(String(a.hash))
      yield change
    }
    onProgress?.(phase, count, count)
  }
  for (const change of read('checking')) void change
  return { count, attachmentHashes: [...hashes], changes: () => read('writing') }
}

function notJson(name: string, reason: string) {
  return badInput(`${name} is not valid JSON (${reason}). Nothing was imported.`)
}

function fromComapeoDoc(doc: unknown, index: number, name: string, schema: ComapeoSchema): ImportChange {
  const where = `Document ${index + 1} in ${name}`
  if (!isPlainObject(doc)) throw badInput(`${where} is not an object. Nothing was imported.`)
  const label = typeof doc.docId === 'string' ? `${where} (docId ${doc.docId.slice(0, 16)})` : where
  if (typeof doc.docId !== 'string' || !/^[0-9A-Za-z_-]{1,256}$/.test(doc.docId)) throw badInput(`${label} has no valid docId. Nothing was imported.`)
  if (doc.schemaName !== 'observation') throw badInput(`${label} is a "${String(doc.schemaName)}", not an observation. Nothing was imported.`)
  const createdAt = documentDate(doc, 'createdAt', label)
  const updatedAt = documentDate(doc, 'updatedAt', label)
  if (doc.deleted !== undefined && typeof doc.deleted !== 'boolean') throw badInput(`${label} has a "deleted" field that is not true or false. Nothing was imported.`)
  const value = schema.valueOf(doc as never) as unknown as LocalChange['value']
  checkObservation(schema, value, label)
  const change: ImportChange = { docId: doc.docId, createdAt, updatedAt, deleted: doc.deleted === true, value }
  if (typeof doc.versionId === 'string') change.versionId = doc.versionId
  if (typeof doc.updatedAt === 'string') change.exportedUpdatedAt = doc.updatedAt
  if (Array.isArray(doc.links) && doc.links.every((l) => typeof l === 'string')) change.links = doc.links as string[]
  return change
}

/** A document's date as it will be stored (see import-timestamps.ts); a document without one is refused. */
function documentDate(doc: Record<string, unknown>, field: 'createdAt' | 'updatedAt', label: string): string {
  const stored = typeof doc[field] === 'string' ? importedTimestamp(doc[field]) : undefined
  if (stored === undefined) throw badInput(`${label} has no valid ${field} date. Nothing was imported.`)
  return stored
}

function fromFeature(feature: unknown, index: number, name: string, schema: ComapeoSchema, now: string): ImportChange {
  const where = `Feature ${index + 1} in ${name}`
  if (!isPlainObject(feature) || feature.type !== 'Feature') throw badInput(`${where} is not a GeoJSON Feature. Nothing was imported.`)
  const geometry = feature.geometry
  let lat: number | undefined
  let lon: number | undefined
  if (geometry !== null && geometry !== undefined) {
    const coords = isPlainObject(geometry) && geometry.type === 'Point' ? geometry.coordinates : undefined
    if (!Array.isArray(coords) || typeof coords[0] !== 'number' || typeof coords[1] !== 'number') {
      throw badInput(`${where} is not a point (only Point geometries can become observations). Nothing was imported.`)
    }
    lon = coords[0]
    lat = coords[1]
  }
  const { createdAt, updatedAt, ...tags } = isPlainObject(feature.properties) ? feature.properties : {}
  const docId = typeof feature.id === 'string' && /^[0-9A-Za-z_-]{1,256}$/.test(feature.id) ? feature.id : undefined
  const value: LocalChange['value'] = { schemaName: 'observation', ...(lat !== undefined ? { lat, lon } : {}), attachments: [], tags }
  checkObservation(schema, value, where)
  return {
    docId: docId ?? cryptoRandomId(),
    createdAt: (typeof createdAt === 'string' && importedTimestamp(createdAt)) || now,
    updatedAt: (typeof updatedAt === 'string' && importedTimestamp(updatedAt)) || now,
    // As written, not as it would be stored: a version written by an earlier build may carry a date without a zone.
    ...(typeof updatedAt === 'string' ? { exportedUpdatedAt: updatedAt } : {}),
    value,
    partial: true,
  }
}

/** Checks a value with CoMapeo's own schema; the message names the first failing field. */
export function checkObservation(schema: ComapeoSchema, value: Record<string, unknown>, label: string): void {
  if (schema.validate('observation', value)) return
  const first = schema.validate.errors?.[0]
  const field = first?.instancePath ? first.instancePath.slice(1).replace(/\//g, '.') : 'the document'
  throw badInput(`${label} is not a valid observation: ${field} ${first?.message ?? 'is invalid'}. Nothing was imported.`)
}

function cryptoRandomId(): string {
  return Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString('hex')
}
