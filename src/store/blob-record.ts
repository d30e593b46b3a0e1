/**
 * A blob the store holds. Originals are what attachments point at (by hash); a preview or thumbnail is a smaller
 * JPEG made from an original, recorded with the hash of the original it shows, so a sync file made with
 * `--media previews` can carry pictures people can look at without the full-size photos.
 */
export type BlobVariant = 'preview' | 'thumbnail'

export interface BlobRecord {
  hash: string
  size: number
  variant?: BlobVariant
  /** For a variant: the hash of its original. */
  of?: string
}

/** How a blob is kept in the store's `blobs` table (keyed by hash). */
export interface StoredBlob {
  size: number
  variant?: BlobVariant
  of?: string
}

export function toStored(blob: BlobRecord): StoredBlob {
  return blob.variant && blob.of ? { size: blob.size, variant: blob.variant, of: blob.of } : { size: blob.size }
}

export function fromStored(hash: string, stored: StoredBlob): BlobRecord {
  return stored.variant && stored.of ? { hash, size: stored.size, variant: stored.variant, of: stored.of } : { hash, size: stored.size }
}
