import { verifyEnvelopeSignatureOf } from '../store/version.js'

/** What ChainTips needs to know of a version: whose it is, where in its device's log, and what it follows. */
export interface ChainLink {
  readonly deviceId: string
  readonly seq: number
  readonly hasPrev: boolean
  /** Whether the version's `prev` is `hash`. */
  prevIs(hash: Buffer): boolean
}

/**
 * The order-dependent half of checking versions read from a sync file, device by device: each must be the next in
 * its device's hash chain, starting from what the receiver already holds. At the end, one signature per device —
 * on the newest version received — authenticates the whole chain up to it.
 *
 * `place` returns a problem in words for the user (the caller turns it into a "damaged" error) and changes
 * nothing; `advance` then moves a tip.
 */
export class ChainTips {
  private readonly tips = new Map<string, { seq: number; hash: Buffer }>()
  private readonly newest = new Map<string, Buffer>()
  private readonly newestUnsettled = new Set<string>()

  /** What the receiver held of each device before this walk: only a record following one of those can be a fork. */
  private readonly startSeq = new Map<string, number>()

  constructor(start: ReadonlyMap<string, { seq: number; hash: Buffer }>) {
    for (const [device, tip] of start) {
      this.tips.set(device, { seq: tip.seq, hash: tip.hash })
      this.startSeq.set(device, tip.seq)
    }
  }

  seqOf(deviceId: string): number {
    return this.tips.get(deviceId)?.seq ?? 0
  }

  /** The hash of the newest record placed of the device. */
  hashOf(deviceId: string): Buffer | undefined {
    return this.tips.get(deviceId)?.hash
  }

  /**
   * 'known' for a version the receiver holds, 'next' when it continues its chain, else the problem. `forked`: the
   * version follows a record of the same number other than the one held here — two histories under one device
   * (history-tips.ts), not damage to the file.
   */
  place(link: ChainLink): 'known' | 'next' | { problem: string; forked?: true } {
    const tip = this.tips.get(link.deviceId)
    const held = tip?.seq ?? 0
    if (link.seq <= held) return 'known'
    if (link.seq !== held + 1) return { problem: 'records of one device are missing or out of order' }
    if (tip ? !link.hasPrev || !link.prevIs(tip.hash) : link.hasPrev) {
      const problem = 'a record does not continue its device history (altered, or from a copied data folder)'
      // Following a record the receiver held before this walk, the other history is a fork; following one read in
      // this walk (or none at all), the file's own chain is broken: damage.
      const forked = tip !== undefined && link.hasPrev && held === this.startSeq.get(link.deviceId)
      return forked ? { problem, forked: true } : { problem }
    }
    return 'next'
  }

  /**
   * Moves the device's tip to a version `place` called 'next'. `envelope` may be a view into a chunk: call
   * `settle` before that chunk goes away.
   */
  advance(deviceId: string, seq: number, hash: Buffer, envelope: Buffer): void {
    const tip = this.tips.get(deviceId)
    if (tip) {
      // Updated in place: one entry per device, not one object per version.
      tip.seq = seq
      tip.hash = hash
    } else this.tips.set(deviceId, { seq, hash })
    this.newest.set(deviceId, envelope)
    this.newestUnsettled.add(deviceId)
  }

  /** Copies the newest envelopes out of the chunks they were read from, so no chunk stays alive for them. */
  settle(): void {
    for (const device of this.newestUnsettled) this.newest.set(device, Buffer.from(this.newest.get(device)!))
    this.newestUnsettled.clear()
  }

  /** The first device whose newest received version is not signed by that device, if any. */
  unsignedDevice(projectId: Buffer): string | undefined {
    for (const [device, envelope] of this.newest) if (!verifyEnvelopeSignatureOf(projectId, device, envelope)) return device
    return undefined
  }
}
