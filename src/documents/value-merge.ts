import { isDeepStrictEqual } from 'node:util'
import type { LocalChange } from '../store/store.js'

/** An observation's value, as the store keeps it (CoMapeo's valueOf: schemaName and the value fields). */
export type Value = LocalChange['value']

/**
 * `now` with what changed from `base` to `file`, field by field, and tag by tag within `tags` (three-way, as a
 * version control merge: a field the file left as it was in `base` keeps its value here). Where both changed one
 * field, the file's, the later edit, wins. The position moves as one (a latitude from one side and a longitude from
 * the other would be a place neither chose); attachments are merged photo by photo.
 */
export function mergeChanges(base: Value, file: Value, now: Value): Value {
  const merged = applyChanges(base, file, now) as Value
  if (isRecord(base.tags) && isRecord(file.tags) && isRecord(now.tags)) setOwn(merged, 'tags', applyChanges(base.tags, file.tags, now.tags))
  if (!isDeepStrictEqual([base.lat, base.lon], [file.lat, file.lon])) {
    for (const key of ['lat', 'lon'] as const) {
      if (Object.hasOwn(file, key)) setOwn(merged, key, file[key])
      else delete merged[key]
    }
  }
  if (Array.isArray(base.attachments) && Array.isArray(file.attachments) && Array.isArray(now.attachments)) {
    setOwn(merged, 'attachments', mergeAttachments(base.attachments, file.attachments, now.attachments))
  }
  return merged
}

/** Whether every change `from` → `to` (the same fields and units as mergeChanges) is in `file` too. */
export function changesAreIn(from: Value, to: Value, file: Value): boolean {
  return isDeepStrictEqual(mergeChanges(from, to, file), file)
}

function applyChanges(base: Record<string, unknown>, file: Record<string, unknown>, now: Record<string, unknown>): Record<string, unknown> {
  const out = { ...now }
  for (const key of new Set([...Object.keys(base), ...Object.keys(file)])) {
    if (isDeepStrictEqual(own(base, key), own(file, key))) continue
    if (Object.hasOwn(file, key)) setOwn(out, key, file[key])
    else delete out[key]
  }
  return out
}

/**
 * What is attached here now, less what the file removed since `base`, plus what it added, and with what it changed
 * in one (its name, say), photo by photo (by hash).
 */
function mergeAttachments(base: unknown[], file: unknown[], now: unknown[]): unknown[] {
  const key = (a: unknown) => (isRecord(a) && typeof a.hash === 'string' ? a.hash : JSON.stringify(a))
  const inBase = new Map(base.map((a) => [key(a), a]))
  const inFile = new Map(file.map((a) => [key(a), a]))
  const kept = now.filter((a) => !inBase.has(key(a)) || inFile.has(key(a)))
  const merged = kept.map((a) => {
    const before = inBase.get(key(a))
    const after = inFile.get(key(a))
    return before !== undefined && after !== undefined && !isDeepStrictEqual(before, after) ? after : a
  })
  const keptKeys = new Set(kept.map(key))
  return [...merged, ...file.filter((a) => !inBase.has(key(a)) && !keptKeys.has(key(a)))]
}

/** GeoJSON carries no tag named like the dates its properties hold: those of the value are kept. */
const TAGS_GEOJSON_CANNOT_CARRY = ['createdAt', 'updatedAt']

/**
 * `value` with a GeoJSON feature's position (when it has one) and tags: what GeoJSON carries, over what it cannot
 * (attachments, metadata, preset, tags named after its date properties), which the observation keeps.
 */
export function withFeature(value: Value, feature: Value): Value {
  const { lat, lon } = feature
  const tags: Record<string, unknown> = { ...(isRecord(feature.tags) ? feature.tags : {}) }
  for (const name of TAGS_GEOJSON_CANNOT_CARRY) if (isRecord(value.tags) && Object.hasOwn(value.tags, name)) setOwn(tags, name, value.tags[name])
  return { ...value, ...(lat !== undefined ? { lat, lon } : {}), tags }
}

/** How many of the things a GeoJSON feature carries (the position, each tag) differ between two values. */
export function featureDistance(value: Value, feature: Value): number {
  const tags = isRecord(value.tags) ? value.tags : {}
  const featureTags = isRecord(feature.tags) ? feature.tags : {}
  let distance = feature.lat !== undefined && !isDeepStrictEqual([value.lat, value.lon], [feature.lat, feature.lon]) ? 1 : 0
  for (const key of new Set([...Object.keys(tags), ...Object.keys(featureTags)])) if (!isDeepStrictEqual(own(tags, key), own(featureTags, key))) distance++
  return distance
}

/** How many fields (and tags within tags) differ between two values. */
export function valueDistance(a: Value, b: Value): number {
  let distance = featureDistance(a, b)
  for (const key of new Set([...Object.keys(a), ...Object.keys(b)])) {
    if (key !== 'tags' && key !== 'lat' && key !== 'lon' && !isDeepStrictEqual(own(a, key), own(b, key))) distance++
  }
  return distance
}

/** `value` with every -0 as 0, as the store keeps it. */
export function withoutNegativeZeros(value: Value): Value {
  const clean = (v: unknown): unknown => {
    if (Object.is(v, -0)) return 0
    if (Array.isArray(v)) return v.map(clean)
    if (isRecord(v)) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, clean(x)]))
    return v
  }
  return clean(value) as Value
}

export const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v)

/** A property of the object itself, never one inherited (a tag may be named `constructor`). */
const own = (o: Record<string, unknown>, key: string): unknown => (Object.hasOwn(o, key) ? o[key] : undefined)

/** Sets a property of the object itself, even one named `__proto__`, which plain assignment would not set. */
function setOwn(o: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(o, key, { value, enumerable: true, writable: true, configurable: true })
}
