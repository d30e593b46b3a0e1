import type { BlobRecord, BlobVariant } from './blob-record.js'
import type { MediaStore } from './media-store.js'

/** Longest side, in pixels, and JPEG quality of each variant. */
const VARIANTS: Array<{ variant: BlobVariant; maxSide: number; quality: number }> = [
  { variant: 'preview', maxSide: 1200, quality: 80 },
  { variant: 'thumbnail', maxSide: 300, quality: 70 },
]

// Refuse decompression bombs: a photo larger than this many pixels gets no variants (the original is kept).
const MAX_INPUT_PIXELS = 150_000_000

type Sharp = typeof import('sharp').default
let sharpLoaded: Promise<Sharp | undefined> | undefined

/** sharp (libvips), loaded on first use; undefined where it cannot load (then photos simply get no variants). */
function loadSharp(): Promise<Sharp | undefined> {
  sharpLoaded ??= import('sharp').then(
    (m) => m.default,
    () => undefined,
  )
  return sharpLoaded
}

/**
 * Makes a preview and a thumbnail of an original already in the media store, stores them, and returns their
 * records. Anything that is not a picture sharp can read (audio, video, a damaged photo) gets none: that is not an
 * error, the original is what matters.
 */
export async function makeVariants(media: MediaStore, originalHash: string): Promise<BlobRecord[]> {
  const sharp = await loadSharp()
  if (!sharp) return []
  const made: BlobRecord[] = []
  for (const { variant, maxSide, quality } of VARIANTS) {
    let data: Buffer
    try {
      data = await sharp(media.pathOf(originalHash), { limitInputPixels: MAX_INPUT_PIXELS })
        .rotate() // apply the EXIF orientation before it is dropped
        .resize({ width: maxSide, height: maxSide, fit: 'inside', withoutEnlargement: true })
        .jpeg({ quality })
        .toBuffer()
    } catch {
      return made
    }
    const writer = await media.beginWrite()
    try {
      await writer.append(data)
      made.push({ ...(await writer.commit()), variant, of: originalHash })
    } catch (err) {
      await writer.abort()
      throw err
    }
  }
  return made
}

/** Adds a photo from outside with its variants: the original first, then the preview and thumbnail. */
export async function addPhoto(media: MediaStore, sourcePath: string): Promise<BlobRecord[]> {
  const original = await media.addFile(sourcePath)
  return [original, ...(await makeVariants(media, original.hash))]
}
