import { badInput } from '../errors.js'
import type { Store } from '../store/store.js'

/** Accepts a full docId or a unique prefix of at least 6 characters, as `git` does with commit ids. */
export function resolveDocId(store: Store, given: string): string {
  if (store.docState(given)) return given
  if (given.length >= 6) {
    const matches = store.docIdsWithPrefix(given, 2)
    if (matches.length === 1) return matches[0]!
    if (matches.length > 1) throw badInput(`More than one observation starts with ${given}. Give more of its id.`)
  }
  throw badInput(`There is no observation ${given} here. \`ferry list\` shows the ids.`)
}
