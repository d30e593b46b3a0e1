import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { nodeDisk } from '../src/fs/node-disk.js'
import { MediaStore } from '../src/store/media-store.js'

const roots: string[] = []
afterEach(() => {
  for (const r of roots.splice(0)) rmSync(r, { recursive: true, force: true })
})

describe('the media store', () => {
  it('keeps blobs under their SHA-256, refuses content that does not match, and survives its folder being removed', async () => {
    const root = mkdtempSync(path.join(os.tmpdir(), 'ferry-media-'))
    roots.push(root)
    const media = new MediaStore(path.join(root, 'media'), nodeDisk)
    writeFileSync(path.join(root, 'a'), 'first photo')
    const first = await media.addFile(path.join(root, 'a'))
    expect(readFileSync(media.pathOf(first.hash), 'utf8')).toBe('first photo')

    const wrong = await media.beginWrite()
    await wrong.append(Buffer.from('not what was promised'))
    await expect(wrong.commit(first.hash)).rejects.toThrow(/damaged/)

    // A long-running daemon must not be stuck if someone deletes the media folder under it.
    rmSync(path.join(root, 'media'), { recursive: true })
    writeFileSync(path.join(root, 'b'), 'second photo')
    const second = await media.addFile(path.join(root, 'b'))
    expect(readFileSync(media.pathOf(second.hash), 'utf8')).toBe('second photo')
  })
})
