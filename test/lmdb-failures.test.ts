import { describe, expect, it } from 'vitest'
import { FerryError } from '../src/errors.js'
import { storeWriteError } from '../src/store/lmdb-failures.js'
import { tempDir } from './helpers/tmp.js'

// The real failures (a full ext4 disk under the data folder, each way a write can meet it) are in
// test/faults/drives.test.ts; these check how each kind of error LMDB gives is put to the user.
describe('an LMDB write error, as the user reads it', () => {
  const dataDir = tempDir('ferry-lmdb-errors-') // on a disk with room: an EIO here is not taken for a full disk

  it('a full disk (ENOSPC, as LMDB reports it: a bare error number) is exit 5 and says the disk is full', () => {
    const err = storeWriteError(Object.assign(new Error('No space left on device'), { code: 28 }), dataDir)
    expect(err).toBeInstanceOf(FerryError)
    expect((err as FerryError).exitCode).toBe(5)
    expect((err as FerryError).message).toBe(`The disk holding ${dataDir} is full. Free some space or use a bigger drive, then try again.`)
  })

  it('a failed commit on a disk with room is exit 5 and names the database, not a full disk', () => {
    const err = storeWriteError(new Error('Commit failed (see commitError for details)'), dataDir) as FerryError
    expect(err.exitCode).toBe(5)
    expect(err.message).toMatch(new RegExp(`^Writing the database in ${dataDir} failed`))
    const eio = storeWriteError(Object.assign(new Error('Input/output error'), { code: 5 }), dataDir) as FerryError
    expect(eio.kind).toBe('drive-removed')
  })

  it('an error that is not the disk (a value the encoder refuses, a bug) is left as it is', () => {
    const refused = new Error('Unknown type: function')
    expect(storeWriteError(refused, dataDir)).toBe(refused)
    const plain = new FerryError('bad-input', 'already plain')
    expect(storeWriteError(plain, dataDir)).toBe(plain)
  })
})
