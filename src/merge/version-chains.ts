import type { ObservationCheck } from '../store/comapeo-schema.js'
import { envelopeHash, openEnvelope, type Version } from '../store/version.js'
import { ChainTips } from './chain-tips.js'

/**
 * Checks envelopes one at a time against the device chains, for salvage, which tries several candidates for one
 * place in a chain. (A sync or verify checks whole chunks: records-check.ts and ChainTips.)
 */
export class VersionChains {
  private readonly chains: ChainTips

  constructor(
    start: Map<string, { seq: number; hash: Buffer }>,
    private readonly checkObservation: ObservationCheck,
  ) {
    this.chains = new ChainTips(start)
  }

  seqOf(deviceId: string): number {
    return this.chains.seqOf(deviceId)
  }

  /** The version when it is new and continues its chain; `known` when the receiver holds it; or a problem. */
  accept(envelope: Buffer): { version: Version; hash: Buffer } | { known: true } | { problem: string } {
    const opened = openEnvelope(envelope)
    if (!opened.ok) return { problem: `a record is unreadable (${opened.reason})` }
    const version = opened.version
    const placed = this.chains.place({ deviceId: version.deviceId, seq: version.seq, hasPrev: version.prev !== null, prevIs: (hash) => version.prev !== null && hash.equals(version.prev) })
    if (placed === 'known') return { known: true }
    if (placed !== 'next') return placed
    if (!this.checkObservation(version.value).ok) return { problem: `observation ${version.docId.slice(0, 12)}… is not a valid document` }
    const hash = envelopeHash(envelope)
    // Salvage's envelopes are buffers of their own, not views into a chunk: nothing to settle.
    this.chains.advance(version.deviceId, version.seq, hash, envelope)
    return { version, hash }
  }

  unsignedDevice(projectId: Buffer): string | undefined {
    return this.chains.unsignedDevice(projectId)
  }
}
