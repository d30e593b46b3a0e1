import { execFileSync } from 'node:child_process'
import path from 'node:path'
import { describe, expect, it, vi } from 'vitest'
import { syncWithFile, createSyncFile } from '../src/merge/merge.js'
import { Store } from '../src/store/store.js'
import { openEnvelope, parseVersionId } from '../src/store/version.js'
import { compareHeads, rankHeads } from '../src/store/winner.js'
import { CLI } from './helpers/cli.js'
import { testStores } from './helpers/stores.js'

const { devices, track, untrack } = testStores('store', 'Store test')

/** Makes b hold everything a holds, through a real sync file. */
async function carry(a: Store, b: Store): Promise<void> {
  const file = path.join(path.dirname(a.dataDir), `carry-${Math.random().toString(16).slice(2)}.ferry`)
  await createSyncFile(a, file)
  await syncWithFile(b, file)
}

const obs = (tags: Record<string, string> = {}) => ({ schemaName: 'observation', lat: 1, lon: 2, tags, attachments: [] })

describe('the winner rule', () => {
  it('latest updatedAt wins, then the greater versionId; a live head beats a deleted one whatever its date', () => {
    const older = { versionId: 'b/1', updatedAt: '2024-01-01T00:00:00Z', deleted: false }
    const newer = { versionId: 'a/1', updatedAt: '2024-06-01T00:00:00Z', deleted: false }
    const sameTimeGreaterId = { versionId: 'c/1', updatedAt: '2024-01-01T00:00:00Z', deleted: false }
    const newestDelete = { versionId: 'z/9', updatedAt: '2030-01-01T00:00:00Z', deleted: true }
    expect(rankHeads([older, newer])[0]).toBe(newer)
    expect(rankHeads([older, sameTimeGreaterId])[0]).toBe(sameTimeGreaterId)
    expect(rankHeads([newestDelete, older])[0]).toBe(older)
    expect(compareHeads(older, older)).toBe(0)
    // Timestamps are compared as instants, not strings: ".5Z" is later than ".05Z".
    expect(rankHeads([{ ...older, updatedAt: '2024-01-01T00:00:00.5Z' }, { ...newer, updatedAt: '2024-01-01T00:00:00.05Z' }])[0]!.updatedAt).toBe('2024-01-01T00:00:00.5Z')
  })
})

describe('the store (real LMDB)', () => {
  it('versions are signed, chained per device, and numbered <device key>/<seq>', async () => {
    const [a] = await devices(1)
    const ids = await a!.writeLocal([{ value: obs() }, { value: obs() }])
    expect(ids.map((id) => parseVersionId(id))).toEqual([
      { deviceId: a!.info.deviceId, seq: 1 },
      { deviceId: a!.info.deviceId, seq: 2 },
    ])
    const second = openEnvelope(a!.getEnvelope(a!.info.deviceId, 2)!)
    expect(second.ok && second.version.prev?.length).toBe(32)
    expect(a!.clock().get(a!.info.deviceId)?.seq).toBe(2)
  })

  it('concurrent edits on two devices give two heads, kept on both, with the same winner', async () => {
    const [a, b] = await devices(2)
    const [first] = await a!.writeLocal([{ value: obs({ v: '0' }) }])
    const docId = a!.getVersion(first!)!.docId
    await carry(a!, b!)
    await a!.writeLocal([{ docId, updatedAt: '2025-01-01T00:00:00.000Z', value: obs({ v: 'a' }) }])
    await b!.writeLocal([{ docId, updatedAt: '2025-02-01T00:00:00.000Z', value: obs({ v: 'b' }) }])
    await carry(a!, b!)
    await carry(b!, a!)
    for (const s of [a!, b!]) {
      const heads = s.heads(docId)
      expect(heads).toHaveLength(2)
      expect(heads[0]!.value.tags).toEqual({ v: 'b' })
    }
    // An edit that saw both heads resolves the fork.
    await a!.writeLocal([{ docId, value: obs({ v: 'merged' }) }])
    expect(a!.heads(docId)).toHaveLength(1)
    expect(a!.getVersion(a!.heads(docId)[0]!.versionId)!.links).toHaveLength(2)
  })

  it('a delete is a tombstone: the document leaves the list and the count, and stays deleted after syncing', async () => {
    const [a, b] = await devices(2)
    const [first] = await a!.writeLocal([{ value: obs() }, { value: obs() }])
    const docId = a!.getVersion(first!)!.docId
    await carry(a!, b!)
    await a!.writeLocal([{ docId, deleted: true, value: obs() }])
    expect(a!.countObservations()).toBe(1)
    expect([...a!.currentVersions()].map((v) => v.docId)).not.toContain(docId)
    await carry(a!, b!)
    // b syncs an old file that still has the pre-delete version: it does not come back.
    await carry(b!, a!)
    expect(b!.countObservations()).toBe(1)
    expect(a!.countObservations()).toBe(1)
    expect(b!.heads(docId).map((h) => h.deleted)).toEqual([true])
  })

  it('an edit concurrent with a delete beats it', async () => {
    const [a, b] = await devices(2)
    const [first] = await a!.writeLocal([{ value: obs() }])
    const docId = a!.getVersion(first!)!.docId
    await carry(a!, b!)
    await a!.writeLocal([{ docId, deleted: true, value: obs(), updatedAt: '2030-01-01T00:00:00.000Z' }])
    await b!.writeLocal([{ docId, value: obs({ kept: 'yes' }), updatedAt: '2020-01-01T00:00:00.000Z' }])
    await carry(a!, b!)
    await carry(b!, a!)
    for (const s of [a!, b!]) {
      expect(s.countObservations()).toBe(1)
      expect(s.heads(docId)[0]!.value.tags).toEqual({ kept: 'yes' })
      expect(s.heads(docId)).toHaveLength(2)
    }
  })

  it('a second writer is refused while one holds the lock; readers are never blocked', async () => {
    const [a] = await devices(1)
    await a!.writeLocal([{ value: obs() }])
    const other = await Store.open(a!.dataDir)
    track(other)
    await a!.exclusive(async () => {
      await expect(other.exclusive(async () => 1)).rejects.toThrow(/another Ferry command/)
      expect(other.countObservations()).toBe(1)
    })
    await expect(other.exclusive(async () => 1)).resolves.toBe(1)
  })
})

describe('two processes on one data folder', () => {
  it('a long-running process sees what another process wrote as soon as it takes the writer lock', async () => {
    const [a] = await devices(1)
    await a!.writeLocal([{ value: obs() }])
    // A range read opens a read snapshot that lmdb-js keeps for the rest of this event-loop turn.
    expect(a!.clock().get(a!.info.deviceId)?.seq).toBe(1)
    execFileSync(process.execPath, [CLI, '--data-dir', a!.dataDir, 'add', '--lat', '1', '--lon', '1'])
    // Same event-loop turn as the read above: only the lock's fresh snapshot can show the other process's write.
    const seen = await a!.exclusive(async () => a!.clock().get(a!.info.deviceId)?.seq)
    expect(seen).toBe(2)
  })
})

describe('init racing another init', () => {
  it('an init that looked before another finished does not replace the project it finds under the lock', async () => {
    const [first] = await devices(1)
    const before = first!.info.projectId
    const dataDir = first!.dataDir
    untrack(first!)
    await first!.close()
    // As if this init had looked at the folder just before the other one committed its project.
    const look = vi.spyOn(Store as unknown as { projectIn: () => Promise<undefined> }, 'projectIn').mockResolvedValue(undefined)
    try {
      await expect(Store.create(dataDir, { name: 'Second' })).rejects.toThrow(/already holds the project “Store test”/)
    } finally {
      look.mockRestore()
    }
    const reopened = await Store.open(dataDir)
    track(reopened)
    expect(reopened.info.projectId).toBe(before)
  })
})
