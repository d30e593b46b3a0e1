/**
 * Reading `createdAt` / `updatedAt` without the computer's time zone. `Date.parse` reads a date-time without a
 * zone ("2025-06-01T10:00:00", "2025-06-01 10:00") as local time, so the same version meant different instants on
 * different computers and the winner of a fork depended on where it was ranked. Nothing here looks at the local
 * zone or locale: the same text gives the same answer everywhere.
 */

/** The parts of an RFC 3339 / ISO 8601 date or date-time; `offsetMinutes` is undefined when it names no zone. */
export interface TimestampParts {
  year: number
  month: number
  day: number
  hour: number
  minute: number
  second: number
  millisecond: number
  offsetMinutes: number | undefined
}

// A date, then optionally T (or a space) and a time of at least hours and minutes, followed or not by Z or an
// offset (±HH:MM, ±HHMM or ±HH). Years as toISOString writes them: four digits, or six with a sign beyond 0000–9999.
const SHAPE = /^([+-]\d{6}|\d{4})-(\d{2})-(\d{2})(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?(?:([Zz])|([+-])(\d{2})(?::?(\d{2}))?)?)?$/

/** Whether `text` is written as an ISO date or date-time, whether or not its fields are in range. */
export function looksLikeIsoTimestamp(text: string): boolean {
  return SHAPE.test(text)
}

/** The parts of `text`, or undefined when it is not an ISO date or date-time or a field is out of range. */
export function timestampParts(text: string): TimestampParts | undefined {
  const m = SHAPE.exec(text)
  if (!m) return undefined
  const [, y, mo, d, h = '0', mi = '0', s = '0', fraction = '', z, sign, oh, om = '0'] = m
  const parts: TimestampParts = {
    year: Number(y),
    month: Number(mo),
    day: Number(d),
    hour: Number(h),
    minute: Number(mi),
    second: Number(s),
    // Milliseconds; finer digits are dropped, never rounded up into the next second.
    millisecond: Number(fraction.padEnd(3, '0').slice(0, 3)),
    offsetMinutes: z ? 0 : sign ? (sign === '-' ? -1 : 1) * (Number(oh) * 60 + Number(om)) : undefined,
  }
  return inRange(parts, oh === undefined ? 0 : Number(oh), Number(om)) ? parts : undefined
}

function inRange(p: TimestampParts, offsetHours: number, offsetMinutes: number): boolean {
  return (
    p.month >= 1 && p.month <= 12 && p.day >= 1 && p.day <= daysIn(p.year, p.month) &&
    p.hour <= 23 && p.minute <= 59 && p.second <= 59 && offsetHours <= 23 && offsetMinutes <= 59
  )
}

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]

function daysIn(year: number, month: number): number {
  return month === 2 && isLeap(year) ? 29 : DAYS_IN_MONTH[month - 1]!
}

function isLeap(year: number): boolean {
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0
}

/**
 * Milliseconds since 1970 of the instant `parts` names, reading a missing zone as UTC; NaN beyond the range a Date
 * can hold. setUTCFullYear, not Date.UTC, which would read years 0–99 as 1900–1999.
 */
function utcMillis(parts: TimestampParts): number {
  const date = new Date(0)
  date.setUTCFullYear(parts.year, parts.month - 1, parts.day)
  date.setUTCHours(parts.hour, parts.minute, parts.second, parts.millisecond)
  return date.getTime() - (parts.offsetMinutes ?? 0) * 60_000
}

/**
 * The instant the winner rule ranks `text` by: an ISO date or date-time, read as UTC when it names no zone (the
 * only reading every computer can agree on); undefined for anything else, whichever computer asks.
 */
export function rankingInstant(text: string): number | undefined {
  const parts = timestampParts(text)
  const t = parts ? utcMillis(parts) : NaN
  return Number.isNaN(t) ? undefined : t
}
