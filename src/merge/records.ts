import { decodeCborSafely, encodeCbor } from '../store/cbor.js'
import { MAX_ENVELOPE_BYTES } from '../syncfile/format.js'

/** A records chunk's plaintext is a CBOR array of version envelopes (byte strings), each as its author wrote it. */
export function encodeRecords(envelopes: Buffer[]): Buffer {
  return encodeCbor(envelopes)
}

export function decodeRecords(plaintext: Buffer): Buffer[] | undefined {
  const decoded = decodeCborSafely(plaintext)
  if (!decoded.ok || !Array.isArray(decoded.value)) return undefined
  const envelopes: Buffer[] = []
  for (const item of decoded.value as unknown[]) {
    if (!(item instanceof Uint8Array) || item.length > MAX_ENVELOPE_BYTES) return undefined
    envelopes.push(Buffer.from(item.buffer, item.byteOffset, item.byteLength))
  }
  return envelopes
}
