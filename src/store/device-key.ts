import { createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify, type KeyObject } from 'node:crypto'

/**
 * A device's Ed25519 key pair. The public key (32 bytes, hex) is the device id and the first half of every
 * versionId the device writes.
 */
export interface DeviceKey {
  publicKey: Buffer
  deviceId: string
  privateKey: KeyObject
}

export function generateDeviceKey(): { key: DeviceKey; privateDer: Buffer } {
  const { privateKey } = generateKeyPairSync('ed25519')
  const privateDer = privateKey.export({ format: 'der', type: 'pkcs8' })
  return { key: deviceKeyFromDer(privateDer), privateDer }
}

export function deviceKeyFromDer(privateDer: Buffer): DeviceKey {
  const privateKey = createPrivateKey({ key: privateDer, format: 'der', type: 'pkcs8' })
  const publicKey = rawPublicKey(createPublicKey(privateKey))
  return { publicKey, deviceId: publicKey.toString('hex'), privateKey }
}

export function signBytes(key: DeviceKey, message: Buffer): Buffer {
  return sign(null, message, key.privateKey)
}

// The SPKI DER prefix of an Ed25519 public key; the raw 32-byte key follows it.
const ED25519_SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex')

function rawPublicKey(key: KeyObject): Buffer {
  const der = key.export({ format: 'der', type: 'spki' })
  return Buffer.from(der.subarray(ED25519_SPKI_PREFIX.length))
}

export function verifySignature(publicKey: Uint8Array, message: Buffer, signature: Uint8Array): boolean {
  if (publicKey.length !== 32 || signature.length !== 64) return false
  const key = createPublicKey({ key: Buffer.concat([ED25519_SPKI_PREFIX, publicKey]), format: 'der', type: 'spki' })
  return verify(null, message, key, signature)
}
