import { FerryError } from '../errors.js'
import type { Store } from '../store/store.js'
import { envelopeHash } from '../store/version.js'
import type { Commit } from '../syncfile/commit.js'

/**
 * Two histories under one device's name. A data folder restored from a backup (or copied, and used in both places)
 * writes again under record numbers it had already used and sent: its record 3 is not the record 3 the file and the
 * teammates hold. Record numbers alone cannot tell them apart, so a sync would find "nothing to exchange" while the
 * two sides show different data, and the restored folder's next record would follow its own 3, not the file's,
 * breaking the file for every teammate. Commits therefore carry, per device, the hash of the newest record the file
 * holds (Commit.tips); a sync compares them with its own records first and stops, changing nothing, when they differ.
 */

/** Per device, the newest record whose hash the file's commits give: its number and hash. */
export function tipsInFile(commits: readonly Commit[]): Map<string, { seq: number; hash: Buffer }> {
  const known = new Map<string, { seq: number; hash: Buffer }>()
  for (const commit of commits) {
    for (const [device, hash] of commit.tips) known.set(device, { seq: commit.clock.get(device)!, hash })
  }
  return known
}

/**
 * The tips of a commit that brings the file's clock to `newClock`: this device's own hash for each log it is
 * extending (it has checked that its history continues the file's), the file's for the others where known.
 */
export function tipsAfterSend(store: Store, newClock: ReadonlyMap<string, number>, commits: readonly Commit[]): Map<string, Buffer> {
  const ours = store.clock()
  const known = tipsInFile(commits)
  const tips = new Map<string, Buffer>()
  for (const [device, seq] of newClock) {
    const own = ours.get(device)
    if (own?.seq === seq) tips.set(device, own.hash)
    else if (known.get(device)?.seq === seq) tips.set(device, known.get(device)!.hash)
  }
  return tips
}

/** A device whose records here differ from the file's under the same numbers, if any. */
export function forkedDevice(store: Store, commits: readonly Commit[]): string | undefined {
  const ours = store.clock()
  for (const [device, fileTip] of tipsInFile(commits)) {
    const own = ours.get(device)
    if (!own || own.seq < fileTip.seq) continue // records to receive: the chain check of the receive compares them
    const hash = own.seq === fileTip.seq ? own.hash : envelopeHash(store.getEnvelope(device, fileTip.seq)!)
    if (!hash.equals(fileTip.hash)) return device
  }
  return undefined
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
