import { createHash, randomBytes } from 'node:crypto'
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { ferryJson, ferryOk } from './helpers/cli.js'
import { makeDevices } from './helpers/devices.js'
import { tempDir } from './helpers/tmp.js'

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex')

interface Report {
  received: { versions: number; blobs: number }
  sent: { versions: number; blobs: number }
}

/**
 * The steps of "Synchronizing with a file" (shared/seed), with the real CLI: computer 1 creates a sync file, it
 * travels on a USB drive to computer 2, which syncs; the file goes back and computer 1 syncs. Both computers then
 * hold the same data, photos included, and the file verifies.
 */
describe('the seed walkthrough: create, carry, sync, carry back, sync', () => {
  it('ends with byte-identical exports and the same photos on both computers', () => {
    const root = tempDir()
    const [computer1, computer2] = makeDevices(root, 2)
    const usb = path.join(root, 'usb')
    mkdirSync(usb)
    const photo1 = randomBytes(200_000)
    const photo2 = randomBytes(150_000)
    writeFileSync(path.join(root, 'heron.jpg'), photo1)
    writeFileSync(path.join(root, 'logging.jpg'), photo2)
    ferryOk(['--data-dir', computer1!, 'add', '--lat', '-3.1', '--lon', '-60.0', '--tag', 'type=animal', '--photo', path.join(root, 'heron.jpg')])
    ferryOk(['--data-dir', computer1!, 'add', '--lat', '-3.2', '--lon', '-60.1', '--tag', 'type=river'])
    ferryOk(['--data-dir', computer2!, 'add', '--lat', '-3.3', '--lon', '-60.2', '--tag', 'type=threat', '--photo', path.join(root, 'logging.jpg')])

    // Computer 1: "Create a sync file", saved on the USB drive.
    const file = path.join(usb, 'field-data.ferry')
    const created = ferryJson<Report>(['--data-dir', computer1!, 'create', file])
    expect(created.sent).toMatchObject({ versions: 2, blobs: 1 })

    // Computer 2: "Sync from a file": it receives computer 1's data and adds its own to the file.
    const atComputer2 = ferryJson<Report>(['--data-dir', computer2!, 'sync', file])
    expect(atComputer2.received).toMatchObject({ versions: 2, blobs: 1 })
    expect(atComputer2.sent).toMatchObject({ versions: 1, blobs: 1 })

    // The file goes back to computer 1, which syncs to complete the two-way exchange.
    const atComputer1 = ferryJson<Report>(['--data-dir', computer1!, 'sync', file])
    expect(atComputer1.received).toMatchObject({ versions: 1, blobs: 1 })
    expect(atComputer1.sent).toMatchObject({ versions: 0, blobs: 0 })

    const exports = [computer1!, computer2!].map((dir, i) => {
      const out = path.join(root, `export${i + 1}.json`)
      ferryOk(['--data-dir', dir, 'export', out, '--media', path.join(root, `media${i + 1}`)])
      return readFileSync(out)
    })
    expect(exports[0]!.equals(exports[1]!)).toBe(true)
    expect(JSON.parse(exports[0]!.toString()).length).toBe(3)
    for (const media of ['media1', 'media2']) {
      const names = readdirSync(path.join(root, media)).sort()
      expect(names).toEqual([sha256(photo1), sha256(photo2)].sort())
      for (const name of names) expect(sha256(readFileSync(path.join(root, media, name)))).toBe(name)
    }
    expect(ferryJson<{ ok: boolean; versions: number; blobs: number }>(['--data-dir', computer1!, 'verify', file])).toMatchObject({ ok: true, versions: 3, blobs: 2 })
  })
})
