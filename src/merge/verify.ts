import type { Store } from '../store/store.js'
import { SyncFileReader, type Tail } from '../syncfile/reader.js'
import { damaged } from '../errors.js'
import { hashingSink } from './blob-assembly.js'
import { walkSegment } from './segment-walk.js'
import { describeProject } from './describe-project.js'
import { ChainTips } from './chain-tips.js'
import { MergeThreads } from './merge-threads.js'

export interface VerifyReport {
  file: string
  ok: true
  commits: number
  devices: number
  versions: number
  blobs: number
  blobBytes: number
  bytes: number
  tail: Tail
  media: string
}

/**
 * Reads the whole file and checks everything a sync would: every chunk, every segment hash, every device chain
 * from its first version, the signatures, every blob hash, and that each commit holds what it claims. Changes
 * nothing anywhere. Throws FerryError('damaged') naming the first problem.
 */
export async function verifySyncFile(store: Store, filePath: string, opts: { workerThreads?: number } = {}): Promise<VerifyReport> {
  const reader = await SyncFileReader.open(store.disk, filePath, store.projectSecret, store.projectId, describeProject)
  const threads = new MergeThreads(opts.workerThreads)
  try {
    const state = await reader.state()
    const tips = new ChainTips(new Map())
    let versions = 0
    let blobs = 0
    let blobBytes = 0
    const checker = await threads.checker(state.commits.at(-1)?.totals.versions ?? 0)
    for (const commit of state.commits) {
      // Reading from nothing, the walk meets no history held before it, so a broken chain is damage (chain-tips.ts).
      const completed = await walkSegment(reader, commit, { checker, tips }, hashingSink, { skipKnown: false, onVersion: () => void versions++ })
      blobs += completed.length
      blobBytes += completed.reduce((sum, b) => sum + b.size, 0)
      for (const [device, seq] of commit.clock) {
        if (tips.seqOf(device) !== seq) throw reader.damagedAt(commit.offset, 'a commit does not match the records before it')
      }
      // A wrong tip would make every sync of a device holding the true record refuse the file (history-tips.ts).
      for (const [device, hash] of commit.tips) {
        if (!tips.hashOf(device)?.equals(hash)) throw reader.damagedAt(commit.offset, 'a commit names a record hash the records do not have')
      }
    }
    const forged = tips.unsignedDevice(store.projectId)
    if (forged) throw damaged(`${reader.name} is damaged or was tampered with: records claiming to come from device ${forged.slice(0, 12)}… are not signed by it.`)
    if (state.tail.state === 'damaged') throw reader.damagedTail(state, { versions, blobs })
    const last = state.commits.at(-1)
    return {
      file: filePath,
      ok: true,
      commits: state.commits.length,
      devices: last?.clock.size ?? 0,
      versions,
      blobs,
      blobBytes,
      bytes: reader.size,
      tail: state.tail,
      media: state.commits[0]?.media ?? 'all',
    }
  } finally {
    await threads.close()
    await reader.close()
  }
}
