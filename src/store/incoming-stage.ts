import { commitFailuresSoFar, unlessCommitFails } from './lmdb-failures.js'
import { SummaryLog } from './summary-log.js'
import { BLOCK_TARGET_BYTES } from './version-block.js'
import type { VersionFileWriter } from './version-files.js'
import type { VersionLog } from './version-log.js'
import type { Version } from './version.js'

/** The newest version a device holds of its own log, that version's envelope hash (the chain's tip), and the log's size. */
export interface ClockEntry {
  seq: number
  hash: Buffer
  /** Total envelope bytes of versions 1..seq, so planning a send never reads the log to size it. */
  bytes: number
}

interface OpenBlock {
  firstSeq: number
  bytesBefore: number
  envelopes: Buffer[]
  bytes: number
}

/**
 * A receive in progress: verified versions written into the log past their devices' clocks, where nothing looks,
 * each envelope written once, in blocks, in LMDB's batched transactions; and a packed summary of each, which
 * Store.commitIncoming indexes when it moves the clocks in one transaction. Until then the received data is
 * invisible; a failed or interrupted receive leaves only blocks past the clocks, which the next receive removes.
 * Past `filesAfterBytes` of envelopes, the blocks point into a new version file (version-files.ts), which
 * `finish` makes durable and the commit registers.
 */
export class IncomingStage {
  readonly summaries = new SummaryLog()
  private readonly tips = new Map<string, ClockEntry>()
  private readonly open = new Map<string, OpenBlock>()
  private lastWrite: Promise<unknown> | undefined
  private windowEnd: Promise<unknown> | undefined
  private failure: { error: unknown } | undefined
  private stagedBytes = 0
  private versionFile: VersionFileWriter | undefined
  private readonly failuresBefore = commitFailuresSoFar()

  constructor(
    private readonly log: VersionLog,
    private readonly clock: ReadonlyMap<string, ClockEntry>,
    private readonly filesAfterBytes: number,
    /** What a failed LMDB write becomes (a full disk: a plain FerryError). */
    private readonly writeError: (err: unknown) => unknown,
  ) {}

  /** The version file this receive wrote, if any: the commit registers it. */
  get file(): VersionFileWriter | undefined {
    return this.versionFile
  }

  /**
   * Adds the next version of its device (the caller has checked the chain) to the log. Its summary goes to
   * `summaries` separately (addVersion does both).
   */
  add(device: string, seq: number, envelope: Buffer, hash: Buffer): void {
    let tip = this.tips.get(device)
    if (!tip) {
      const held = this.clock.get(device)
      tip = { seq: held?.seq ?? 0, hash: held?.hash ?? Buffer.alloc(0), bytes: held?.bytes ?? 0 }
      this.tips.set(device, tip)
    }
    if (seq !== tip.seq + 1) throw new Error(`staged versions of ${device} do not continue its clock`)
    let block = this.open.get(device)
    if (!block) {
      block = { firstSeq: seq, bytesBefore: tip.bytes, envelopes: [], bytes: 0 }
      this.open.set(device, block)
    }
    block.envelopes.push(envelope)
    block.bytes += envelope.length
    if (block.bytes >= BLOCK_TARGET_BYTES) this.writeBlock(device, block)
    // Updated in place: one entry per device, not one object per version.
    tip.seq = seq
    tip.hash = hash
    tip.bytes += envelope.length
  }

  /** Adds a decoded version: to the log, and its summary. */
  addVersion(version: Version, hash: Buffer): void {
    this.add(version.deviceId, version.seq, version.envelope, hash)
    this.summaries.add(version.deviceId, version.seq, version.docId, version.links, version.deleted, version.updatedAt)
  }

  /**
   * Backpressure, called now and then: resolves when LMDB has taken every block written up to the previous call.
   * Waiting for the previous window rather than the latest write keeps LMDB writing one window while the next is
   * read and checked, and memory stays bounded by two windows.
   */
  async written(): Promise<void> {
    const previous = this.windowEnd
    this.windowEnd = this.lastWrite
    await this.untilWritten(previous)
    if (this.failure) throw this.failure.error
  }

  /**
   * Writes the partly filled blocks and waits until every block is committed (not yet visible) and the version
   * file, if any, is durable.
   */
  async finish(): Promise<void> {
    for (const [device, block] of this.open) this.writeBlock(device, block)
    await this.untilWritten(this.lastWrite)
    await this.untilWritten(this.log.committed)
    if (this.failure) throw this.failure.error
    if (this.versionFile) {
      await this.versionFile.sync()
      this.versionFile.close()
    }
  }

  /** Waits for writes in flight, whatever their outcome, so what they leave can be removed after. */
  async settle(): Promise<void> {
    try {
      await this.untilWritten(this.lastWrite)
      await this.untilWritten(this.log.committed)
    } catch {
      // The receive has already failed; this only waits.
    }
    this.versionFile?.close()
  }

  /** The new clock entry of every device this receive extends. */
  newTips(): ReadonlyMap<string, ClockEntry> {
    return this.tips
  }

  /** Waits for LMDB, and stops waiting if one of its commits fails in a way the write itself never hears of. */
  private async untilWritten(write: PromiseLike<unknown> | undefined): Promise<void> {
    if (!write) return
    try {
      await unlessCommitFails(write, this.failuresBefore)
    } catch (error) {
      this.failure ??= { error: this.writeError(error) }
    }
  }

  private writeBlock(device: string, block: OpenBlock): void {
    this.stagedBytes += block.bytes
    if (!this.versionFile && this.stagedBytes > this.filesAfterBytes) this.versionFile = this.log.files.create()
    // Only some writes are awaited; any failure is kept, so a lost block can never be committed over.
    this.lastWrite = this.log.put(device, block.firstSeq, block.envelopes, block.bytes, block.bytesBefore, this.versionFile).catch((error: unknown) => {
      this.failure ??= { error: this.writeError(error) }
    })
    this.open.delete(device)
  }
}
