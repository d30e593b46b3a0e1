import { createHash } from 'node:crypto'
import { mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import sharp from 'sharp'
import { describe, expect, it } from 'vitest'
import { ferryJson, ferryOk } from './helpers/cli.js'
import { makeDevices } from './helpers/devices.js'
import { tempDir } from './helpers/tmp.js'

interface Report {
  received: { versions: number; blobs: number; bytes: number }
  sent: { versions: number; blobs: number; bytes: number }
}

/** A real 12-megapixel JPEG with detail (noise), so it is large like a phone photo. */
async function phonePhoto(file: string): Promise<Buffer> {
  const width = 4000
  const height = 3000
  const pixels = Buffer.alloc(width * height * 3)
  for (let i = 0; i < pixels.length; i++) pixels[i] = (i * 2654435761) >>> 24
  const jpeg = await sharp(pixels, { raw: { width, height, channels: 3 } }).jpeg({ quality: 90 }).toBuffer()
  writeFileSync(file, jpeg)
  return jpeg
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => path.join(e.parentPath, e.name))
}

describe('photo previews', () => {
  it('a photo gets a preview and a thumbnail; --media previews carries those and not the full photo', async () => {
    const root = tempDir()
    const [c1, c2] = makeDevices(root, 2) as [string, string]
    const photo = await phonePhoto(path.join(root, 'heron.jpg'))
    const photoHash = createHash('sha256').update(photo).digest('hex')
    ferryOk(['--data-dir', c1, 'add', '--lat', '1', '--lon', '2', '--photo', path.join(root, 'heron.jpg')])

    // The full file carries the photo and both variants.
    mkdirSync(path.join(root, 'usb'))
    const full = ferryJson<Report>(['--data-dir', c1, 'create', path.join(root, 'usb', 'full.ferry')])
    expect(full.sent.blobs).toBe(3)

    // The previews file is a fraction of the size, and the other computer gets pictures it can show.
    const small = ferryJson<Report>(['--data-dir', c1, 'create', '--media', 'previews', path.join(root, 'usb', 'small.ferry')])
    expect(small.sent.blobs).toBe(2)
    expect(statSync(path.join(root, 'usb', 'small.ferry')).size).toBeLessThan(photo.length / 4)
    const received = ferryJson<Report>(['--data-dir', c2, 'sync', path.join(root, 'usb', 'small.ferry')])
    expect(received.received).toMatchObject({ versions: 1, blobs: 2 })

    const media = filesUnder(path.join(c2, 'media', 'blobs'))
    expect(media.map((f) => path.basename(f))).not.toContain(photoHash)
    const sizes = await Promise.all(media.map(async (f) => (await sharp(readFileSync(f)).metadata()).width))
    expect(sizes.sort((a, b) => a! - b!)).toEqual([300, 1200])
    // The observation still points at the original photo, which arrives with a full sync.
    const doc = JSON.parse(ferryOk(['--data-dir', c2, '--json', 'list']))[0]
    expect(doc.attachments[0].hash).toBe(photoHash)
    expect(ferryJson<Report>(['--data-dir', c2, 'sync', path.join(root, 'usb', 'full.ferry')]).received.blobs).toBe(1)
    expect(filesUnder(path.join(c2, 'media', 'blobs')).map((f) => path.basename(f))).toContain(photoHash)
  })

  it('files that are not pictures (audio, random bytes) are kept as they are, with no variants', () => {
    const root = tempDir()
    const [c1] = makeDevices(root, 1)
    writeFileSync(path.join(root, 'birdsong.ogg'), Buffer.from('OggS not really audio'))
    ferryOk(['--data-dir', c1!, 'add', '--lat', '1', '--lon', '2', '--photo', path.join(root, 'birdsong.ogg')])
    expect(filesUnder(path.join(c1!, 'media', 'blobs'))).toHaveLength(1)
  })
})
