import { createCipheriv, createDecipheriv, hkdfSync, randomFillSync } from 'node:crypto'
import { FRAME_BYTES, NONCE_BYTES, TAG_BYTES, type ChunkKind } from './format.js'
import type { FileHeader } from './header.js'

/**
 * Sealing and opening chunks. Each file has its own key, derived with HKDF from the project secret and the file's
 * random salt, so a chunk from one file never opens in another. Nonces are random per chunk (never a counter):
 * a torn tail is cut and rewritten at the same offset, and a counter nonce would then repeat under the same key.
 */
export class ChunkCipher {
  private readonly key: Buffer

  constructor(
    secret: Buffer,
    private readonly header: FileHeader,
  ) {
    this.key = Buffer.from(hkdfSync('sha256', secret, header.fileSalt, 'ferry/v1/file-key', 32))
  }

  /** The whole chunk as written: frame followed by ciphertext and tag. */
  seal(kind: ChunkKind, offset: number, plaintext: Buffer): Buffer {
    return Buffer.concat(this.sealParts(kind, offset, plaintext))
  }

  /**
   * The chunk as its three parts — frame, ciphertext, tag — for a writer that hands them to one writev: joining
   * them would copy every byte of every photo once more.
   */
  sealParts(kind: ChunkKind, offset: number, plaintext: Buffer): [frame: Buffer, ciphertext: Buffer, tag: Buffer] {
    const frame = Buffer.allocUnsafe(FRAME_BYTES)
    frame.writeUInt32BE(plaintext.length + TAG_BYTES, 0)
    frame.writeUInt8(kind, 4)
    const nonce = frame.subarray(5, 5 + NONCE_BYTES)
    randomFillSync(nonce)
    const cipher = createCipheriv('aes-256-gcm', this.key, nonce)
    cipher.setAAD(this.aad(frame, offset))
    const ciphertext = cipher.update(plaintext)
    cipher.final()
    return [frame, ciphertext, cipher.getAuthTag()]
  }

  /** Opens a chunk read from `offset`; undefined when it was altered, moved, or sealed with another key. */
  open(frame: Buffer, ciphertextAndTag: Buffer, offset: number): Buffer | undefined {
    if (ciphertextAndTag.length < TAG_BYTES) return undefined
    const nonce = frame.subarray(5, 5 + NONCE_BYTES)
    const tagStart = ciphertextAndTag.length - TAG_BYTES
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.key, nonce)
      decipher.setAAD(this.aad(frame, offset))
      decipher.setAuthTag(ciphertextAndTag.subarray(tagStart))
      const plain = decipher.update(ciphertextAndTag.subarray(0, tagStart))
      decipher.final()
      return plain
    } catch {
      return undefined
    }
  }

  // AAD = header (64) ‖ chunk offset (u64 BE) ‖ frame length and kind (5 bytes).
  private aad(frame: Buffer, offset: number): Buffer {
    const aad = Buffer.allocUnsafe(this.header.bytes.length + 8 + 5)
    this.header.bytes.copy(aad, 0)
    aad.writeBigUInt64BE(BigInt(offset), this.header.bytes.length)
    frame.copy(aad, this.header.bytes.length + 8, 0, 5)
    return aad
  }
}
