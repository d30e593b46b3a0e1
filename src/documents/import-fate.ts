import { isDeepStrictEqual } from 'node:util'
import type { LocalChange, Store } from '../store/store.js'
import type { Version } from '../store/version.js'
import type { ImportChange } from './import-parse.js'

type Value = LocalChange['value']

/**
 * What importing one document does, given what this device holds:
 * - `here`: the file has it as this device holds it (what it shows, or one head of a fork): nothing to write;
 * - `older`: the file has a version held here that was changed or deleted here since (or changes an observation
 *   deleted here since); writing it would undo that, so `change` is written only with --restore;
 * - `write`: `change` is new here, or was changed in the file.
 */
export type ImportFate = { kind: 'here' } | { kind: 'older' | 'write'; change: LocalChange }

export function importFate(store: Store, given: ImportChange): ImportFate {
  const heads = store.heads(given.docId)
  const winner = heads[0]
  // Not held here: written with the file's own dates, so importing someone's dataset keeps its history.
  if (!winner) return { kind: 'write', change: given }
  const base = exportedFrom(store, given, heads)
  const value = given.partial ? withFeature((base ?? winner).value, given.value) : given.value
  const deleted = given.deleted ?? false
  if (winner.deleted === deleted && isDeepStrictEqual(winner.value, value)) return { kind: 'here' }
  // The file says nothing of what it came from (another tool's file, a version not held here): its content is the edit.
  if (!base) return { kind: 'write', change: editNow(given.docId, value, deleted) }
  if (base.deleted === deleted && isDeepStrictEqual(base.value, value)) {
    return heads.some((h) => h.versionId === base.versionId) ? { kind: 'here' } : { kind: 'older', change: editNow(given.docId, base.value, base.deleted) }
  }
  // Changed in the file since it was exported. Only those changes are applied, over what this device shows now, so
  // edits made here since the export stay; over an observation deleted here since, only with --restore.
  const merged = editNow(given.docId, mergeChanges(base.value, value, winner.value), deleted)
  return winner.deleted && !deleted ? { kind: 'older', change: merged } : { kind: 'write', change: merged }
}

/**
 * A change to a document held here is an edit made now, whatever dates the file gives: stamped with the file's old
 * updatedAt it would lose to every edit made elsewhere since the export, although it was made after them. With no
 * dates, the store stamps it now and keeps the document's createdAt.
 */
function editNow(docId: string, value: Value, deleted: boolean): LocalChange {
  return { docId, value, deleted }
}

/**
 * `now` with what changed from `base` to `file`, field by field, and tag by tag within `tags` (three-way, as a
 * version control merge: a field the file left as exported keeps its value here). Where both changed one field,
 * the file's, the later edit, wins.
 */
function mergeChanges(base: Value, file: Value, now: Value): Value {
  const merged = applyChanges(base, file, now) as Value
  if (isRecord(base.tags) && isRecord(file.tags) && isRecord(now.tags)) merged.tags = applyChanges(base.tags, file.tags, now.tags)
  return merged
}

function applyChanges(base: Record<string, unknown>, file: Record<string, unknown>, now: Record<string, unknown>): Record<string, unknown> {
  const out = { ...now }
  for (const key of new Set([...Object.keys(base), ...Object.keys(file)])) {
    if (isDeepStrictEqual(base[key], file[key])) continue
    if (key in file) out[key] = file[key]
    else delete out[key]
  }
  return out
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v)

/**
 * The version held here that `given` was exported from. A CoMapeo document names it (its versionId). A GeoJSON
 * feature does not: it is the held version of that document with the feature's updatedAt as written (an export copies
 * it from the version it was made from) — of several with that date, the one whose position and tags the feature
 * has unchanged.
 */
function exportedFrom(store: Store, given: ImportChange, heads: Version[]): Version | undefined {
  if (!given.partial) {
    const held = given.versionId === undefined ? undefined : store.getVersion(given.versionId)
    return held?.docId === given.docId ? held : undefined
  }
  const written = given.exportedUpdatedAt ?? given.updatedAt
  let sameDate: Version | undefined
  for (const v of history(store, heads)) {
    if (v.deleted || v.updatedAt !== written) continue
    if (isDeepStrictEqual(withFeature(v.value, given.value), v.value)) return v
    sameDate ??= v
  }
  return sameDate
}

/** Every version of a document held here: its heads first, then back along the links to its first version. */
function* history(store: Store, heads: Version[]): Iterable<Version> {
  const queue = heads.map((h) => h.versionId)
  const seen = new Set(queue)
  for (let i = 0; i < queue.length; i++) {
    const version = store.getVersion(queue[i]!)
    if (!version) continue
    yield version
    for (const link of version.links) {
      if (!seen.has(link)) {
        seen.add(link)
        queue.push(link)
      }
    }
  }
}

/**
 * `value` with a GeoJSON feature's position (when it has one) and tags: what GeoJSON carries, over what it cannot
 * (attachments, metadata, preset), which the observation keeps.
 */
function withFeature(value: Value, feature: Value): Value {
  const { lat, lon, tags } = feature
  return { ...value, ...(lat !== undefined ? { lat, lon } : {}), tags }
}
