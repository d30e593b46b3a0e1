import { createHash } from 'node:crypto'
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { ferry } from './helpers/cli.js'
import { tempDir } from './helpers/tmp.js'

/**
 * dist/cli.js runs the CLI from a V8 code cache in the per-user cache folder (src/launcher.ts). The cache may only
 * ever save time: whatever state it is in, every command prints and exits exactly as without it.
 */
describe('start-up code cache', () => {
  function run(cacheDir: string, args: string[], env: Record<string, string> = {}) {
    return ferry(args, { env: { FERRY_CACHE_DIR: cacheDir, ...env } })
  }

  const cacheFiles = (dir: string) => readdirSync(dir).filter((n) => n.endsWith('.v8cache'))

  it('is written by the first run of each command, then only read: same output and exit codes as without it', () => {
    const root = tempDir()
    const cache = path.join(root, 'cache')
    const data = path.join(root, 'data')
    // Commands whose output does not depend on a fresh project's random keys; none of them creates anything.
    const commands = [['--help'], ['sync', '--help'], ['--data-dir', data, '--json', 'list'], ['--data-dir', data, 'nonsense'], ['--data-dir', data, 'init', '--join', path.join(root, 'missing.ferryproject')]]
    const without = commands.map((args) => run(cache, args, { FERRY_CODE_CACHE: '0' }))
    expect(readdirSync(root)).toEqual([])
    expect(without.map((r) => r.code)).toEqual([0, 0, 2, 2, 2])

    expect(run(cache, ['--help'])).toEqual(without[0])
    expect(cacheFiles(cache)).toHaveLength(1)
    const file = path.join(cache, cacheFiles(cache)[0]!)
    expect(readFileSync(file).subarray(0, 16).toString()).toBe('FERRY-V8-CACHE-3')

    expect(commands.map((args) => run(cache, args))).toEqual(without)
    const written = { bytes: readFileSync(file), mtime: statSync(file).mtimeMs }
    expect(commands.map((args) => run(cache, args))).toEqual(without)
    expect(cacheFiles(cache)).toHaveLength(1)
    expect(statSync(file).mtimeMs).toBe(written.mtime)
    expect(readFileSync(file).equals(written.bytes)).toBe(true)
  })

  it('a damaged, truncated or unusable cache changes nothing and is rewritten', () => {
    const cache = path.join(tempDir(), 'cache')
    const expected = run(cache, ['--help'], { FERRY_CODE_CACHE: '0' })
    run(cache, ['--help'])
    const file = path.join(cache, cacheFiles(cache)[0]!)
    const good = readFileSync(file)
    const start = 20 + good.readUInt32LE(16)
    const flipped = Buffer.from(good)
    flipped.writeUInt8(flipped.readUInt8(start + 100) ^ 0x10, start + 100)
    // Intact as a file (its checksum matches) but not V8 code cache data: what V8 rejects, as for another Node.
    const header = JSON.parse(good.toString('utf8', 20, start)) as { entries: unknown; sha256: string }
    const junk = Buffer.alloc(good.length - start, 0xa5)
    const headerBytes = Buffer.from(JSON.stringify({ ...header, sha256: createHash('sha256').update(junk).digest('hex') }))
    const length = Buffer.alloc(4)
    length.writeUInt32LE(headerBytes.length)
    const rejected = Buffer.concat([good.subarray(0, 16), length, headerBytes, junk])
    for (const damage of [Buffer.from('not a cache at all'), good.subarray(0, good.length >> 1), flipped, rejected]) {
      writeFileSync(file, damage)
      expect(run(cache, ['--help'])).toEqual(expected)
      expect(readFileSync(file).equals(damage)).toBe(false)
      expect(readFileSync(file).subarray(0, 16).toString()).toBe('FERRY-V8-CACHE-3')
    }
  })

  it('a cache folder that cannot be made changes nothing', () => {
    const root = tempDir()
    const blocked = path.join(root, 'a-file')
    writeFileSync(blocked, '')
    const expected = run(path.join(root, 'unused'), ['--help'], { FERRY_CODE_CACHE: '0' })
    expect(run(path.join(blocked, 'cache'), ['--help'])).toEqual(expected)
  })
})
