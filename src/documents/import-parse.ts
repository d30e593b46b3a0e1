import type { ComapeoSchema } from '../store/comapeo-schema.js'
import path from 'node:path'
import { badInput } from '../errors.js'
import type { LocalChange } from '../store/store.js'

export interface ParsedImport {
  changes: Array<LocalChange & { docId: string }>
  /** Attachment hashes, in order of first appearance, so their blobs can be brought in. */
  attachmentHashes: string[]
}

const isPlainObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v)

/**
 * Reads an import file: a JSON array of CoMapeo observation documents (as `generate-mapeo-data --schema observation`
 * prints them) or a GeoJSON FeatureCollection. Every document is checked before anything is written; the first bad
 * one stops the import with a sentence naming it and saying why.
 */
export function parseImport(text: string, fileName: string, schema: ComapeoSchema): ParsedImport {
  let data: unknown
  try {
    data = JSON.parse(text)
  } catch (err) {
    throw badInput(`${fileName} is not valid JSON (${err instanceof Error ? err.message : 'parse error'}). Nothing was imported.`)
  }
  const docs = Array.isArray(data) ? data.map((d, i) => fromComapeoDoc(d, i, fileName, schema)) : fromGeoJson(data, fileName, schema)
  const seen = new Set<string>()
  for (const doc of docs) {
    if (seen.has(doc.docId)) throw badInput(`${fileName} holds document ${doc.docId} twice. Nothing was imported.`)
    seen.add(doc.docId)
  }
  const attachmentHashes = [...new Set(docs.flatMap((d) => ((d.value.attachments as Array<{ hash?: unknown }> | undefined) ?? []).map((a) => String(a.hash))))]
  return { changes: docs, attachmentHashes }
}

function fromComapeoDoc(doc: unknown, index: number, fileName: string, schema: ComapeoSchema): LocalChange & { docId: string } {
  const where = `Document ${index + 1} in ${path.basename(fileName)}`
  if (!isPlainObject(doc)) throw badInput(`${where} is not an object. Nothing was imported.`)
  const label = typeof doc.docId === 'string' ? `${where} (docId ${doc.docId.slice(0, 16)})` : where
  if (typeof doc.docId !== 'string' || !/^[0-9A-Za-z_-]{1,256}$/.test(doc.docId)) throw badInput(`${label} has no valid docId. Nothing was imported.`)
  if (doc.schemaName !== 'observation') throw badInput(`${label} is a "${String(doc.schemaName)}", not an observation. Nothing was imported.`)
  for (const field of ['createdAt', 'updatedAt'] as const) {
    if (typeof doc[field] !== 'string' || Number.isNaN(Date.parse(doc[field] as string))) throw badInput(`${label} has no valid ${field} date. Nothing was imported.`)
  }
  if (doc.deleted !== undefined && typeof doc.deleted !== 'boolean') throw badInput(`${label} has a "deleted" field that is not true or false. Nothing was imported.`)
  const value = schema.valueOf(doc as never) as unknown as LocalChange['value']
  checkObservation(schema, value, label)
  return { docId: doc.docId, createdAt: doc.createdAt as string, updatedAt: doc.updatedAt as string, deleted: doc.deleted === true, value }
}

function fromGeoJson(data: unknown, fileName: string, schema: ComapeoSchema): Array<LocalChange & { docId: string }> {
  const name = path.basename(fileName)
  if (!isPlainObject(data) || data.type !== 'FeatureCollection' || !Array.isArray(data.features)) {
    throw badInput(`${name} is neither a JSON array of observations nor a GeoJSON FeatureCollection. Nothing was imported.`)
  }
  const now = new Date().toISOString()
  return data.features.map((feature: unknown, index: number) => {
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
      createdAt: typeof createdAt === 'string' && !Number.isNaN(Date.parse(createdAt)) ? createdAt : now,
      updatedAt: typeof updatedAt === 'string' && !Number.isNaN(Date.parse(updatedAt)) ? updatedAt : now,
      value,
    }
  })
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
