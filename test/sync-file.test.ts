import { randomBytes } from 'node:crypto'
import { copyFileSync, mkdirSync, readFileSync, statSync, truncateSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { ferry, ferryJson, ferryOk } from './helpers/cli.js'
import { makeDevices } from './helpers/devices.js'
import { tempDir } from './helpers/tmp.js'

interface Report {
  received: { versions: number; blobs: number; bytes: number }
  sent: { versions: number; blobs: number; bytes: number }
}

function twoComputersWithFile() {
  const root = tempDir()
  const [c1, c2] = makeDevices(root, 2) as [string, string]
  mkdirSync(path.join(root, 'usb'))
  writeFileSync(path.join(root, 'photo.jpg'), randomBytes(64 * 1024))
  for (let i = 0; i < 5; i++) ferryOk(['--data-dir', c1, 'add', '--lat', String(i), '--lon', '1', '--tag', `n=${i}`])
  ferryOk(['--data-dir', c1, 'add', '--lat', '9', '--lon', '9', '--photo', path.join(root, 'photo.jpg')])
  ferryOk(['--data-dir', c2, 'add', '--lat', '7', '--lon', '7', '--tag', 'from=c2'])
  const file = path.join(root, 'usb', 'field.ferry')
  ferryOk(['--data-dir', c1, 'create', file])
  ferryOk(['--data-dir', c2, 'sync', file])
  ferryOk(['--data-dir', c1, 'sync', file])
  const snapshot = (dir: string) => ferryOk(['--data-dir', dir, '--json', 'list'])
  return { root, c1, c2, file, snapshot }
}

describe('sync file: append-only, and nothing written when nothing changed', () => {
  it('a second sync with nothing new leaves the file byte- and mtime-identical', () => {
    const { c1, c2, file } = twoComputersWithFile()
    const before = { bytes: readFileSync(file), mtime: statSync(file).mtimeMs }
    for (const dir of [c1, c2]) {
      const report = ferryJson<Report>(['--data-dir', dir, 'sync', file])
      expect(report.sent.bytes + report.received.bytes).toBe(0)
    }
    expect(readFileSync(file).equals(before.bytes)).toBe(true)
    expect(statSync(file).mtimeMs).toBe(before.mtime)
  })

  it('one new observation appends a few KiB and never rewrites committed bytes', () => {
    const { c1, file } = twoComputersWithFile()
    const before = readFileSync(file)
    ferryOk(['--data-dir', c1, 'add', '--lat', '5', '--lon', '5', '--tag', 'type=new'])
    const report = ferryJson<Report>(['--data-dir', c1, 'sync', file])
    const after = readFileSync(file)
    expect(report.sent.versions).toBe(1)
    expect(after.length - before.length).toBe(report.sent.bytes)
    expect(report.sent.bytes).toBeLessThan(4 * 1024)
    expect(after.subarray(0, before.length).equals(before)).toBe(true)
  })

  it('create refuses an existing path (exit 2) and leaves it alone', () => {
    const { c1, file } = twoComputersWithFile()
    const before = readFileSync(file)
    const result = ferry(['--data-dir', c1, 'create', file])
    expect(result.code).toBe(2)
    expect(result.stderr).toMatch(/already exists/)
    expect(readFileSync(file).equals(before)).toBe(true)
  })
})

describe('damaged and foreign files are refused, and nothing changes', () => {
  it('a flipped bit anywhere in the committed part: verify exits 4, and a sync that needs it exits 4 with the database unchanged', () => {
    const { root, c1, file, snapshot } = twoComputersWithFile()
    const fresh = path.join(root, 'fresh')
    ferryOk(['--data-dir', fresh, 'init', '--join', path.join(root, 'team.ferryproject')])
    const original = readFileSync(file)
    // Positions across the whole file: header's project id, first chunk, middle, last commit, footer.
    const positions = [20, 70, 100, Math.floor(original.length / 3), Math.floor(original.length / 2), original.length - 40, original.length - 3]
    const emptyList = snapshot(fresh)
    for (const at of positions) {
      const damaged = Buffer.from(original)
      damaged[at]! ^= 0x10
      const copy = path.join(root, `damaged-${at}.ferry`)
      writeFileSync(copy, damaged)
      const verify = ferry(['--data-dir', c1, 'verify', copy])
      expect([3, 4], `bit flip at ${at}: ${verify.stderr}`).toContain(verify.code)
      // A device that lacks everything needs every part of the file.
      const sync = ferry(['--data-dir', fresh, 'sync', copy])
      expect([3, 4], `sync after bit flip at ${at}`).toContain(sync.code)
      expect(sync.stderr).not.toMatch(/\n\s+at /)
      expect(snapshot(fresh)).toBe(emptyList)
      expect(readFileSync(copy).equals(damaged)).toBe(true)
    }
  })

  it('a tail cut in the middle of the last commit falls back to the previous commit; the next sync repairs it', () => {
    const { root, c1, c2, file, snapshot } = twoComputersWithFile()
    const beforeLastSync = readFileSync(file).length
    ferryOk(['--data-dir', c2, 'add', '--lat', '8', '--lon', '8', '--tag', 'late=yes'])
    ferryOk(['--data-dir', c2, 'sync', file])
    const full = readFileSync(file).length
    truncateSync(file, full - 30) // inside the last commit chunk
    const verify = ferryJson<{ tail: { state: string } }>(['--data-dir', c1, 'verify', file])
    expect(verify.tail.state).toBe('torn')
    // Computer 1 sees the file as it was before computer 2's last sync...
    const report = ferryJson<Report>(['--data-dir', c1, 'sync', file])
    expect(report.received.versions).toBe(0)
    // ...and computer 2's next sync writes its observation again after cutting the torn tail.
    const repair = ferryJson<Report>(['--data-dir', c2, 'sync', file])
    expect(repair.sent.versions).toBe(1)
    expect(readFileSync(file).length).toBeGreaterThan(beforeLastSync)
    ferryOk(['--data-dir', c1, 'sync', file])
    expect(snapshot(c1)).toBe(snapshot(c2))
    expect(ferryJson<{ tail: { state: string } }>(['--data-dir', c1, 'verify', file]).tail.state).toBe('clean')
    expect(root).toBeTruthy()
  })

  it("another project's file: exit 3 naming it, nothing changed on either side", () => {
    const { root, c1, file, snapshot } = twoComputersWithFile()
    const other = path.join(root, 'other')
    ferryOk(['--data-dir', other, 'init', '--name', 'Other'])
    const before = readFileSync(file)
    const listBefore = snapshot(other)
    const result = ferry(['--data-dir', other, 'sync', file])
    expect(result.code).toBe(3)
    expect(result.stderr).toMatch(/belongs to another project \(“River monitoring”, project id [0-9a-f]{12}…\)/)
    expect(readFileSync(file).equals(before)).toBe(true)
    expect(snapshot(other)).toBe(listBefore)
    expect(ferry(['--data-dir', other, 'verify', file]).code).toBe(3)
    expect(c1).toBeTruthy()
  })

  it('random bytes, an empty file, and a newer format version: exit 4 with a plain sentence, untouched', () => {
    const { root, c1, file, snapshot } = twoComputersWithFile()
    const before = snapshot(c1)
    const random = path.join(root, 'random.ferry')
    writeFileSync(random, randomBytes(10_000))
    const empty = path.join(root, 'empty.ferry')
    writeFileSync(empty, '')
    const newer = path.join(root, 'newer.ferry')
    copyFileSync(file, newer)
    const newerBytes = readFileSync(newer)
    newerBytes.writeUInt16BE(2, 8)
    writeFileSync(newer, newerBytes)
    for (const [bad, message] of [
      [random, /not a Ferry sync file/],
      [empty, /empty/],
      [newer, /newer Ferry/],
    ] as const) {
      const content = readFileSync(bad)
      const result = ferry(['--data-dir', c1, 'sync', bad])
      expect(result.code).toBe(4)
      expect(result.stderr).toMatch(message)
      expect(result.stderr.trim().split('\n')).toHaveLength(1)
      expect(readFileSync(bad).equals(content)).toBe(true)
    }
    expect(snapshot(c1)).toBe(before)
  })
})
