import { mkdtemp, readFile, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { rotateIfLarge } from '../../src/daemon/log.js'
import { newSyncFilePath, slug } from '../../src/daemon/targets.js'

describe('log rotation at start', () => {
  it('moves a large log to .1, shifting older ones and keeping only `keep`', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'ferry-log-'))
    const file = path.join(dir, 'daemon.log')
    await writeFile(`${file}.1`, 'older')
    await writeFile(`${file}.2`, 'oldest')
    await writeFile(file, 'x'.repeat(2000))
    rotateIfLarge(file, 1000, 2)
    expect(await readFile(`${file}.1`, 'utf8')).toBe('x'.repeat(2000))
    expect(await readFile(`${file}.2`, 'utf8')).toBe('older')
    await expect(readFile(`${file}.3`)).rejects.toThrow()
    await expect(readFile(file)).rejects.toThrow()
  })

  it('leaves a small log alone', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'ferry-log-'))
    const file = path.join(dir, 'daemon.log')
    await writeFile(file, 'small')
    rotateIfLarge(file, 1000, 2)
    expect(await readFile(file, 'utf8')).toBe('small')
  })
})

describe('new sync file names', () => {
  it('are FAT-safe and never replace an existing file', async () => {
    expect(slug('Río Negro — monitoreo')).toBe('rio-negro-monitoreo')
    expect(slug('***')).toBe('ferry')
    const dir = await mkdtemp(path.join(os.tmpdir(), 'ferry-names-'))
    const day = new Date('2026-03-04T10:00:00Z')
    const first = await newSyncFilePath(dir, 'River monitors', day)
    expect(path.basename(first)).toBe('river-monitors-2026-03-04.ferry')
    await writeFile(first, '')
    expect(path.basename(await newSyncFilePath(dir, 'River monitors', day))).toBe('river-monitors-2026-03-04-2.ferry')
  })
})
