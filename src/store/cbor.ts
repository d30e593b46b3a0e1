import { createRequire } from 'node:module'
import type { Decoder, Encoder } from 'cbor-x'

let codec: { encoder: Encoder; decoder: Decoder } | undefined

/**
 * One CBOR configuration for everything Ferry writes: plain maps (no cbor-x record extension, so any CBOR reader
 * can read the files), 64-bit floats (coordinates keep every digit), byte strings for binary.
 *
 * cbor-x (with its native string extractor) loads on first use, through its CommonJS build: commands that never
 * touch a record (--help) do not pay the ~8 ms it takes to load.
 */
function cbor(): { encoder: Encoder; decoder: Decoder } {
  if (codec === undefined) {
    const { Decoder, Encoder } = createRequire(import.meta.url)('cbor-x') as typeof import('cbor-x')
    codec = { encoder: new Encoder({ useRecords: false, mapsAsObjects: true, tagUint8Array: false }), decoder: new Decoder({ useRecords: false, mapsAsObjects: true }) }
  }
  return codec
}

export function encodeCbor(value: unknown): Buffer {
  return cbor().encoder.encode(value)
}

/**
 * Decodes bytes that may be hostile. cbor-x checks declared lengths against the input, but nesting is bounded
 * only by the call stack (a RangeError), so every failure — including that one — becomes a plain `undefined`
 * result the caller reports as damage.
 */
export function decodeCborSafely(bytes: Uint8Array): { ok: true; value: unknown } | { ok: false; reason: string } {
  try {
    return { ok: true, value: cbor().decoder.decode(bytes) }
  } catch (err) {
    return { ok: false, reason: err instanceof Error ? err.message : String(err) }
  }
}
