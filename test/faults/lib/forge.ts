import { createHash, randomBytes } from 'node:crypto'
import { encodeRecords } from '../../../src/merge/records.js'
import { ChunkCipher } from '../../../src/syncfile/chunk-crypto.js'
import { encodeCommit, type CommitFields } from '../../../src/syncfile/commit.js'
import * as format from '../../../src/syncfile/format.js'
import { BLOB_PIECE_HEADER, ChunkKind, FOOTER_BYTES, FOOTER_MAGIC, FRAME_BYTES, HEADER_BYTES, TAG_BYTES } from '../../../src/syncfile/format.js'
import { parseHeader } from '../../../src/syncfile/header.js'

/**
 * Builds hostile sync files byte by byte for tests that know the project secret: chunks sealed with the file's own
 * key (so they pass authentication) carrying wrong content, replayed chunks, and commits that lie. Everything here
 * follows docs/FORMAT.md from the outside; nothing reuses the writer.
 */
export interface ParsedFile {
  bytes: Buffer
  /** Frames in order from the header on: offset, kind, total length (frame + ciphertext). */
  chunks: Array<{ offset: number; kind: number; length: number }>
  /** Offsets of commit chunks and, for each, where its footer ends. */
  commits: Array<{ offset: number; end: number }>
}

/** Walks the clear frames of a valid file (no decryption needed to find them). */
export function parseFrames(bytes: Buffer): ParsedFile {
  const chunks: ParsedFile['chunks'] = []
  const commits: ParsedFile['commits'] = []
  let at = HEADER_BYTES
  while (at + FRAME_BYTES <= bytes.length) {
    const length = FRAME_BYTES + bytes.readUInt32BE(at)
    const kind = bytes[at + 4]!
    if (at + length > bytes.length) break
    chunks.push({ offset: at, kind, length })
    at += length
    if (kind === ChunkKind.commit) {
      commits.push({ offset: at - length, end: at + FOOTER_BYTES })
      at += FOOTER_BYTES
    }
  }
  return { bytes, chunks, commits }
}

export interface SegmentPart {
  kind: ChunkKind
  /** Plaintext to seal with the file's key at the chunk's offset. */
  plaintext?: Buffer
  /** Raw chunk bytes placed as they are (a replay from another file). */
  raw?: Buffer
}

/**
 * Appends a segment of the given parts plus a commit after `validEnd` of `base`, sealed with the file's key.
 * `commit` fields default to the ones a writer would compute; tests override them to lie.
 */
export function appendSegment(
  base: Buffer,
  secret: Buffer,
  validEnd: number,
  parts: SegmentPart[],
  commit: Partial<CommitFields> & Pick<CommitFields, 'n' | 'prev' | 'clock'>,
  commitPlaintext?: Buffer,
): Buffer {
  const header = parseHeader(base.subarray(0, HEADER_BYTES), 'base')
  const cipher = new ChunkCipher(secret, header)
  const out: Buffer[] = [base.subarray(0, validEnd)]
  let offset = validEnd
  const hasher = createHash('sha256')
  for (const part of parts) {
    const chunk = part.raw ?? cipher.seal(part.kind, offset, part.plaintext!)
    segmentDigest(hasher, chunk)
    out.push(chunk)
    offset += chunk.length
  }
  const fields: CommitFields = {
    segmentStart: validEnd,
    segmentHash: hasher.digest(),
    blobs: [],
    totals: { versions: 0, blobs: 0, blobBytes: 0 },
    media: 'all',
    writer: randomBytes(32).toString('hex'),
    at: new Date().toISOString(),
    ...commit,
  }
  const sealed = cipher.seal(ChunkKind.commit, offset, commitPlaintext ?? encodeCommit(fields))
  const footer = Buffer.alloc(FOOTER_BYTES)
  footer.writeBigUInt64BE(BigInt(offset), 0)
  FOOTER_MAGIC.copy(footer, 8)
  out.push(sealed, footer)
  return Buffer.concat(out)
}

/**
 * What a commit's segment hash covers of each chunk: the whole chunk in the first version of the format, or (once
 * format.ts exports `hashChunkDigest`) the frame and GCM tag only. Follows whichever the reader uses.
 */
function segmentDigest(hasher: { update(data: Uint8Array): unknown }, chunk: Buffer): void {
  const digest = (format as Record<string, unknown>).hashChunkDigest as ((h: typeof hasher, frame: Uint8Array, tag: Uint8Array) => void) | undefined
  if (digest) digest(hasher, chunk.subarray(0, FRAME_BYTES), chunk.subarray(chunk.length - TAG_BYTES))
  else hasher.update(chunk)
}

/** CBOR for `depth` nested one-element arrays around 0: decoders without a depth limit overflow the stack. */
export function deepCbor(depth: number): Buffer {
  const b = Buffer.alloc(depth + 1, 0x81)
  b[depth] = 0x00
  return b
}

/** Deep nesting inside a byte-string envelope of a records array: [h'<sig><deep>'] */
export function deepRecords(depth: number): Buffer {
  const inner = Buffer.concat([randomBytes(64), deepCbor(depth)])
  return encodeRecords([inner])
}

export function blobPiece(hash: string, at: number, data: Buffer): Buffer {
  const piece = Buffer.alloc(BLOB_PIECE_HEADER + data.length)
  Buffer.from(hash, 'hex').copy(piece, 0)
  piece.writeBigUInt64BE(BigInt(at), 32)
  data.copy(piece, BLOB_PIECE_HEADER)
  return piece
}
