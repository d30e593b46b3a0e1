import { decodeCborSafely } from '../store/cbor.js'
import { MAX_ENVELOPE_BYTES } from '../syncfile/format.js'

/**
 * A records chunk's plaintext is a CBOR array of version envelopes (byte strings), each as its author wrote it.
 *
 * Both directions handle that one shape directly, with one copy per envelope: a generic CBOR encoder or decoder
 * spent more on its own machinery than on the bytes. The encoding is CBOR's preferred (shortest) one, byte for
 * byte what cbor-x writes.
 */
export function encodeRecords(envelopes: readonly Uint8Array[]): Buffer {
  let total = headLength(envelopes.length)
  for (const e of envelopes) total += headLength(e.length) + e.length
  const out = Buffer.allocUnsafe(total)
  let at = writeHead(out, 0, MAJOR_ARRAY, envelopes.length)
  for (const e of envelopes) {
    at = writeHead(out, at, MAJOR_BYTES, e.length)
    out.set(e, at)
    at += e.length
  }
  return out
}

/** The envelopes, as views into `plaintext`; undefined when it is not an array of byte strings within limits. */
export function decodeRecords(plaintext: Buffer): Buffer[] | undefined {
  const items = decodeSimple(plaintext) ?? decodeGeneral(plaintext)
  if (!items || items.some((item) => item.length > MAX_ENVELOPE_BYTES)) return undefined
  return items
}

const MAJOR_BYTES = 2
const MAJOR_ARRAY = 4

/**
 * The shape every Ferry writes: a definite-length array of definite-length byte strings and nothing after it.
 * Anything else (indefinite lengths, other types, damage) returns undefined and goes to the general decoder, which
 * decides whether it is valid CBOR, so this shortcut accepts nothing the general decoder would refuse.
 */
function decodeSimple(p: Buffer): Buffer[] | undefined {
  const array = readHead(p, 0, MAJOR_ARRAY)
  if (!array) return undefined
  let at = array.at
  const items: Buffer[] = []
  for (let i = 0; i < array.value; i++) {
    const head = readHead(p, at, MAJOR_BYTES)
    if (!head || head.value > p.length - head.at) return undefined
    items.push(p.subarray(head.at, head.at + head.value))
    at = head.at + head.value
  }
  return at === p.length ? items : undefined
}

function decodeGeneral(plaintext: Buffer): Buffer[] | undefined {
  const decoded = decodeCborSafely(plaintext)
  if (!decoded.ok || !Array.isArray(decoded.value)) return undefined
  const items: Buffer[] = []
  for (const item of decoded.value as unknown[]) {
    if (!(item instanceof Uint8Array)) return undefined
    items.push(Buffer.from(item.buffer, item.byteOffset, item.byteLength))
  }
  return items
}

/** A definite-length head of the given major type at `at`: its argument and where its content starts. */
function readHead(p: Buffer, at: number, major: number): { value: number; at: number } | undefined {
  if (at >= p.length || p[at]! >> 5 !== major) return undefined
  const info = p[at]! & 31
  if (info < 24) return { value: info, at: at + 1 }
  const size = info === 24 ? 1 : info === 25 ? 2 : info === 26 ? 4 : info === 27 ? 8 : 0
  if (size === 0 || at + 1 + size > p.length) return undefined
  const value = size === 8 ? Number(p.readBigUInt64BE(at + 1)) : p.readUIntBE(at + 1, size)
  return Number.isSafeInteger(value) ? { value, at: at + 1 + size } : undefined
}

function headLength(n: number): number {
  return n < 24 ? 1 : n < 0x100 ? 2 : n < 0x10000 ? 3 : 5
}

function writeHead(out: Buffer, at: number, major: number, n: number): number {
  const type = major << 5
  if (n < 24) return out.writeUInt8(type | n, at)
  if (n < 0x100) return out.writeUInt8(n, out.writeUInt8(type | 24, at))
  if (n < 0x10000) return out.writeUInt16BE(n, out.writeUInt8(type | 25, at))
  return out.writeUInt32BE(n, out.writeUInt8(type | 26, at))
}
