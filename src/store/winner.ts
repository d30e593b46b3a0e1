import { rankingInstant } from './timestamps.js'

/**
 * Which head of a forked document every device shows. Pure, and a function of the versions' text alone (not of the
 * computer's time zone or locale), so all devices agree: a concurrent edit beats a concurrent delete (deleting never
 * discards someone else's newer work); among the rest the latest `updatedAt` wins, then the greater versionId.
 */
export interface HeadSummary {
  versionId: string
  updatedAt: string
  deleted: boolean
}

export function compareHeads(a: HeadSummary, b: HeadSummary): number {
  if (a.deleted !== b.deleted) return a.deleted ? -1 : 1
  const ta = timeOf(a.updatedAt)
  const tb = timeOf(b.updatedAt)
  if (ta !== tb) return ta < tb ? -1 : 1
  if (a.versionId === b.versionId) return 0
  return a.versionId < b.versionId ? -1 : 1
}

/** Heads ordered winner first. */
export function rankHeads<T extends HeadSummary>(heads: readonly T[]): T[] {
  return [...heads].sort((a, b) => compareHeads(b, a))
}

// A timestamp without a zone counts as UTC (see timestamps.ts). Ones that are not ISO dates sort before all that
// are, so a malformed date can never win by accident; among themselves the versionId decides.
function timeOf(text: string): number {
  return rankingInstant(text) ?? -Infinity
}
