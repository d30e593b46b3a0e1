import { isDeepStrictEqual } from 'node:util'
import type { Store } from '../store/store.js'
import type { Version } from '../store/version.js'
import type { ImportChange } from './import-parse.js'
import { changesAreIn, featureDistance, valueDistance, withFeature, type Value } from './value-merge.js'

/**
 * The version held here that an imported document was exported from (its "base"): what the file changes from it is
 * the import's edit. Undefined when the document names nothing to find it by (another tool's file).
 *
 * - A CoMapeo document names its version (versionId) and the versions it was made from (links). The version held
 *   under that id is the base if it has the document's date and links too. Otherwise, or when that version is not
 *   held here, the base is the nearest version up its links whose own change the file has: a data folder restored
 *   from a backup reuses ids for other changes (README, "Restored from a backup"), and a version whose change the
 *   file lacks is one the document was not made from. Failing all that, the held version it differs from least.
 * - A GeoJSON feature names nothing but its date: the base is the held version with the feature's updatedAt as
 *   written (an export copies it from its version) and its position and tags, else of those with that date the one
 *   the feature differs from least; none on a tie.
 */
export function exportedFrom(store: Store, given: ImportChange, value: Value, heads: Version[]): Version | undefined {
  return given.partial ? featureBase(store, given, heads) : documentBase(store, given, value, heads)
}

function documentBase(store: Store, given: ImportChange, value: Value, heads: Version[]): Version | undefined {
  const named = given.versionId === undefined ? undefined : versionOf(store, given.docId, given.versionId)
  if (named && named.updatedAt === given.exportedUpdatedAt && (given.links === undefined || isDeepStrictEqual(named.links, given.links))) return named
  const start = [...(named ? [named.versionId] : []), ...(given.links ?? [])]
  if (start.length === 0) return undefined
  for (const candidate of ancestry(store, given.docId, start)) if (changeIsIn(store, given.docId, candidate, value)) return candidate
  return nearest(history(store, given.docId, heads), (v) => valueDistance(v.value, value))
}

function featureBase(store: Store, given: ImportChange, heads: Version[]): Version | undefined {
  if (given.exportedUpdatedAt === undefined) return undefined
  const sameDate: Version[] = []
  for (const v of history(store, given.docId, heads)) {
    if (v.deleted || v.updatedAt !== given.exportedUpdatedAt) continue
    if (isDeepStrictEqual(withFeature(v.value, given.value), v.value)) return v
    sameDate.push(v)
  }
  return nearest(sameDate, (v) => featureDistance(v.value, given.value))
}

/** Whether the change `version` made to the version it follows is in `value` (a first version's always is). */
function changeIsIn(store: Store, docId: string, version: Version, value: Value): boolean {
  const parent = version.links.map((id) => versionOf(store, docId, id)).find((v) => v !== undefined)
  return parent === undefined || version.deleted || changesAreIn(parent.value, version.value, value)
}

/** Of `versions`, the one at the least distance; none when two share it. */
function nearest(versions: Iterable<Version>, distance: (v: Version) => number): Version | undefined {
  const ranked = [...versions].map((v) => ({ v, d: distance(v) })).sort((a, b) => a.d - b.d)
  return ranked.length === 1 || (ranked.length > 1 && ranked[0]!.d < ranked[1]!.d) ? ranked[0]!.v : undefined
}

/** The versions of the document held here, from `start` back along their links, nearest first (each once). */
function* ancestry(store: Store, docId: string, start: string[]): Iterable<Version> {
  const queue = [...start]
  const seen = new Set(queue)
  for (let i = 0; i < queue.length; i++) {
    const version = versionOf(store, docId, queue[i]!)
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

/** Every version of a document held here: its heads first, then back along the links to its first version. */
export function history(store: Store, docId: string, heads: Version[]): Iterable<Version> {
  return ancestry(store, docId, heads.map((h) => h.versionId))
}

/** A version held here, if it is one of this document's (a link to another document's is ignored). */
export function versionOf(store: Store, docId: string, versionId: string): Version | undefined {
  const version = store.getVersion(versionId)
  return version?.docId === docId ? version : undefined
}
