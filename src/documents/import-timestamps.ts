import { looksLikeIsoTimestamp, rankingInstant, timestampParts, type TimestampParts } from '../store/timestamps.js'

/**
 * The `createdAt` / `updatedAt` an import stores for what a file says, or undefined when it is not a date. Written
 * without a zone, a time is what the clock said where the file was made: the importing computer's local time is
 * the best reading of it, and it is stored in UTC (toISOString form) so that no other computer has to guess again.
 * A time that names its zone is kept exactly as written (it means the same everywhere, and an export imported again
 * stays byte for byte the same).
 */
export function importedTimestamp(text: string): string | undefined {
  const parts = timestampParts(text)
  if (parts?.offsetMinutes !== undefined) return rankingInstant(text) === undefined ? undefined : text
  if (parts) return isoOrUndefined(localInstant(parts))
  // An ISO date with a field out of range (a 30 February) is refused, not rolled over into the next month.
  if (looksLikeIsoTimestamp(text)) return undefined
  // Other forms Date.parse reads ("Sun, 01 Jun 2025 10:00:00 GMT", "2025/06/01 10:00"): it takes their zone when
  // they name one, local time when not.
  return isoOrUndefined(Date.parse(text))
}

/** The instant `parts` names as a time on this computer's clock. */
function localInstant(parts: TimestampParts): number {
  const date = new Date(2000, 0, 1)
  // setFullYear, not the Date constructor, which would read years 0–99 as 1900–1999.
  date.setFullYear(parts.year, parts.month - 1, parts.day)
  date.setHours(parts.hour, parts.minute, parts.second, parts.millisecond)
  return date.getTime()
}

function isoOrUndefined(t: number): string | undefined {
  return Number.isNaN(t) ? undefined : new Date(t).toISOString()
}
