import { createCipheriv, createDecipheriv, hkdfSync, randomFillSync, webcrypto } from 'node:crypto'
import { FRAME_BYTES, NONCE_BYTES, TAG_BYTES, type ChunkKind } from './format.js'
import type { FileHeader } from './header.js'

/**
 * Sealing and opening chunks. Each file has its own key, derived with HKDF from the project secret and the file's
 * random salt, so a chunk from one file never opens in another. Nonces are random per chunk (never a counter):
 * a torn tail is cut and rewritten at the same offset, and a counter nonce would then repeat under the same key.
 */
export class ChunkCipher {
  private readonly key: Buffer
  private cryptoKey: Promise<webcrypto.CryptoKey> | undefined

  constructor(
    secret: Buffer,
    private readonly header: FileHeader,
  ) {
    this.key = Buffer.from(hkdfSync('sha256', secret, header.fileSalt, 'ferry/v1/file-key', 32))
  }

  /** The whole chunk as written: frame followed by ciphertext and tag. */
  seal(kind: ChunkKind, offset: number, plaintext: Buffer): Buffer {
    const chunk = Buffer.allocUnsafe(FRAME_BYTES + plaintext.length + TAG_BYTES)
    chunk.writeUInt32BE(plaintext.length + TAG_BYTES, 0)
    chunk.writeUInt8(kind, 4)
    const nonce = chunk.subarray(5, 5 + NONCE_BYTES)
    randomFillSync(nonce)
    const cipher = createCipheriv('aes-256-gcm', this.key, nonce)
    cipher.setAAD(this.aad(chunk, offset))
    const written = cipher.update(plaintext).copy(chunk, FRAME_BYTES)
    cipher.final()
    cipher.getAuthTag().copy(chunk, FRAME_BYTES + written)
    return chunk
  }

  /**
   * The same sealing, done on libuv's thread pool (WebCrypto), so photos are encrypted on the CPU's other cores while
   * the main thread reads and writes. The frame is ready at once (its length is known before encrypting), so the
   * caller can place the chunk and go on; `body` is the ciphertext followed by the tag.
   */
  sealLater(kind: ChunkKind, offset: number, plaintext: Buffer): { frame: Buffer; body: Promise<Buffer> } {
    const frame = Buffer.allocUnsafe(FRAME_BYTES)
    frame.writeUInt32BE(plaintext.length + TAG_BYTES, 0)
    frame.writeUInt8(kind, 4)
    const nonce = frame.subarray(5, 5 + NONCE_BYTES)
    randomFillSync(nonce)
    const aad = this.aad(frame, offset)
    const body = this.webKey().then(async (key) => Buffer.from(await webcrypto.subtle.encrypt({ name: 'AES-GCM', iv: nonce, additionalData: aad, tagLength: TAG_BYTES * 8 }, key, plaintext)))
    return { frame, body }
  }

  /** `open` on the thread pool: resolves undefined when the chunk was altered, moved, or sealed with another key. */
  async openLater(frame: Buffer, ciphertextAndTag: Buffer, offset: number): Promise<Buffer | undefined> {
    if (ciphertextAndTag.length < TAG_BYTES) return undefined
    const nonce = frame.subarray(5, 5 + NONCE_BYTES)
    const aad = this.aad(frame, offset)
    const key = await this.webKey()
    try {
      return Buffer.from(await webcrypto.subtle.decrypt({ name: 'AES-GCM', iv: nonce, additionalData: aad, tagLength: TAG_BYTES * 8 }, key, ciphertextAndTag))
    } catch {
      return undefined
    }
  }

  private webKey(): Promise<webcrypto.CryptoKey> {
    this.cryptoKey ??= webcrypto.subtle.importKey('raw', this.key, 'AES-GCM', false, ['encrypt', 'decrypt'])
    return this.cryptoKey
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
