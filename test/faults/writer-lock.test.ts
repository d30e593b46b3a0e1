import { utimesSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { tempDir } from '../helpers/tmp.js'
import { addObservation, makeStores } from './lib/world.js'

/**
 * Found by the SIGKILL test: `ferry` killed between creating writer.lock (O_EXCL) and writing its PID into it leaves
 * an empty lock file. The lock treats an unreadable holder as a live process forever, so every later sync, add or
 * edit says "another Ferry command is changing this data (process unknown)" until someone deletes the file by hand.
 */
describe('the writer lock after a process was killed while taking it', () => {
  it('an empty writer.lock left by a killed process does not keep the data folder busy for ever', async () => {
    const root = tempDir('ferry-lock-')
    const [a] = await makeStores(root, 1)
    const lock = path.join(a!.dataDir, 'writer.lock')
    writeFileSync(lock, '')
    const longAgo = new Date(Date.now() - 10 * 60_000)
    utimesSync(lock, longAgo, longAgo)
    await expect(addObservation(a!, {})).resolves.toMatchObject({ versionId: expect.stringMatching(/\/1$/) })
  })
})
