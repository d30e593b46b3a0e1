import { toComapeoDoc, type Version } from '../store/version.js'

/**
 * Export formats. Documents come in docId order and are printed with a fixed layout, so two devices holding the
 * same data produce byte-identical files.
 *
 * The layout is JSON.stringify's with a 2-space indent, produced one document at a time: an export of 100,000
 * observations never holds them all (as objects, or as one string) at once.
 */
export function* jsonExportParts(versions: Iterable<Version>): Iterable<string> {
  yield* arrayParts(versions, toComapeoDoc, '')
  yield '\n'
}

export function* geoJsonExportParts(versions: Iterable<Version>): Iterable<string> {
  yield '{\n  "type": "FeatureCollection",\n  "features": '
  yield* arrayParts(versions, toFeature, '  ')
  yield '\n}\n'
}

/** The whole export as one string (tests; small data). */
export function toJsonExport(versions: Iterable<Version>): string {
  return [...jsonExportParts(versions)].join('')
}

function toFeature(v: Version): Record<string, unknown> {
  const { lat, lon, tags } = v.value as { lat?: number; lon?: number; tags?: Record<string, unknown> }
  return {
    type: 'Feature',
    id: v.docId,
    geometry: typeof lat === 'number' && typeof lon === 'number' ? { type: 'Point', coordinates: [lon, lat] } : null,
    properties: { ...tags, createdAt: v.createdAt, updatedAt: v.updatedAt },
  }
}

/**
 * `JSON.stringify(versions.map(toItem), null, 2)` for an array found at indentation `indent`, one item at a time.
 * JSON text has no raw line breaks inside strings, so indenting an item's lines is indenting its layout.
 */
function* arrayParts(versions: Iterable<Version>, toItem: (v: Version) => unknown, indent: string): Iterable<string> {
  let first = true
  for (const v of versions) {
    yield `${first ? '[' : ','}\n${indent}  ${JSON.stringify(toItem(v), null, 2).replaceAll('\n', `\n${indent}  `)}`
    first = false
  }
  yield first ? '[]' : `\n${indent}]`
}
