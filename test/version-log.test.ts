import { cpSync, existsSync, readdirSync } from 'node:fs'
import path from 'node:path'
import { execFileSync } from 'node:child_process'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { createSyncFile, syncWithFile } from '../src/merge/merge.js'
import { BLOCK_TARGET_BYTES } from '../src/store/version-block.js'
import { Store } from '../src/store/store.js'
import { envelopeHash, openEnvelope } from '../src/store/version.js'
import { CLI } from './helpers/cli.js'
import { stageEnvelopes, testStores } from './helpers/stores.js'

const { devices, track, untrack } = testStores('log', 'Log test')

// About 2 KiB per version, so a few dozen versions span several blocks.
const obs = (i: number) => ({ schemaName: 'observation', lat: 1, lon: 2, tags: { i: String(i), pad: 'x'.repeat(2000) }, attachments: [] })

const versionFiles = (dataDir: string) => (existsSync(path.join(dataDir, 'versions')) ? readdirSync(path.join(dataDir, 'versions')) : [])

// Every test runs with the envelopes inside the database, in version files (large writes), and both in one log.
describe.each([
  { where: 'in the database', afterBytes: String(1024 ** 3) },
  { where: 'in the database, then in version files', afterBytes: String(64 * 1024) },
  { where: 'in version files', afterBytes: '0' },
])('the version log (blocks of envelopes per device) $where', ({ afterBytes }) => {
  const before = process.env.FERRY_VERSION_FILES_AFTER_BYTES
  beforeEach(() => {
    process.env.FERRY_VERSION_FILES_AFTER_BYTES = afterBytes
  })
  afterEach(() => {
    if (before === undefined) delete process.env.FERRY_VERSION_FILES_AFTER_BYTES
    else process.env.FERRY_VERSION_FILES_AFTER_BYTES = before
  })

  it('holds every version, in order, whether written one at a time or in batches, across block boundaries', async () => {
    const [a] = await devices(1)
    const me = a!.info.deviceId
    for (let i = 0; i < 20; i++) await a!.writeLocal([{ value: obs(i) }]) // one at a time: the last block grows
    await a!.writeLocal(Array.from({ length: 40 }, (_, i) => ({ value: obs(100 + i) }))) // a batch: new blocks
    const tip = a!.clock().get(me)!
    expect(tip.seq).toBe(60)
    expect(tip.bytes).toBeGreaterThan(2 * BLOCK_TARGET_BYTES)

    const all = [...a!.envelopes(me, 1, 60)].map((e) => Buffer.from(e))
    expect(all).toHaveLength(60)
    let prev: Buffer | null = null
    all.forEach((envelope, i) => {
      const opened = openEnvelope(envelope)
      expect(opened.ok && opened.version.seq).toBe(i + 1)
      expect(opened.ok && (opened.version.prev === null ? null : Buffer.from(opened.version.prev))).toEqual(prev)
      expect(a!.getEnvelope(me, i + 1)).toEqual(envelope)
      prev = envelopeHash(envelope)
    })
    expect(tip.hash).toEqual(prev)
    expect(tip.bytes).toBe(all.reduce((sum, e) => sum + e.length, 0))

    // Any sub-range, starting and ending inside blocks, and the size of any prefix.
    expect([...a!.envelopes(me, 17, 43)].map((e) => Buffer.from(e))).toEqual(all.slice(16, 43))
    expect([...a!.envelopes(me, 5, 4)]).toEqual([])
    for (const seq of [0, 1, 19, 20, 21, 37, 60]) expect(a!.bytesThrough(me, seq)).toBe(all.slice(0, seq).reduce((sum, e) => sum + e.length, 0))
    expect(a!.getEnvelope(me, 61)).toBeUndefined()
    // Where they are: one file per write that went past the threshold (the batch of 40 is ~80 KiB).
    expect(versionFiles(a!.dataDir)).toHaveLength(afterBytes === '0' ? 21 : afterBytes === String(64 * 1024) ? 1 : 0)
  })

  it('a receive that never commits leaves nothing visible, and the next receive removes what it wrote', async () => {
    const [a, b] = await devices(2)
    await a!.writeLocal(Array.from({ length: 30 }, (_, i) => ({ value: obs(i) })))
    const envelopes = [...a!.envelopes(a!.info.deviceId, 1, 30)].map((e) => Buffer.from(e))

    const stage = await b!.beginIncoming()
    stageEnvelopes(stage, envelopes)
    await stage.finish() // the blocks are in the database, past the clock: a crash here
    expect(b!.clock().has(a!.info.deviceId)).toBe(false)
    expect(b!.countObservations()).toBe(0)

    await b!.beginIncoming() // the next receive starts by removing them
    expect(b!.getEnvelope(a!.info.deviceId, 1)).toBeUndefined()

    // And a real sync then brings everything, once.
    const file = path.join(path.dirname(a!.dataDir), 'carry.ferry')
    await createSyncFile(a!, file)
    const report = await syncWithFile(b!, file)
    expect(report.received.versions).toBe(30)
    expect([...b!.envelopes(a!.info.deviceId, 1, 30)].map((e) => Buffer.from(e))).toEqual(envelopes)
    expect(b!.clock().get(a!.info.deviceId)).toEqual(a!.clock().get(a!.info.deviceId))
    expect(b!.countObservations()).toBe(30)
  })

  it('local writes after an uncommitted receive of the device’s own later versions replace what it left', async () => {
    const [a] = await devices(1)
    const me = a!.info.deviceId
    await a!.writeLocal([{ value: obs(0) }])
    // A copy of the folder as it is now (same device key), as a restored backup would be.
    await a!.close()
    untrack(a!)
    const copyDir = `${a!.dataDir}-copy`
    cpSync(a!.dataDir, copyDir, { recursive: true })
    const original = await Store.open(a!.dataDir)
    track(original)
    await original.writeLocal(Array.from({ length: 30 }, (_, i) => ({ value: obs(i + 1) })))
    const later = [...original.envelopes(me, 2, 31)].map((e) => Buffer.from(e))

    const copy = await Store.open(copyDir)
    track(copy)
    const stage = await copy.beginIncoming()
    stageEnvelopes(stage, later)
    await stage.finish() // staged past the clock, never committed: a crash here

    // The copy writes on: versions 2 and 3 are its new ones, and nothing staged survives after them.
    const ids = await copy.writeLocal([{ value: obs(99) }, { value: obs(98) }])
    expect(ids).toEqual([`${me}/2`, `${me}/3`])
    const own = [...copy.envelopes(me, 1, 3)].map((e) => openEnvelope(Buffer.from(e)))
    expect(own.map((o) => o.ok && o.version.value.tags)).toEqual([obs(0).tags, obs(99).tags, obs(98).tags])
    for (const seq of [4, 10, 31]) expect(copy.getEnvelope(me, seq)).toBeUndefined()
  })
  it('a long-running process reads versions another process wrote since, in blocks it has not seen', async () => {
    const [a] = await devices(1)
    const me = a!.info.deviceId
    await a!.writeLocal(Array.from({ length: 20 }, (_, i) => ({ value: obs(i) })))
    expect(a!.getVersion(`${me}/20`)?.value.tags).toEqual(obs(19).tags) // this process now knows the blocks of 1..20
    // Another process (the real CLI) appends to the last block and adds new ones: 40 versions of ~2 KiB each.
    const note = `note=${'x'.repeat(2000)}`
    const adds = Array.from({ length: 40 }, () => `${JSON.stringify(process.execPath)} ${JSON.stringify(CLI)} --data-dir ${JSON.stringify(a!.dataDir)} add --lat 1 --lon 1 --tag ${note}`)
    execFileSync('sh', ['-c', adds.join(' && ')])
    const seen = await a!.exclusive(async () => [20, 21, 40, 60].map((seq) => a!.getVersion(`${me}/${seq}`)?.seq))
    expect(seen).toEqual([20, 21, 40, 60])
    expect([...a!.envelopes(me, 1, 60)]).toHaveLength(60)
  })
})
