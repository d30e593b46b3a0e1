import { FerryError } from '../errors.js'
import type { Store } from '../store/store.js'
import { envelopeHash, openEnvelope } from '../store/version.js'
import type { Commit } from '../syncfile/commit.js'
import { ChunkKind } from '../syncfile/format.js'
import type { SyncFileReader } from '../syncfile/reader.js'
import { decodeRecords } from './records.js'

/**
 * Two histories under one device's name. A data folder restored from a backup (or copied, and used in both places)
 * writes again under record numbers it had already used and sent: its record 3 is not the record 3 the file and the
 * teammates hold. Record numbers alone cannot tell them apart, so a sync would find "nothing to exchange" while the
 * two sides show different data, and the restored folder's next record would follow its own 3, not the file's,
 * breaking the file for every teammate. Commits therefore carry, per device, the hash of the newest record the file
 * holds (Commit.tips); a sync compares them with its own records first and stops, changing nothing, when they differ.
 */

/**
 * Thrown by a receive that meets a device's record following one of the same number other than the one held here
 * (chain-tips.ts): the same two histories, found by reading rather than by the tips. The merge words it as
 * forkedHistoryError, which needs the store.
 */
export class ForkedHistory extends Error {
  constructor(readonly deviceId: string) {
    super(`two histories of device ${deviceId}`)
  }
}

/** Per device, the newest record whose hash the file's commits give: its number and hash. */
export function tipsInFile(commits: readonly Commit[]): Map<string, { seq: number; hash: Buffer }> {
  const known = new Map<string, { seq: number; hash: Buffer }>()
  for (const commit of commits) {
    for (const [device, hash] of commit.tips) known.set(device, { seq: commit.clock.get(device)!, hash })
  }
  return known
}

/**
 * The tips of a commit that brings the file's clock to `newClock`, only hashes this device has checked: its own for
 * each log it extends (forkedDevice or forkedDeviceToExtend compared the record it continues, or the file had none),
 * the file's own where a commit gave it. A log the file and this device hold equally, with no tip in the file, gets
 * none: its records here may be another history than the file's.
 */
export function tipsAfterSend(store: Store, newClock: ReadonlyMap<string, number>, commits: readonly Commit[]): Map<string, Buffer> {
  const ours = store.clock()
  const known = tipsInFile(commits)
  const fileClock = commits.at(-1)?.clock ?? new Map<string, number>()
  const tips = new Map<string, Buffer>()
  for (const [device, seq] of newClock) {
    const fileTip = known.get(device)
    const own = ours.get(device)
    if (fileTip?.seq === seq) tips.set(device, fileTip.hash)
    else if (own?.seq === seq && seq > (fileClock.get(device) ?? 0)) tips.set(device, own.hash)
  }
  return tips
}

/** A device whose records here (`ours`: the store's clock) differ from the file's under the same numbers, if any. */
export function forkedDevice(ours: ReadonlyMap<string, { seq: number; hash: Buffer }>, store: Store, commits: readonly Commit[]): string | undefined {
  for (const [device, fileTip] of tipsInFile(commits)) {
    const own = ours.get(device)
    if (!own || own.seq < fileTip.seq) continue // records to receive: the chain check of the receive compares them
    const hash = own.seq === fileTip.seq ? own.hash : envelopeHash(store.getEnvelope(device, fileTip.seq)!)
    if (!hash.equals(fileTip.hash)) return device
  }
  return undefined
}

/**
 * Before appending a device's records after the file's newest one of it, whose hash no commit gives (a file written
 * before tips existed): that record is read from the segment holding it and compared with this computer's, so a
 * restored data folder never appends after another history. Once appended, the new commit carries the tip, so this
 * read happens once per device and file. Returns the first device whose records differ.
 */
export async function forkedDeviceToExtend(store: Store, reader: SyncFileReader, commits: readonly Commit[], signal?: AbortSignal): Promise<string | undefined> {
  const fileClock = commits.at(-1)?.clock ?? new Map<string, number>()
  const known = tipsInFile(commits)
  const unknown = new Map<string, number>()
  for (const [device, own] of store.clock()) {
    const inFile = fileClock.get(device) ?? 0
    if (inFile > 0 && own.seq > inFile && known.get(device)?.seq !== inFile) unknown.set(device, inFile)
  }
  if (unknown.size === 0) return undefined
  for (const [device, hash] of await recordHashesInFile(reader, commits, unknown, signal)) {
    if (!hash.equals(envelopeHash(store.getEnvelope(device, unknown.get(device)!)!))) return device
  }
  return undefined
}

/**
 * The hashes of the file's records `wanted` (device → number), each segment holding one of them read once, its
 * records chunks only. A record not found (a damaged segment) is left out: the sync goes on as it would have.
 */
async function recordHashesInFile(reader: SyncFileReader, commits: readonly Commit[], wanted: ReadonlyMap<string, number>, signal?: AbortSignal): Promise<Map<string, Buffer>> {
  const found = new Map<string, Buffer>()
  let before = new Map<string, number>()
  for (const commit of commits) {
    const here = [...wanted].filter(([device, seq]) => (before.get(device) ?? 0) < seq && seq <= (commit.clock.get(device) ?? 0))
    before = commit.clock
    if (here.length === 0) continue
    const left = new Map(here)
    for await (const chunk of reader.segment(commit, ChunkKind.records)) {
      if (signal?.aborted) return found
      for (const envelope of decodeRecords(chunk.plaintext) ?? []) {
        const opened = openEnvelope(envelope)
        if (opened.ok && left.get(opened.version.deviceId) === opened.version.seq) {
          found.set(opened.version.deviceId, envelopeHash(envelope))
          left.delete(opened.version.deviceId)
        }
      }
      if (left.size === 0) break
    }
  }
  return found
}

/** The refusal for two histories, in words for the person at this computer. */
export function forkedHistoryError(store: Store, fileName: string, device: string): FerryError {
  const mine = device === store.info.deviceId
  const whose = mine
    ? `${fileName} holds changes this computer made that its data folder no longer has, under the same record numbers as changes it made since: the data folder was restored from a backup, or copied and used in two places.`
    : `the records of device ${device.slice(0, 12)}… here differ from those in ${fileName} under the same record numbers: that computer's data folder was restored from a backup, or copied and used in two places.`
  const next = mine
    ? 'Keep this data folder as it is and give this computer a new one (README, "Restored from a backup").'
    : 'Ask that computer\'s user to follow "Restored from a backup" in the README; keep syncing with other files meanwhile.'
  return new FerryError('forked-history', `${fileName} cannot be synced here: ${whose} Nothing was changed. ${next}`)
}
