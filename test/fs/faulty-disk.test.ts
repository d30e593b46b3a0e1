import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { FaultyDisk, InjectedFault } from '../../src/fs/faulty-disk.js'
import { nodeDisk } from '../../src/fs/node-disk.js'
import { diskError } from '../../src/errors.js'
import { tempDir } from '../helpers/tmp.js'

describe('FaultyDisk', () => {
  it('passes everything through and counts calls when no fault is armed', async () => {
    const dir = tempDir()
    const disk = new FaultyDisk(nodeDisk)
    const file = await disk.open(path.join(dir, 'a'), 'create-new')
    await file.write(Buffer.from('hello '), 0)
    await file.write(Buffer.from('world'), 6)
    await file.sync()
    await file.close()
    await disk.rename(path.join(dir, 'a'), path.join(dir, 'b'))
    await disk.syncDir(dir)
    expect(readFileSync(path.join(dir, 'b'), 'utf8')).toBe('hello world')
    expect([disk.count('open'), disk.count('write'), disk.count('sync'), disk.count('rename'), disk.count('syncDir')]).toEqual([1, 2, 1, 1, 1])
    expect(disk.calls.map((c) => c.op)).toEqual(['open', 'write', 'write', 'sync', 'rename', 'syncDir'])
  })

  it('fails exactly the Nth call of the armed operation with an errno-like error', async () => {
    const dir = tempDir()
    const disk = new FaultyDisk(nodeDisk, { op: 'write', at: 2 })
    const file = await disk.open(path.join(dir, 'a'), 'create-new')
    await file.write(Buffer.from('one'), 0)
    const err = await file.write(Buffer.from('two'), 3).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(InjectedFault)
    expect((err as InjectedFault).code).toBe('EIO')
    expect(disk.fired).toEqual({ op: 'write', n: 2, path: path.join(dir, 'a') })
    // The third write works again: only one call site fails.
    await file.write(Buffer.from('three'), 3)
    await file.close()
    expect(readFileSync(path.join(dir, 'a'), 'utf8')).toBe('onethree')
    // Ferry's own error mapping turns it into a plain "drive stopped answering" (exit 5).
    expect(diskError(err, 'x').exitCode).toBe(5)
  })

  it('can tear a write (some bytes land, then the error) and can fail with another errno', async () => {
    const dir = tempDir()
    const target = path.join(dir, 'a')
    const disk = new FaultyDisk(nodeDisk, { op: 'write', at: 1, partialBytes: 3, code: 'ENOSPC' })
    const file = await disk.open(target, 'create-new')
    const err = await file.write(Buffer.from('abcdef'), 0).catch((e: unknown) => e)
    await file.close()
    expect((err as InjectedFault).code).toBe('ENOSPC')
    expect(diskError(err, target).kind).toBe('disk-full')
    expect(readFileSync(target, 'utf8')).toBe('abc')
  })

  it('a sticky fault makes every later call fail, like a pulled drive', async () => {
    const dir = tempDir()
    writeFileSync(path.join(dir, 'x'), 'data')
    const disk = new FaultyDisk(nodeDisk, { op: 'sync', at: 1, sticky: true })
    const file = await disk.open(path.join(dir, 'x'), 'update')
    await expect(file.sync()).rejects.toBeInstanceOf(InjectedFault)
    await expect(file.write(Buffer.from('z'), 0)).rejects.toBeInstanceOf(InjectedFault)
    await expect(file.read(Buffer.alloc(1), 0, 1, 0)).rejects.toBeInstanceOf(InjectedFault)
    await expect(disk.rename(path.join(dir, 'x'), path.join(dir, 'y'))).rejects.toBeInstanceOf(InjectedFault)
    await file.close()
    expect(existsSync(path.join(dir, 'x'))).toBe(true)
    expect(readFileSync(path.join(dir, 'x'), 'utf8')).toBe('data')
  })

  it('arm() resets the counts and the fault', async () => {
    const dir = tempDir()
    const disk = new FaultyDisk(nodeDisk, { op: 'mkdirp', at: 1 })
    await expect(disk.mkdirp(path.join(dir, 'd'))).rejects.toBeInstanceOf(InjectedFault)
    disk.arm(undefined)
    expect(disk.count('mkdirp')).toBe(0)
    await disk.mkdirp(path.join(dir, 'd'))
    expect(existsSync(path.join(dir, 'd'))).toBe(true)
  })
})
