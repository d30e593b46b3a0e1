import { badInput } from '../errors.js'

/** `--tag K=V`, repeatable. An empty value (`K=`) removes the tag when editing. */
export function collectTag(value: string, previous: string[] = []): string[] {
  return [...previous, value]
}

export function parseTags(pairs: string[]): Map<string, string> {
  const tags = new Map<string, string>()
  for (const pair of pairs) {
    const eq = pair.indexOf('=')
    if (eq <= 0) throw badInput(`The tag "${pair}" is not of the form key=value, e.g. --tag type=river.`)
    const key = pair.slice(0, eq)
    // A JavaScript object's own prototype slot: no decoder would give it back as a tag (CBOR's renames it).
    if (key === '__proto__') throw badInput('The tag name __proto__ cannot be used. Choose another name.')
    tags.set(key, pair.slice(eq + 1))
  }
  return tags
}

const DECIMAL = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/

export function parseCoordinate(value: string | undefined, name: 'lat' | 'lon'): number | undefined {
  if (value === undefined) return undefined
  const n = Number(value)
  const limit = name === 'lat' ? 90 : 180
  // Decimal degrees only: Number() also reads hexadecimal (0x10), binary and octal, which no one means by a position.
  if (!DECIMAL.test(value.trim()) || !Number.isFinite(n) || Math.abs(n) > limit) {
    throw badInput(`--${name} ${value} is not a valid ${name === 'lat' ? 'latitude (−90 to 90)' : 'longitude (−180 to 180)'}.`)
  }
  return n
}
