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

export function importFate(store: Store, file: ImportChange): ImportFate {
  // The store keeps -0 as 0: compared as written, a file with -0 would never be "already here".
  const given = { ...file, value: withoutNegativeZeros(file.value) }
  const heads = store.heads(given.docId)
  const winner = heads[0]
  // Not held here: written with the file's own dates, so importing someone's dataset keeps its history.
  if (!winner) return { kind: 'write', change: given }
  const base = exportedFrom(store, given, heads)
  const value = given.partial ? withFeature((base ?? winner).value, given.value) : given.value
  const deleted = given.deleted ?? false
  if (winner.deleted === deleted && (deleted || isDeepStrictEqual(winner.value, value))) return { kind: 'here' }
  // The file says nothing of what it came from (another tool's file, a version not held here): its content is the
  // edit; over an observation deleted here, only with --restore.
  if (!base) return { kind: winner.deleted && !deleted ? 'older' : 'write', change: editNow(given.docId, value, deleted) }
  if (base.deleted === deleted && isDeepStrictEqual(base.value, value)) {
    return heads.some((h) => h.versionId === base.versionId) ? { kind: 'here' } : { kind: 'older', change: editNow(given.docId, base.value, base.deleted) }
  }
  // Changed in the file since it was exported. Only those changes are applied, over what this device shows now, so
  // edits made here since the export stay; over an observation deleted here since, only with --restore.
  const merged = mergeChanges(base.value, value, winner.value)
  if (!winner.deleted && !deleted && isDeepStrictEqual(merged, winner.value)) return { kind: 'here' }
  // Imported before, and changed again since: the file's changes are in a version made after the export, and a later
  // one changed them again. Applying them now would undo that.
  if (appliedThenChanged(store, base, value, heads)) return { kind: 'older', change: editNow(given.docId, merged, deleted) }
  const change = editNow(given.docId, merged, deleted)
  return winner.deleted && !deleted ? { kind: 'older', change } : { kind: 'write', change }
}

/** Whether a version made after `base` (not a head) already had every change the file makes to it. */
function appliedThenChanged(store: Store, base: Version, file: Value, heads: Version[]): boolean {
  for (const v of descendantsOf(store, base, heads)) {
    if (!v.deleted && !heads.some((h) => h.versionId === v.versionId) && isDeepStrictEqual(mergeChanges(base.value, file, v.value), v.value)) return true
  }
  return false
}

/** The versions held here made after `base`: those from which a chain of links leads back to it. */
function descendantsOf(store: Store, base: Version, heads: Version[]): Version[] {
  const reaches = new Map<string, boolean>([[base.versionId, false]])
  const found: Version[] = []
  const visit = (versionId: string): boolean => {
    if (versionId === base.versionId) return true
    const known = reaches.get(versionId)
    if (known !== undefined) return known
    reaches.set(versionId, false) // a cycle (never in a valid history) ends here
    const version = store.getVersion(versionId)
    let result = false
    for (const link of version?.links ?? []) if (visit(link)) result = true
    reaches.set(versionId, result)
    if (result && version) found.push(version)
    return result
  }
  for (const head of heads) visit(head.versionId)
  return found
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
 * the file's, the later edit, wins. The position moves as one (a latitude from one side and a longitude from the
 * other would be a place neither chose); attachments are merged photo by photo.
 */
function mergeChanges(base: Value, file: Value, now: Value): Value {
  const merged = applyChanges(base, file, now) as Value
  if (isRecord(base.tags) && isRecord(file.tags) && isRecord(now.tags)) merged.tags = applyChanges(base.tags, file.tags, now.tags)
  if (!isDeepStrictEqual([base.lat, base.lon], [file.lat, file.lon])) {
    for (const key of ['lat', 'lon'] as const) {
      if (key in file) merged[key] = file[key]
      else delete merged[key]
    }
  }
  if (Array.isArray(base.attachments) && Array.isArray(file.attachments) && Array.isArray(now.attachments)) {
    merged.attachments = mergeAttachments(base.attachments, file.attachments, now.attachments)
  }
  return merged
}

/**
 * What is attached here now, less what the file removed since the export, plus what it added, and with what it
 * changed in one (its name, say), photo by photo (by hash).
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

/** `value` with every -0 as 0, as the store keeps it. */
function withoutNegativeZeros(value: Value): Value {
  const clean = (v: unknown): unknown => {
    if (Object.is(v, -0)) return 0
    if (Array.isArray(v)) return v.map(clean)
    if (isRecord(v)) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, clean(x)]))
    return v
  }
  return clean(value) as Value
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
 * The version held here that `given` was exported from, or failing that the one it was made from. A CoMapeo document
 * names it (its versionId), and is that version only if the one held under that id has its date and links too: a
 * data folder restored from a backup reuses ids for other changes (README, "Restored from a backup"). Not held here,
 * the version it links to is its base: what the file changes from that is its change. A GeoJSON feature names
 * nothing: it is the held version of that document with the feature's updatedAt as written (an export copies it
 * from the version it was made from) — the one whose position and tags the feature has unchanged, else the only one
 * with that date.
 */
function exportedFrom(store: Store, given: ImportChange, heads: Version[]): Version | undefined {
  if (!given.partial) {
    const held = given.versionId === undefined ? undefined : store.getVersion(given.versionId)
    const same = held?.docId === given.docId && held.updatedAt === given.exportedUpdatedAt && (given.links === undefined || isDeepStrictEqual(held.links, given.links))
    if (same) return held
    const parents = (given.links ?? []).map((id) => store.getVersion(id)).filter((v): v is Version => v?.docId === given.docId)
    return parents.length === 1 ? parents[0] : undefined
  }
  const written = given.exportedUpdatedAt ?? given.updatedAt
  const sameDate: Version[] = []
  for (const v of history(store, heads)) {
    if (v.deleted || v.updatedAt !== written) continue
    if (isDeepStrictEqual(withFeature(v.value, given.value), v.value)) return v
    sameDate.push(v)
  }
  // Edited in the file, and several versions with its date (concurrent ones): the one it differs from least.
  const byDistance = sameDate.map((v) => ({ v, distance: featureDistance(v.value, given.value) })).sort((a, b) => a.distance - b.distance)
  return byDistance.length === 1 || (byDistance.length > 1 && byDistance[0]!.distance < byDistance[1]!.distance) ? byDistance[0]!.v : undefined
}

/** How many of the things a GeoJSON feature carries (the position, each tag) differ between a value and a feature. */
function featureDistance(value: Value, feature: Value): number {
  const tags = isRecord(value.tags) ? value.tags : {}
  const featureTags = isRecord(feature.tags) ? feature.tags : {}
  let distance = feature.lat !== undefined && !isDeepStrictEqual([value.lat, value.lon], [feature.lat, feature.lon]) ? 1 : 0
  for (const key of new Set([...Object.keys(tags), ...Object.keys(featureTags)])) if (!isDeepStrictEqual(tags[key], featureTags[key])) distance++
  return distance
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
