import { hash } from 'node:crypto'
import { decodeCborSafely, encodeCbor } from './cbor.js'
import { signBytes, verifySignature, type DeviceKey } from './device-key.js'

/**
 * A version is one immutable, signed state of a document, written by one device. On disk and in sync files it
 * travels as an *envelope*: the 64-byte Ed25519 signature followed by the CBOR body, byte for byte as its author
 * wrote it, so every device stores and forwards identical bytes.
 *
 * Each body carries `prev`, the SHA-256 of the same device's previous envelope: a device's versions form a hash
 * chain, so verifying the signature of the newest version received from a device authenticates the whole range
 * (one signature check per device per sync instead of one per version).
 */
export interface VersionBody {
  device: Uint8Array
  seq: number
  prev: Uint8Array | null
  docId: string
  createdAt: string
  updatedAt: string
  links: string[]
  deleted: boolean
  /** The versionId of the document's first version; absent on that first version itself. */
  originalVersionId?: string
  /** valueOf(doc) in CoMapeo terms: schemaName and the value fields, in their original key order. */
  value: Record<string, unknown> & { schemaName: string }
}

export interface Version extends VersionBody {
  versionId: string
  deviceId: string
  envelope: Buffer
}

export const SIGNATURE_BYTES = 64
const SIGN_DOMAIN = Buffer.from('ferry/v1/version\0')

export function versionIdOf(deviceId: string, seq: number): string {
  return `${deviceId}/${seq}`
}

export function parseVersionId(versionId: string): { deviceId: string; seq: number } | undefined {
  const match = /^([0-9a-f]{64})\/([1-9][0-9]{0,14})$/.exec(versionId)
  if (!match) return undefined
  return { deviceId: match[1]!, seq: Number(match[2]) }
}

// The one-shot hash: a Hash object per envelope cost more than hashing its kilobyte.
export function envelopeHash(envelope: Uint8Array): Buffer {
  return hash('sha256', envelope, 'buffer')
}

function signedMessage(projectId: Buffer, body: Buffer): Buffer {
  return Buffer.concat([SIGN_DOMAIN, projectId, body])
}

/** Encodes and signs a new version. Key order is fixed here, so the bytes are the same on every run. */
export function sealVersion(key: DeviceKey, projectId: Buffer, body: Omit<VersionBody, 'device'>): Buffer {
  const ordered: Record<string, unknown> = {
    device: key.publicKey,
    seq: body.seq,
    prev: body.prev,
    docId: body.docId,
    createdAt: body.createdAt,
    updatedAt: body.updatedAt,
    links: body.links,
    deleted: body.deleted,
  }
  if (body.originalVersionId !== undefined) ordered.originalVersionId = body.originalVersionId
  ordered.value = body.value
  const bodyBytes = encodeCbor(ordered)
  return Buffer.concat([signBytes(key, signedMessage(projectId, bodyBytes)), bodyBytes])
}

export function verifyEnvelopeSignature(projectId: Buffer, version: Version): boolean {
  return verifyEnvelopeSignatureOf(projectId, version.deviceId, version.envelope)
}

/** Whether `envelope` is signed by the device whose id (public key, hex) is `deviceId`. */
export function verifyEnvelopeSignatureOf(projectId: Buffer, deviceId: string, envelope: Buffer): boolean {
  const body = envelope.subarray(SIGNATURE_BYTES)
  return verifySignature(Buffer.from(deviceId, 'hex'), signedMessage(projectId, body), envelope.subarray(0, SIGNATURE_BYTES))
}

const isString = (v: unknown): v is string => typeof v === 'string'
const isBytes = (v: unknown, length: number): v is Uint8Array => v instanceof Uint8Array && v.length === length
const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v) && Object.getPrototypeOf(v) === Object.prototype

/**
 * Decodes an envelope from any source, checking the body's shape (not yet its signature or chain). Returns a
 * reason instead of throwing, so callers can name what is wrong.
 */
export function openEnvelope(envelope: Buffer): { ok: true; version: Version } | { ok: false; reason: string } {
  if (envelope.length <= SIGNATURE_BYTES) return { ok: false, reason: 'version record too short' }
  const decoded = decodeCborSafely(envelope.subarray(SIGNATURE_BYTES))
  if (!decoded.ok) return { ok: false, reason: `version record unreadable (${decoded.reason})` }
  const b = decoded.value
  if (!isPlainObject(b)) return { ok: false, reason: 'version record is not a map' }
  if (!isBytes(b.device, 32)) return { ok: false, reason: 'version record has no device key' }
  if (typeof b.seq !== 'number' || !Number.isSafeInteger(b.seq) || b.seq < 1) return { ok: false, reason: 'bad sequence number' }
  if (!(b.prev === null || isBytes(b.prev, 32))) return { ok: false, reason: 'bad chain link' }
  if ((b.seq === 1) !== (b.prev === null)) return { ok: false, reason: 'chain link does not match sequence number' }
  if (!isString(b.docId) || b.docId.length === 0 || b.docId.length > 256) return { ok: false, reason: 'bad docId' }
  if (!isString(b.createdAt) || !isString(b.updatedAt)) return { ok: false, reason: 'bad timestamps' }
  if (!Array.isArray(b.links) || !b.links.every((l) => isString(l) && parseVersionId(l))) return { ok: false, reason: 'bad links' }
  if (typeof b.deleted !== 'boolean') return { ok: false, reason: 'bad deleted flag' }
  if (b.originalVersionId !== undefined && !(isString(b.originalVersionId) && parseVersionId(b.originalVersionId)))
    return { ok: false, reason: 'bad originalVersionId' }
  if (!isPlainObject(b.value) || !isString(b.value.schemaName)) return { ok: false, reason: 'bad document value' }
  const deviceId = deviceIdOf(b.device)
  const version: Version = {
    device: b.device,
    seq: b.seq,
    prev: b.prev as Uint8Array | null,
    docId: b.docId,
    createdAt: b.createdAt,
    updatedAt: b.updatedAt,
    links: b.links as string[],
    deleted: b.deleted,
    value: b.value as VersionBody['value'],
    versionId: versionIdOf(deviceId, b.seq),
    deviceId,
    envelope,
  }
  if (b.originalVersionId !== undefined) version.originalVersionId = b.originalVersionId as string
  return { ok: true, version }
}

// Consecutive envelopes nearly always come from one device: reuse its id rather than re-encode the key each time.
let lastDevice: { key: Buffer; id: string } | undefined

function deviceIdOf(device: Uint8Array): string {
  if (lastDevice?.key.equals(device)) return lastDevice.id
  const key = Buffer.from(device)
  lastDevice = { key, id: key.toString('hex') }
  return lastDevice.id
}

/** The CoMapeo document a version represents, with the document fields first and the value fields after. */
export function toComapeoDoc(version: Version): Record<string, unknown> {
  const { schemaName, ...fields } = version.value
  return {
    docId: version.docId,
    versionId: version.versionId,
    originalVersionId: version.originalVersionId ?? version.versionId,
    schemaName,
    createdAt: version.createdAt,
    updatedAt: version.updatedAt,
    links: version.links,
    deleted: version.deleted,
    ...fields,
  }
}
