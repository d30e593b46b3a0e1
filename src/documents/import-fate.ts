import { isDeepStrictEqual } from 'node:util'
import type { LocalChange, Store } from '../store/store.js'
import type { Version } from '../store/version.js'
import type { ImportChange } from './import-parse.js'

/**
 * What importing one document does, given what this device holds:
 * - `here`: the file has it as this device holds it (what it shows, or one head of a fork): nothing to write;
 * - `older`: the file has a version held here that was changed or deleted here since; writing it would undo that,
 *   so `change` (that version again, as an edit made now) is written only with --restore;
 * - `write`: `change` is new here, or was changed in the file.
 */
export type ImportFate = { kind: 'here' } | { kind: 'older' | 'write'; change: LocalChange }

export function importFate(store: Store, given: ImportChange): ImportFate {
  const heads = store.heads(given.docId)
  const winner = heads[0]
  // Not held here: written with the file's own dates, so importing someone's dataset keeps its history.
  if (!winner) return { kind: 'write', change: given }
  const value = given.partial ? withFeature(winner.value, given.value) : given.value
  const deleted = given.deleted ?? false
  if (winner.deleted === deleted && isDeepStrictEqual(winner.value, value)) return { kind: 'here' }
  const source = exportedFrom(store, given, heads)
  if (source && heads.some((h) => h.versionId === source.versionId)) return { kind: 'here' }
  if (source) return { kind: 'older', change: editNow(given.docId, source.value, source.deleted) }
  return { kind: 'write', change: editNow(given.docId, value, deleted) }
}

/**
 * A change to a document held here is an edit made now, whatever dates the file gives: stamped with the file's old
 * updatedAt it would lose to every edit made elsewhere since the export, although it was made after them. With no
 * dates, the store stamps it now and keeps the document's createdAt.
 */
function editNow(docId: string, value: LocalChange['value'], deleted: boolean): LocalChange {
  return { docId, value, deleted }
}

/**
 * The version held here that `given` was exported from, unchanged. A CoMapeo document names it (its versionId). A
 * GeoJSON feature does not: it is the held version of that document with the feature's updatedAt and the feature's
 * position and tags (an export copies both from the version it was made from).
 */
function exportedFrom(store: Store, given: ImportChange, heads: Version[]): Version | undefined {
  if (!given.partial) {
    const held = given.versionId === undefined ? undefined : store.getVersion(given.versionId)
    const same = held && held.docId === given.docId && held.deleted === (given.deleted ?? false) && isDeepStrictEqual(held.value, given.value)
    return same ? held : undefined
  }
  for (const v of history(store, heads)) {
    if (!v.deleted && v.updatedAt === (given.exportedUpdatedAt ?? given.updatedAt) && isDeepStrictEqual(withFeature(v.value, given.value), v.value)) return v
  }
  return undefined
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
function withFeature(value: LocalChange['value'], feature: LocalChange['value']): LocalChange['value'] {
  const { lat, lon, tags } = feature
  return { ...value, ...(lat !== undefined ? { lat, lon } : {}), tags }
}
