import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { FerryError } from '../src/errors.js'
import type { Disk } from '../src/fs/disk.js'
import { FaultyDisk } from '../src/fs/faulty-disk.js'
import { nodeDisk } from '../src/fs/node-disk.js'
import { createSyncFile, syncWithFile } from '../src/merge/merge.js'
import { verifySyncFile } from '../src/merge/verify.js'
import { Store } from '../src/store/store.js'
import { tempDir } from './helpers/tmp.js'
import { addObservation, makeStores, smallPhoto, versionIds } from './faults/lib/world.js'

/**
 * What a send that fails part way (a drive that fills, a write error) leaves on the drive, and how the next try
 * fares. Large enough that the append takes several 4 MiB writes, where the earlier failing while a later one
 * landed used to leave a hole.
 */
async function deviceWithMuchToSend(root: string): Promise<{ a: Store; b: Store; file: string }> {
  const [a, b] = (await makeStores(root, 2)) as [Store, Store]
  await addObservation(a, {})
  const file = path.join(root, 'usb', 'field.ferry')
  mkdirSync(path.dirname(file))
  await createSyncFile(a, file)
  for (let i = 0; i < 4; i++) await addObservation(a, { photos: [smallPhoto(3_000_000)] })
  return { a, b, file }
}

/** A disk that says it has `freeBytes` free, whatever the real one has: for the room check before a send. */
function diskWithFree(freeBytes: number): Disk {
  return { ...nodeDisk, filesystem: async (p) => ({ ...(await nodeDisk.filesystem(p)), freeBytes }) }
}

describe('a send that fails part way', () => {
  it('an early write failing (a full drive) leaves the file as it was, not with a hole; the next sync succeeds', async () => {
    const root = tempDir()
    const { a, b, file } = await deviceWithMuchToSend(root)
    const before = readFileSync(file)
    await a.close()
    const faulty = new FaultyDisk(nodeDisk, { op: 'write', at: 1, code: 'ENOSPC' })
    const failing = await Store.open(path.join(root, 'device1'), { disk: faulty })
    const error = await syncWithFile(failing, file).catch((err: unknown) => err)
    await failing.close()
    expect(error).toBeInstanceOf(FerryError)
    expect((error as FerryError).exitCode).toBe(5)
    // Cut back to its last commit: the room the failed append took is free again, and nothing follows the commit.
    expect(readFileSync(file).equals(before)).toBe(true)
    expect((await verifySyncFile(b, file)).tail).toEqual({ state: 'clean' })

    const again = await Store.open(path.join(root, 'device1'))
    expect((await syncWithFile(again, file)).sent.blobs).toBeGreaterThan(0)
    await syncWithFile(b, file)
    expect(versionIds(b)).toEqual(versionIds(again))
    await again.close()
    await b.close()
  })

  it('an interrupted write left on the drive counts as room: the retry cuts it off and fits', async () => {
    const root = tempDir()
    const { a, b, file } = await deviceWithMuchToSend(root)
    const committed = statSync(file).size
    // What a sync killed part way leaves: chunks after the last commit (here zeros, as a filesystem may leave).
    writeFileSync(file, Buffer.alloc(16 * 1024 * 1024), { flag: 'a' })
    expect((await verifySyncFile(b, file)).tail.state).toBe('torn')
    await a.close()
    // The drive has less free than the append needs, but more than that once the interrupted write is cut off.
    const tight = await Store.open(path.join(root, 'device1'), { disk: diskWithFree(2 * 1024 * 1024) })
    const report = await syncWithFile(tight, file)
    expect(report.sent.blobs).toBeGreaterThan(0)
    expect(statSync(file).size - committed).toBe(report.sent.bytes)
    await tight.close()
    await b.close()
  })
})

describe('a create that fails', () => {
  it('names the file asked for, not its hidden temporary one, and says to make it again', async () => {
    const root = tempDir()
    const { a, b, file } = await deviceWithMuchToSend(root)
    await a.close()
    const target = path.join(path.dirname(file), 'new.ferry')
    const faulty = new FaultyDisk(nodeDisk, { op: 'write', at: 2, code: 'EIO' })
    const failing = await Store.open(path.join(root, 'device1'), { disk: faulty })
    const error = (await createSyncFile(failing, target).catch((err: unknown) => err)) as FerryError
    await failing.close()
    await b.close()
    expect(error.message).toContain(target)
    expect(error.message).not.toMatch(/ferry-tmp/)
    expect(error.message).toMatch(/make the file again \(ferry create\)/)
  })

  it('hidden temporary files a pulled drive left behind are removed by the next create of that file', async () => {
    const root = tempDir()
    const { a, b, file } = await deviceWithMuchToSend(root)
    const dir = path.dirname(file)
    const left = path.join(dir, '.new.ferry.ferry-tmp-0123abcd')
    writeFileSync(left, Buffer.alloc(1024 * 1024))
    const unrelated = [path.join(dir, '.other.ferry.ferry-tmp-0123abcd'), path.join(dir, '.new.ferry.ferry-tmp-notours')]
    for (const p of unrelated) writeFileSync(p, 'keep')
    await createSyncFile(a, path.join(dir, 'new.ferry'))
    expect(readdirSync(dir).sort()).toEqual(['.new.ferry.ferry-tmp-notours', '.other.ferry.ferry-tmp-0123abcd', 'field.ferry', 'new.ferry'])
    await a.close()
    await b.close()
  })
})

describe('a sync file this user may not read', () => {
  it('is reported as one that cannot be read, not as a drive that cannot be written', async () => {
    const root = tempDir()
    const { a, b, file } = await deviceWithMuchToSend(root)
    await a.close()
    const faulty = new FaultyDisk(nodeDisk, { op: 'open', at: 1, code: 'EACCES' })
    const denied = await Store.open(path.join(root, 'device1'), { disk: faulty })
    const error = (await verifySyncFile(denied, file).catch((err: unknown) => err)) as FerryError
    await denied.close()
    await b.close()
    expect(error.message).toMatch(/may not read .*field\.ferry \(permission denied\)/)
    expect(error.message).not.toMatch(/write/)
  })
})
