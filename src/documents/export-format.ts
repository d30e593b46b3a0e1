import { toComapeoDoc, type Version } from '../store/version.js'

/**
 * Export formats. Documents come in docId order and are printed with a fixed layout, so two devices holding the
 * same data produce byte-identical files.
 */
export function toJsonExport(versions: Iterable<Version>): string {
  return `${JSON.stringify([...versions].map(toComapeoDoc), null, 2)}\n`
}

export function toGeoJsonExport(versions: Iterable<Version>): string {
  const features = [...versions].map((v) => {
    const { lat, lon, tags } = v.value as { lat?: number; lon?: number; tags?: Record<string, unknown> }
    return {
      type: 'Feature',
      id: v.docId,
      geometry: typeof lat === 'number' && typeof lon === 'number' ? { type: 'Point', coordinates: [lon, lat] } : null,
      properties: { ...tags, createdAt: v.createdAt, updatedAt: v.updatedAt },
    }
  })
  return `${JSON.stringify({ type: 'FeatureCollection', features }, null, 2)}\n`
}
