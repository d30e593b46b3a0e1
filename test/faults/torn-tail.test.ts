import { readFileSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { createSyncFile, syncWithFile } from '../../src/merge/merge.js'
import { verifySyncFile } from '../../src/merge/verify.js'
import { isCompleteSyncFile } from '../../src/syncfile/probe.js'
import { tempDir } from '../helpers/tmp.js'
import { parseFrames } from './lib/forge.js'
import { addObservation, makeStores } from './lib/world.js'

/**
 * Found by the SIGKILL test: an append interrupted exactly between two chunks (the writer writes whole chunks in
 * 4 MiB batches, so a kill between batches does this) leaves complete chunks and no commit after the last one.
 * That is an interrupted write, and a copy still in progress can look the same.
 */
describe('a file that ends at a chunk boundary after its last commit', () => {
  it('is reported as an interrupted write, not as a clean file, and is not taken for a finished copy', async () => {
    const root = tempDir('ferry-torn-')
    const [a] = await makeStores(root, 1)
    await addObservation(a!, {})
    const file = path.join(root, 'field.ferry')
    await createSyncFile(a!, file)
    await addObservation(a!, { photos: [Buffer.alloc(3000, 7)] })
    await syncWithFile(a!, file)
    const bytes = readFileSync(file)
    const parsed = parseFrames(bytes)
    const firstNew = parsed.chunks.find((c) => c.offset >= parsed.commits[0]!.end)!
    const cut = path.join(root, 'cut.ferry')
    writeFileSync(cut, bytes.subarray(0, firstNew.offset + firstNew.length))

    const report = await verifySyncFile(a!, cut)
    expect(report.commits).toBe(1)
    expect(report.tail).toEqual({ state: 'torn', bytes: firstNew.length })
    // The inbox watcher's "copy finished" test must not accept it (the rest of the copy may still be coming).
    expect(await isCompleteSyncFile(a!, cut)).toBe(false)
  })
})
