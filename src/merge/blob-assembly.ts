import { createHash } from 'node:crypto'
import { BLOB_PIECE_HEADER } from '../syncfile/format.js'

/** Where a blob's bytes go while it is read from a file: the media store when receiving, nowhere when verifying. */
export interface BlobSink {
  /** null: this blob is not wanted (already held); its pieces are still checked for order. */
  begin(hash: string, size: number): Promise<BlobTarget | null>
}
export interface BlobTarget {
  append(data: Buffer): Promise<void>
  /** Verifies the whole blob against its hash: false when it does not match. A failing disk throws. */
  finish(): Promise<boolean>
  abort(): Promise<void>
}

/** A sink that only checks hashes, for `verify`. */
export const hashingSink: BlobSink = {
  async begin(hash) {
    const hasher = createHash('sha256')
    return {
      append: async (data) => void hasher.update(data),
      finish: async () => hasher.digest('hex') === hash,
      abort: async () => undefined,
    }
  },
}

/** What became of a blob whose last piece arrived. */
type Outcome = 'stored' | 'skipped' | 'mismatch'

interface Finishing {
  hash: string
  size: number
  outcome: Promise<Outcome>
}

/** Blobs finishing (hash check, rename) at once; past this the walk waits, so memory stays bounded. */
const MAX_FINISHING = 16
const MAX_FINISHING_BYTES = 32 * 1024 * 1024

/**
 * Reassembles the blobs of one segment from their pieces (hash ‖ offset ‖ data), in order, checking each blob is
 * one the segment's commit lists, with its listed size, complete, and matching its hash. Returns problems in words.
 *
 * The order checks are made at once; the sink's work (opening, writing, hashing, renaming) runs behind them, so the
 * walk goes on decrypting the next pieces while the disk work of earlier photos is in flight (one blocking round
 * trip after another per photo was a third of a photo import's time). A hash
 * mismatch or a disk error is reported when its blob is settled: at a later piece or at `end`, always before the
 * segment counts as read.
 */
/**
 * The blob being received: where it goes (`target`, null when not wanted) and its pieces' writes, one after the other
 * (`written`). Kept apart so a failed write still leaves the target at hand to abort (its temporary file removed,
 * its file closed).
 */
interface Incoming {
  hash: string
  size: number
  received: number
  target: Promise<BlobTarget | null>
  written: Promise<void>
}

export class BlobAssembly {
  private current: Incoming | undefined
  private readonly seen = new Set<string>()
  private finishing: Finishing[] = []
  private finishingBytes = 0
  readonly completed: Array<{ hash: string; size: number; stored: boolean }> = []

  constructor(
    private readonly listed: Map<string, number>,
    private readonly sink: BlobSink,
  ) {}

  async piece(plaintext: Buffer): Promise<string | undefined> {
    if (plaintext.length < BLOB_PIECE_HEADER) return 'a photo piece is too short'
    const hash = plaintext.subarray(0, 32).toString('hex')
    const at = Number(plaintext.readBigUInt64BE(32))
    const data = plaintext.subarray(BLOB_PIECE_HEADER)
    if (at === 0 && this.current?.hash !== hash) {
      if (this.current) return 'a photo is incomplete'
      const size = this.listed.get(hash)
      if (size === undefined || this.seen.has(hash)) return 'a photo is not listed in its commit'
      this.seen.add(hash)
      const target = this.sink.begin(hash, size)
      target.catch(() => undefined) // settled through `written`, by outcomeOf or by abort
      this.current = { hash, size, received: 0, target, written: Promise.resolve() }
    }
    const blob = this.current
    if (!blob || blob.hash !== hash || at !== blob.received || blob.received + data.length > blob.size) return 'photo pieces are out of order'
    const before = blob.written
    blob.written = before.then(async () => {
      await (await blob.target)?.append(data)
    })
    blob.written.catch(() => undefined) // settled by the next piece, by outcomeOf or by abort
    blob.received += data.length
    if (blob.received < blob.size) {
      // A blob of many pieces (a video): one piece in flight, so it is never held whole.
      await before
      return undefined
    }
    this.current = undefined
    const outcome = outcomeOf(blob)
    outcome.catch(() => undefined)
    this.finishing.push({ hash, size: blob.size, outcome })
    this.finishingBytes += blob.size
    while (this.finishing.length > MAX_FINISHING || this.finishingBytes > MAX_FINISHING_BYTES) {
      const problem = await this.settleOldest()
      if (problem) return problem
    }
    return undefined
  }

  /** At the end of the segment: every listed blob arrived whole and was taken by the sink. */
  async end(): Promise<string | undefined> {
    while (this.finishing.length > 0) {
      const problem = await this.settleOldest()
      if (problem) return problem
    }
    if (this.current) {
      await this.abort()
      return 'a photo is incomplete'
    }
    if (this.seen.size !== this.listed.size) return 'its commit lists a photo it does not contain'
    return undefined
  }

  /** Stops: waits for the sink's work in flight, and drops the blob that was not complete. */
  async abort(): Promise<void> {
    await Promise.allSettled(this.finishing.map((f) => f.outcome))
    this.finishing = []
    this.finishingBytes = 0
    const current = this.current
    this.current = undefined
    if (!current) return
    await current.written.catch(() => undefined)
    const target = await current.target.catch(() => null)
    await target?.abort()
  }

  private async settleOldest(): Promise<string | undefined> {
    const oldest = this.finishing.shift()!
    this.finishingBytes -= oldest.size
    const outcome = await oldest.outcome
    if (outcome === 'mismatch') return `a photo's content does not match its fingerprint ${oldest.hash.slice(0, 12)}…`
    this.completed.push({ hash: oldest.hash, size: oldest.size, stored: outcome === 'stored' })
    return undefined
  }
}

/** Settles a blob whose pieces have all been handed over: stored, skipped (not wanted) or not matching its hash. */
async function outcomeOf(blob: Incoming): Promise<Outcome> {
  const target = await blob.target
  try {
    await blob.written
  } catch (err) {
    await target?.abort()
    throw err
  }
  if (!target) return 'skipped'
  return (await target.finish()) ? 'stored' : 'mismatch'
}
