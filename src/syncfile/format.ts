/**
 * Layout constants of sync file format v1 (docs/FORMAT.md is the specification; keep the two in step).
 *
 *   header (64 bytes, clear) | chunk | chunk | … | commit chunk | footer (16 bytes) | chunk | … | commit | footer
 *
 * A chunk is a clear frame (length, kind, nonce) around AES-256-GCM ciphertext. The AAD binds every chunk to this
 * file's header and to its own offset, so a chunk cannot be moved, replayed from another file or re-labelled.
 */
export const MAGIC = Buffer.from([0x89, 0x46, 0x45, 0x52, 0x52, 0x59, 0x0d, 0x0a]) // \x89 F E R R Y \r \n
export const FORMAT_VERSION = 1
export const HEADER_BYTES = 64
export const PROJECT_ID_BYTES = 32
export const FILE_SALT_BYTES = 16

// Header field offsets.
export const OFFSET_VERSION = 8 // u16 BE
export const OFFSET_FLAGS = 10 // u16 BE, 0 in v1
export const OFFSET_PROJECT_ID = 12 // 32 bytes
export const OFFSET_FILE_SALT = 44 // 16 bytes
// 60..63 reserved, zero.

export const FRAME_BYTES = 17 // u32 BE ciphertext length, u8 kind, 12-byte nonce
export const NONCE_BYTES = 12
export const TAG_BYTES = 16

export const FOOTER_BYTES = 16 // u64 BE offset of the commit chunk, then FOOTER_MAGIC
export const FOOTER_MAGIC = Buffer.from('FERRYCMT', 'ascii')

export const ChunkKind = {
  records: 1,
  blob: 2,
  commit: 3,
} as const
export type ChunkKind = (typeof ChunkKind)[keyof typeof ChunkKind]

export const isChunkKind = (k: number): k is ChunkKind => k === 1 || k === 2 || k === 3

/** Plaintext target sizes when writing. */
export const RECORDS_CHUNK_TARGET = 512 * 1024
export const BLOB_PIECE_BYTES = 1024 * 1024
/** Blob chunk plaintext: 32-byte hash, u64 BE offset in the blob, then data. */
export const BLOB_PIECE_HEADER = 40

/** Largest ciphertext a reader accepts per kind; anything larger is damage, never an allocation. */
export const MAX_CIPHERTEXT: Record<ChunkKind, number> = {
  [ChunkKind.records]: 16 * 1024 * 1024,
  [ChunkKind.blob]: BLOB_PIECE_HEADER + 4 * 1024 * 1024 + TAG_BYTES,
  [ChunkKind.commit]: 64 * 1024 * 1024,
}

/** Largest single version envelope accepted (a document with huge tags is still far below this). */
export const MAX_ENVELOPE_BYTES = 4 * 1024 * 1024

/**
 * The segment hash covers each chunk's frame (length, kind, nonce) and its GCM tag. The tag already authenticates
 * the chunk's content at its offset, so hashing it binds the exact sequence of chunks into the commit without a
 * second pass over every ciphertext byte (which cost a full SHA-256 of every photo).
 */
export function hashChunkDigest(hasher: { update(data: Uint8Array): unknown }, frame: Uint8Array, tag: Uint8Array): void {
  hasher.update(frame)
  hasher.update(tag)
}
