import { generate } from '@mapeo/mock-data'
import { existsSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createSyncFile, syncWithFile } from '../src/merge/merge.js'
import { Store } from '../src/store/store.js'
import { envelopeHash } from '../src/store/version.js'
import { ferry } from './helpers/cli.js'
import { stageEnvelopes, testStores } from './helpers/stores.js'

const { devices, track, untrack } = testStores('vfiles', 'Version files test')

// About 2 KiB per version; a batch of 40 is ~80 KiB, past the 16 KiB threshold set below.
const obs = (i: number) => ({ schemaName: 'observation', lat: 1, lon: 2, tags: { i: String(i), pad: 'x'.repeat(2000) }, attachments: [] })
const batch = (n: number, from = 0) => Array.from({ length: n }, (_, i) => ({ value: obs(from + i) }))
const filesIn = (dataDir: string) => (existsSync(path.join(dataDir, 'versions')) ? readdirSync(path.join(dataDir, 'versions')).sort() : [])

describe('version files (the envelopes of large writes, beside the database)', () => {
  const before = process.env.FERRY_VERSION_FILES_AFTER_BYTES
  beforeAll(() => {
    process.env.FERRY_VERSION_FILES_AFTER_BYTES = String(16 * 1024)
  })
  afterAll(() => {
    if (before === undefined) delete process.env.FERRY_VERSION_FILES_AFTER_BYTES
    else process.env.FERRY_VERSION_FILES_AFTER_BYTES = before
  })

  it('small writes stay in the database; a large write and a large receive each make one file, read back exactly', async () => {
    const [a, b] = await devices(2)
    await a!.writeLocal(batch(3))
    expect(filesIn(a!.dataDir)).toEqual([])
    await a!.writeLocal(batch(40, 3))
    expect(filesIn(a!.dataDir)).toEqual(['1.blocks'])

    const file = path.join(path.dirname(a!.dataDir), 'carry.ferry')
    await createSyncFile(a!, file)
    expect((await syncWithFile(b!, file)).received.versions).toBe(43)
    expect(filesIn(b!.dataDir)).toEqual(['1.blocks'])
    const me = a!.info.deviceId
    const sent = [...a!.envelopes(me, 1, 43)].map((e) => Buffer.from(e))
    expect([...b!.envelopes(me, 1, 43)].map((e) => Buffer.from(e))).toEqual(sent)
    expect(b!.clock().get(me)).toEqual(a!.clock().get(me))
    expect(envelopeHash(sent[42]!)).toEqual(b!.clock().get(me)!.hash)

    // A second process (a fresh handle) reads them too, and a sync both ways finds nothing more to do.
    await b!.close()
    untrack(b!)
    const again = await Store.open(b!.dataDir)
    track(again)
    expect(again.countObservations()).toBe(43)
    expect(again.getVersion(`${me}/40`)?.value.tags).toEqual(obs(39).tags)
    const report = await syncWithFile(again, file)
    expect(report.received.versions + report.sent.versions).toBe(0)
  })

  it('a receive that never commits leaves a file nobody refers to; the next receive removes it and keeps the others', async () => {
    const [a, b] = await devices(2)
    await b!.writeLocal(batch(40)) // b's own file, registered
    await a!.writeLocal(batch(40))
    const envelopes = [...a!.envelopes(a!.info.deviceId, 1, 40)].map((e) => Buffer.from(e))

    const stage = await b!.beginIncoming()
    stageEnvelopes(stage, envelopes)
    await stage.finish() // written and durable, never committed: a crash here
    expect(filesIn(b!.dataDir)).toEqual(['1.blocks', '2.blocks'])
    expect(b!.countObservations()).toBe(40)

    await b!.beginIncoming()
    expect(filesIn(b!.dataDir)).toEqual(['1.blocks'])
    expect(b!.getEnvelope(a!.info.deviceId, 1)).toBeUndefined()
    expect([...b!.envelopes(b!.info.deviceId, 1, 40)]).toHaveLength(40)

    const file = path.join(path.dirname(a!.dataDir), 'carry.ferry')
    await createSyncFile(a!, file)
    expect((await syncWithFile(b!, file)).received.versions).toBe(40)
    expect([...b!.envelopes(a!.info.deviceId, 1, 40)].map((e) => Buffer.from(e))).toEqual(envelopes)
    expect(b!.countObservations()).toBe(80)
  })

  it('a version file removed or replaced before its commit (a second writer that should not exist) aborts the commit', async () => {
    const [a, b] = await devices(2)
    await a!.writeLocal(batch(40))
    const stage = await b!.beginIncoming()
    stageEnvelopes(stage, a!.envelopes(a!.info.deviceId, 1, 40))
    expect(filesIn(b!.dataDir)).toEqual(['1.blocks'])
    const file = path.join(b!.dataDir, 'versions', '1.blocks')
    rmSync(file)
    writeFileSync(file, Buffer.alloc(100_000))

    await expect(b!.commitIncoming(stage, [])).rejects.toThrow(/removed or replaced while Ferry was writing it/)
    expect(b!.countObservations()).toBe(0)
    expect(b!.clock().get(a!.info.deviceId)).toBeUndefined()
    await b!.discardIncoming(stage)
    const carry = path.join(path.dirname(a!.dataDir), 'carry.ferry')
    await createSyncFile(a!, carry)
    expect((await syncWithFile(b!, carry)).received.versions).toBe(40)
    expect(b!.countObservations()).toBe(40)
  })

  it('a large local write that fails part-way changes nothing visible and leaves no file', async () => {
    const [a] = await devices(1)
    await a!.writeLocal(batch(2))
    // A value the encoder cannot write (a function) fails the batch after 40 versions went to the file.
    const unwritable = { value: { schemaName: 'observation', lat: 1, lon: 2, tags: { f: (() => 1) as never }, attachments: [] } }
    await expect(a!.writeLocal([...batch(40, 2), unwritable])).rejects.toThrow(/Unknown type: function/)
    expect(a!.clock().get(a!.info.deviceId)?.seq).toBe(2)
    expect(a!.countObservations()).toBe(2)
    expect(filesIn(a!.dataDir)).toEqual([])
    // And the next large write goes on from version 3.
    const ids = await a!.writeLocal(batch(40, 100))
    expect(ids[0]).toBe(`${a!.info.deviceId}/3`)
    expect(a!.getVersion(`${a!.info.deviceId}/42`)?.value.tags).toEqual(obs(139).tags)
  })

  it('a folder of more version files than a reader keeps open reads back whole after reopening, holding at most 32 open', async () => {
    const [a] = await devices(1)
    for (let i = 0; i < 36; i++) await a!.writeLocal(batch(20, i * 20))
    expect(filesIn(a!.dataDir)).toHaveLength(36)
    const me = a!.info.deviceId
    const written = [...a!.envelopes(me, 1, 720)].map((e) => Buffer.from(e))
    await a!.close()
    untrack(a!)
    const again = await Store.open(a!.dataDir)
    track(again)
    const openFds = () => readdirSync('/proc/self/fd').length
    const fdsBefore = openFds()
    for (let round = 0; round < 2; round++) expect([...again.envelopes(me, 1, 720)].map((e) => Buffer.from(e))).toEqual(written)
    expect(openFds() - fdsBefore).toBeLessThanOrEqual(32)
    expect(again.getVersion(`${me}/720`)?.value.tags).toEqual(obs(719).tags)
  })

  it('a data folder copied without its version files says so in plain words and changes nothing', async () => {
    const [a] = await devices(1)
    await a!.writeLocal(batch(40))
    const dataDir = a!.dataDir
    await a!.close()
    untrack(a!)
    rmSync(path.join(dataDir, 'versions'), { recursive: true })
    const dbBytes = statSync(path.join(dataDir, 'ferry.mdb')).size

    const json = path.join(path.dirname(dataDir), 'more.json')
    writeFileSync(json, JSON.stringify(generate('observation', { count: 3 })))
    // Reading and writing alike: nothing goes on as if the versions were there.
    for (const args of [['list'], ['export', path.join(path.dirname(dataDir), 'out.json')], ['import', json]]) {
      const result = ferry(['--data-dir', dataDir, ...args])
      expect(result.code, `${args[0]}: ${result.stderr}`).toBe(5)
      expect(result.stderr).toMatch(/versions.*missing or shorter than its database says/)
      expect(result.stderr).not.toMatch(/\n\s+at /) // no stack trace
    }
    expect(existsSync(path.join(path.dirname(dataDir), 'out.json'))).toBe(false)
    expect(statSync(path.join(dataDir, 'ferry.mdb')).size).toBe(dbBytes)

    // A truncated file is the same: the database says how long each piece is.
    const b = (await devices(1))[0]!
    await b.writeLocal(batch(40))
    writeFileSync(path.join(b.dataDir, 'versions', '1.blocks'), Buffer.alloc(10))
    expect(() => [...b.envelopes(b.info.deviceId, 1, 40)]).toThrow(/missing or shorter/)
  })

  it('a folder of the previous layout is read as it is, and marked as the new one when it gets its first file', async () => {
    const [a] = await devices(1)
    await a!.exclusive(() => a!.putMeta('layout', 2))
    await a!.writeLocal(batch(3))
    expect(a!.getMeta('layout')).toBe(2)
    await a!.writeLocal(batch(40, 3))
    expect(a!.getMeta('layout')).toBe(3)
    expect([...a!.envelopes(a!.info.deviceId, 1, 43)]).toHaveLength(43)
  })
})
