import { randomBytes } from 'node:crypto'
import { Encoder } from 'cbor-x'
import { describe, expect, it } from 'vitest'
import { decodeRecords, encodeRecords } from '../src/merge/records.js'
import { decodeCborSafely } from '../src/store/cbor.js'
import { MAX_ENVELOPE_BYTES } from '../src/syncfile/format.js'

// The encoder Ferry used for records chunks before they were encoded directly: the bytes must not change.
const cborX = new Encoder({ useRecords: false, mapsAsObjects: true, tagUint8Array: false })

describe('records chunks', () => {
  it('are encoded byte for byte as cbor-x encodes them, for every length boundary', () => {
    for (const length of [0, 1, 23, 24, 255, 256, 65535, 65536]) {
      for (const count of [0, 1, 23, 24, 256]) {
        const envelopes = Array.from({ length: count }, () => randomBytes(length))
        const encoded = encodeRecords(envelopes)
        expect(encoded.equals(cborX.encode(envelopes)), `${count} × ${length} bytes`).toBe(true)
        const decoded = decodeRecords(encoded)!
        expect(decoded.length === count && decoded.every((e, i) => e.equals(envelopes[i]!))).toBe(true)
      }
    }
  })

  it('decode as the general CBOR decoder would: other encodings of the same array are read, anything else refused', () => {
    const a = randomBytes(30)
    const b = randomBytes(300)
    // Indefinite-length array (0x9f … 0xff) and a length written longer than needed (0x59 00 1e).
    const indefinite = Buffer.concat([Buffer.from([0x9f, 0x58, 30]), a, Buffer.from([0x59, 0x01, 0x2c]), b, Buffer.from([0xff])])
    const longHead = Buffer.concat([Buffer.from([0x82, 0x59, 0x00, 30]), a, Buffer.from([0x59, 0x01, 0x2c]), b])
    for (const encoded of [indefinite, longHead]) {
      const general = decodeCborSafely(encoded)
      expect(general.ok).toBe(true)
      expect(decodeRecords(encoded)).toEqual([a, b])
    }
    const good = encodeRecords([a, b])
    const refused = [
      Buffer.concat([good, Buffer.from([0x00])]), // trailing bytes
      good.subarray(0, good.length - 1), // cut short
      Buffer.from([0x82, 0x58, 30, ...a, 0x61, 0x41]), // a text string among the envelopes
      Buffer.from([0xa0]), // a map, not an array
      Buffer.from([0x9b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]), // a count no file can hold
    ]
    for (const encoded of refused) {
      const general = decodeCborSafely(encoded)
      const generalResult = general.ok && Array.isArray(general.value) && general.value.every((v) => v instanceof Uint8Array) ? general.value : undefined
      expect(decodeRecords(encoded), encoded.toString('hex').slice(0, 40)).toEqual(generalResult)
      expect(decodeRecords(encoded)).toBeUndefined()
    }
  })

  it('refuse an envelope over the size limit', () => {
    expect(decodeRecords(encodeRecords([Buffer.alloc(MAX_ENVELOPE_BYTES + 1)]))).toBeUndefined()
    expect(decodeRecords(encodeRecords([Buffer.alloc(MAX_ENVELOPE_BYTES)]))).toHaveLength(1)
  })
})
