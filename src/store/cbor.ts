import { Decoder, Encoder } from 'cbor-x'

/**
 * One CBOR configuration for everything Ferry writes: plain maps (no cbor-x record extension, so any CBOR reader
 * can read the files), 64-bit floats (coordinates keep every digit), byte strings for binary.
 */
const encoder = new Encoder({ useRecords: false, mapsAsObjects: true, tagUint8Array: false })
const decoder = new Decoder({ useRecords: false, mapsAsObjects: true })

export function encodeCbor(value: unknown): Buffer {
  return encoder.encode(value)
}

/**
 * Decodes bytes that may be hostile. cbor-x checks declared lengths against the input, but nesting is bounded
 * only by the call stack (a RangeError), so every failure — including that one — becomes a plain `undefined`
 * result the caller reports as damage.
 */
export function decodeCborSafely(bytes: Uint8Array): { ok: true; value: unknown } | { ok: false; reason: string } {
  try {
    return { ok: true, value: decoder.decode(bytes) }
  } catch (err) {
    return { ok: false, reason: err instanceof Error ? err.message : String(err) }
  }
}
