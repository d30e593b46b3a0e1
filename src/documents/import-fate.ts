import { isDeepStrictEqual } from 'node:util'
import type { LocalChange, Store } from '../store/store.js'
import type { Version } from '../store/version.js'
import { exportedFrom, history } from './import-base.js'
import type { ImportChange } from './import-parse.js'
import { mergeChanges, withFeature, withoutNegativeZeros, type Value } from './value-merge.js'

/**
 * What importing one document does, given what this device holds:
 * - `here`: the file has it as this device holds it (what it shows, or one head of a fork), or its changes are
 *   already here: nothing to write;
 * - `older`: writing it would undo what was done here since the version it came from — an earlier export of a
 *   version changed or deleted since, changes already applied and changed again, a delete over later edits, an edit
 *   over a delete — so `change` is written only with --restore;
 * - `write`: `change` is new here, or changes made in the file.
 */
export type ImportFate = { kind: 'here' } | { kind: 'older' | 'write'; change: LocalChange }

export function importFate(store: Store, given: ImportChange): ImportFate {
  const heads = store.heads(given.docId)
  const winner = heads[0]
  // Not held here: written with the file's own dates, so importing someone's dataset keeps its history.
  if (!winner) return { kind: 'write', change: given }
  // The store keeps -0 as 0: compared as written, a file with -0 would never be "already here".
  const fromFile = withoutNegativeZeros(given.value)
  const deleted = given.deleted ?? false
  const base = exportedFrom(store, given, fromFile, heads)
  // What the document would be after the import; a GeoJSON feature gives only its position and tags.
  const fileValue = given.partial ? withFeature((base ?? winner).value, fromFile) : fromFile
  if (heads.some((h) => h.deleted === deleted && (deleted || isDeepStrictEqual(h.value, fileValue)))) return { kind: 'here' }
  // Nothing to tell what it came from (another tool's file): its content is the edit; over a delete, only --restore.
  if (!base) return { kind: winner.deleted && !deleted ? 'older' : 'write', change: editNow(given.docId, fileValue, deleted) }
  if (base.deleted === deleted && isDeepStrictEqual(base.value, fileValue)) {
    if (heads.some((h) => h.versionId === base.versionId)) return { kind: 'here' }
    // An earlier export, unchanged. Brought back by --restore: over what GeoJSON cannot carry, as it is here now.
    const restored = given.partial ? withFeature(winner.value, fromFile) : base.value
    return { kind: 'older', change: editNow(given.docId, restored, base.deleted) }
  }
  if (deleted) {
    // A delete in the file: over edits made here since its version, it would discard them.
    const editedSince = !winner.deleted && !isDeepStrictEqual(winner.value, base.value)
    return { kind: editedSince ? 'older' : 'write', change: editNow(given.docId, winner.value, true) }
  }
  // Changed in the file. Only those changes are applied, over what this device shows now, so edits made here since
  // stay.
  const merged = mergeChanges(base.value, fileValue, winner.value)
  const change = editNow(given.docId, merged, false)
  if (winner.deleted) return { kind: 'older', change }
  if (isDeepStrictEqual(merged, winner.value)) return { kind: 'here' }
  return appliedThenChanged(store, given.docId, base, fileValue, heads) ? { kind: 'older', change } : { kind: 'write', change }
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
 * Imported before, and changed again since: a version made after `base` (not a head) already had every change the
 * file makes to it, and a later one changed them. Applying them now would undo that.
 */
function appliedThenChanged(store: Store, docId: string, base: Version, file: Value, heads: Version[]): boolean {
  const isHead = (v: Version) => heads.some((h) => h.versionId === v.versionId)
  for (const v of descendantsOf(store, docId, base, heads)) {
    if (!v.deleted && !isHead(v) && isDeepStrictEqual(mergeChanges(base.value, file, v.value), v.value)) return true
  }
  return false
}

/**
 * The versions held here made after `base`: those from which a chain of links leads back to it. No recursion (a
 * history may be thousands of versions long): the history is read once, and passes over it, oldest first, mark a
 * version once one it links to is marked, until a pass marks nothing (one pass for a straight history).
 */
function descendantsOf(store: Store, docId: string, base: Version, heads: Version[]): Version[] {
  const oldestFirst = [...history(store, docId, heads)].reverse()
  const reaches = new Set([base.versionId])
  for (let marked = true; marked; ) {
    marked = false
    for (const v of oldestFirst) {
      if (!reaches.has(v.versionId) && v.links.some((link) => reaches.has(link))) {
        reaches.add(v.versionId)
        marked = true
      }
    }
  }
  return oldestFirst.filter((v) => v.versionId !== base.versionId && reaches.has(v.versionId))
}
