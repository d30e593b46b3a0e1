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
    tags.set(pair.slice(0, eq), pair.slice(eq + 1))
  }
  return tags
}

export function parseCoordinate(value: string | undefined, name: 'lat' | 'lon'): number | undefined {
  if (value === undefined) return undefined
  const n = Number(value)
  const limit = name === 'lat' ? 90 : 180
  if (value.trim() === '' || !Number.isFinite(n) || Math.abs(n) > limit) {
    throw badInput(`--${name} ${value} is not a valid ${name === 'lat' ? 'latitude (−90 to 90)' : 'longitude (−180 to 180)'}.`)
  }
  return n
}
