import { badInput } from '../errors.js'
import type { Store } from '../store/store.js'

/** Accepts a full docId or a unique prefix of at least 6 characters, as `git` does with commit ids. */
export function resolveDocId(store: Store, given: string): string {
  if (store.docState(given)) return given
  if (given.length < MIN_PREFIX) throw badInput(`Give at least ${MIN_PREFIX} characters of the observation's id (${given} is ${given.length}). \`ferry list\` shows the ids.`)
  // Ids Ferry makes are lower-case hex; one copied in upper case (from a printout, say) still finds its observation.
  for (const prefix of new Set([given, given.toLowerCase()])) {
    const matches = store.docIdsWithPrefix(prefix, 2)
    if (matches.length === 1) return matches[0]!
    if (matches.length > 1) throw badInput(`More than one observation starts with ${given}. Give more of its id.`)
  }
  throw badInput(`There is no observation ${given} here. \`ferry list\` shows the ids.`)
}

const MIN_PREFIX = 6
