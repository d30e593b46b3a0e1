import { rankHeads, type HeadSummary } from './winner.js'

/**
 * What the store keeps per document: its heads (versions no held version links to), each with what the winner rule
 * needs, so listing and counting never decode old versions. The first head is the winner.
 */
export interface DocState {
  heads: HeadSummary[]
}

export function winnerOf(state: DocState): HeadSummary {
  const winner = state.heads[0]
  if (!winner) throw new Error('document with no heads')
  return winner
}

export function isLive(state: DocState | undefined): boolean {
  return state !== undefined && state.heads.length > 0 && !winnerOf(state).deleted
}

/**
 * The new state after a version arrives. Order-independent: `superseded` says whether some held version already
 * links to the newcomer (it arrived after its successor), in which case it never becomes a head.
 */
export function withVersion(state: DocState | undefined, version: HeadSummary & { links: readonly string[] }, superseded: boolean): DocState {
  const kept = (state?.heads ?? []).filter((h) => !version.links.includes(h.versionId) && h.versionId !== version.versionId)
  if (!superseded) kept.push({ versionId: version.versionId, updatedAt: version.updatedAt, deleted: version.deleted })
  return { heads: rankHeads(kept) }
}
