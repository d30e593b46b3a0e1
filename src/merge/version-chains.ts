import type { ObservationCheck } from '../store/comapeo-schema.js'
import { envelopeHash, openEnvelope, verifyEnvelopeSignature, type Version } from '../store/version.js'

/**
 * Checks versions read from a sync file, device by device: each must be the next in its device's hash chain,
 * starting from what the receiver already holds, and carry a valid CoMapeo document. At the end, one signature per
 * device — on the newest version received — authenticates the whole chain up to it.
 *
 * `problem` is the first thing wrong, in words for the user; the caller turns it into a "damaged" error.
 */
export class VersionChains {
  private readonly tips = new Map<string, { seq: number; hash: Buffer }>()
  private readonly newest = new Map<string, Version>()

  constructor(
    start: Map<string, { seq: number; hash: Buffer }>,
    private readonly checkObservation: ObservationCheck,
  ) {
    for (const [device, tip] of start) this.tips.set(device, { seq: tip.seq, hash: tip.hash })
  }

  seqOf(deviceId: string): number {
    return this.tips.get(deviceId)?.seq ?? 0
  }

  /**
   * Checks one envelope. Returns the version when it is new, null when it is one the receiver already holds,
   * or a problem.
   */
  accept(envelope: Buffer): { version: Version; hash: Buffer } | { known: true } | { problem: string } {
    const opened = openEnvelope(envelope)
    if (!opened.ok) return { problem: `a record is unreadable (${opened.reason})` }
    const version = opened.version
    const tip = this.tips.get(version.deviceId)
    const held = tip?.seq ?? 0
    if (version.seq <= held) return { known: true }
    if (version.seq !== held + 1) return { problem: 'records of one device are missing or out of order' }
    const prev = version.prev
    if (tip ? prev === null || !tip.hash.equals(prev) : prev !== null) return { problem: 'a record does not continue its device history (altered, or from a copied data folder)' }
    if (!this.checkObservation(version.value).ok) {
      return { problem: `observation ${version.docId.slice(0, 12)}… is not a valid document` }
    }
    const hash = envelopeHash(envelope)
    if (tip) {
      // Updated in place: one entry per device, not one object per version.
      tip.seq = version.seq
      tip.hash = hash
    } else this.tips.set(version.deviceId, { seq: version.seq, hash })
    this.newest.set(version.deviceId, version)
    return { version, hash }
  }

  /** The first device whose newest received version is not signed by that device, if any. */
  unsignedDevice(projectId: Buffer): string | undefined {
    for (const [device, version] of this.newest) if (!verifyEnvelopeSignature(projectId, version)) return device
    return undefined
  }
}
