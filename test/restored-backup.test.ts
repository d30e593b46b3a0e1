import { cpSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { nodeDisk } from '../src/fs/node-disk.js'
import { encodeRecords } from '../src/merge/records.js'
import { Store } from '../src/store/store.js'
import { ChunkKind } from '../src/syncfile/format.js'
import { newHeader } from '../src/syncfile/header.js'
import { SegmentWriter } from '../src/syncfile/writer.js'
import { ferry, ferryOk } from './helpers/cli.js'
import { makeDevices } from './helpers/devices.js'
import { tempDir } from './helpers/tmp.js'

const tagOf = (dir: string, docId: string) => (JSON.parse(ferryOk(['--data-dir', dir, 'show', docId])) as { tags: { n: string } }).tags.n

/**
 * Computer 1's data folder is backed up, computer 1 edits and syncs with computer 2, then the backup is put back
 * and computer 1 edits again: its new change takes a record number its lost one had, which computer 2 and the file
 * hold. Before commits carried hashes, both computers were told they had "the same data" while they showed
 * different values, and computer 1's next sync appended a record that made the file "damaged" for computer 2.
 */
function restoredFromBackup() {
  const root = tempDir()
  const [one, two] = makeDevices(root, 2) as [string, string]
  const docId = ferryOk(['--data-dir', one, 'add', '--lat', '1', '--lon', '1', '--tag', 'n=1']).trim()
  const backup = path.join(root, 'backup')
  cpSync(one, backup, { recursive: true })
  ferryOk(['--data-dir', one, 'edit', docId, '--tag', 'n=2'])
  const file = path.join(root, 'field.ferry')
  ferryOk(['--data-dir', one, 'create', file])
  ferryOk(['--data-dir', two, 'sync', file])
  rmSync(one, { recursive: true })
  cpSync(backup, one, { recursive: true })
  ferryOk(['--data-dir', one, 'edit', docId, '--tag', 'n=3'])
  return { root, one, two, docId, file }
}

/**
 * As restoredFromBackup, with the team file written as builds before commit tips wrote it, and computer 1 put back
 * before making any change: its next record takes number 2, which the file and computer 2 hold.
 */
async function restoredAfterAnOldFile() {
  const root = tempDir()
  const [one, two] = makeDevices(root, 2) as [string, string]
  const docId = ferryOk(['--data-dir', one, 'add', '--lat', '1', '--lon', '1', '--tag', 'n=1']).trim()
  const backup = path.join(root, 'backup')
  cpSync(one, backup, { recursive: true })
  ferryOk(['--data-dir', one, 'edit', docId, '--tag', 'n=2'])
  const file = path.join(root, 'old.ferry')
  await writeWithoutTips(one, file)
  ferryOk(['--data-dir', two, 'sync', file])
  rmSync(one, { recursive: true })
  cpSync(backup, one, { recursive: true })
  return { root, one, two, docId, file }
}

describe('a data folder restored from a backup', () => {
  it('its sync of the team file is refused (exit 4, in words), and nothing changes on either side', () => {
    const { one, two, docId, file } = restoredFromBackup()
    const before = readFileSync(file)
    for (let round = 0; round < 2; round++) {
      const result = ferry(['--data-dir', one, 'sync', file])
      expect({ code: result.code, stderr: result.stderr }).toEqual({ code: 4, stderr: expect.stringMatching(/cannot be synced here: .* restored from a backup/) as unknown })
      expect(result.stderr).toMatch(/Nothing was changed\. Keep this data folder as it is/)
      expect(result.stderr).not.toMatch(/salvage/)
      ferryOk(['--data-dir', one, 'edit', docId, '--tag', 'n=4'])
    }
    expect(readFileSync(file).equals(before)).toBe(true)
    expect(tagOf(one, docId)).toBe('4')
    // The teammate's sync of the same file still works, and finds the file whole.
    expect(ferry(['--data-dir', two, 'sync', file]).code).toBe(0)
    expect(ferry(['--data-dir', two, 'verify', file]).code).toBe(0)
    expect(tagOf(two, docId)).toBe('2')
  })

  it('a file the restored folder creates is refused by the teammate, whose data stays as it was', () => {
    const { root, one, two, docId } = restoredFromBackup()
    const fromRestored = path.join(root, 'from-restored.ferry')
    ferryOk(['--data-dir', one, 'create', fromRestored])
    const result = ferry(['--data-dir', two, 'sync', fromRestored])
    expect(result.code).toBe(4)
    expect(result.stderr).toMatch(/the records of device [0-9a-f]{12}… here differ from those in from-restored\.ferry .* restored from a backup/)
    expect(tagOf(two, docId)).toBe('2')
  })

  it('the way out in the README works: a new data folder for that computer gets both changes, photos too, and syncs on', () => {
    const { root, one, two, docId, file } = restoredFromBackup()
    const photo = path.join(root, 'photo.jpg')
    writeFileSync(photo, Buffer.alloc(50_000, 9))
    const withPhoto = ferryOk(['--data-dir', one, 'add', '--lat', '3', '--lon', '3', '--photo', photo]).trim()
    const kept = path.join(root, 'computer1-restored')
    cpSync(one, kept, { recursive: true })
    rmSync(one, { recursive: true })
    const invite = path.join(root, 'again.ferryproject')
    ferryOk(['--data-dir', kept, 'project', 'export', invite])
    ferryOk(['--data-dir', one, 'init', '--join', invite])
    ferryOk(['--data-dir', one, 'sync', file])
    expect(tagOf(one, docId)).toBe('2')
    const since = path.join(root, 'since.json')
    const media = path.join(root, 'since-media')
    ferryOk(['--data-dir', kept, 'export', since, '--media', media])
    ferryOk(['--data-dir', one, 'import', since, '--media', media])
    expect(tagOf(one, docId)).toBe('3')
    ferryOk(['--data-dir', one, 'sync', file])
    ferryOk(['--data-dir', two, 'sync', file])
    expect(tagOf(two, docId)).toBe('3')
    const shown = JSON.parse(ferryOk(['--data-dir', two, 'show', withPhoto])) as { attachments: unknown[] }
    expect(shown.attachments).toHaveLength(1)
    expect(ferryOk(['--data-dir', one, 'export', '-'])).toBe(ferryOk(['--data-dir', two, 'export', '-']))
  })

  for (const changes of [['t=new'], ['t=new', 't2=x', 't3=y']]) {
    it(`the way out keeps the team's change under a reused record number (${changes.length} change(s) made in the restored folder)`, () => {
      const root = tempDir()
      const [one, two] = makeDevices(root, 2) as [string, string]
      const docId = ferryOk(['--data-dir', one, 'add', '--lat', '1', '--lon', '1', '--tag', 't=orig']).trim()
      const backup = path.join(root, 'backup')
      cpSync(one, backup, { recursive: true })
      ferryOk(['--data-dir', one, 'edit', docId, '--tag', 'u=1'])
      const file = path.join(root, 'field.ferry')
      ferryOk(['--data-dir', one, 'create', file])
      ferryOk(['--data-dir', two, 'sync', file])
      // Put back, the folder's next change takes the number of the lost one (u=1), which the team holds; its export
      // names its newest change, linked to that number.
      for (const tag of changes) ferryOk(['--data-dir', backup, 'edit', docId, '--tag', tag])
      ferryOk(['--data-dir', backup, 'project', 'export', path.join(root, 'again.ferryproject')])
      rmSync(one, { recursive: true })
      ferryOk(['--data-dir', one, 'init', '--join', path.join(root, 'again.ferryproject')])
      ferryOk(['--data-dir', one, 'sync', file])
      const since = path.join(root, 'since.json')
      ferryOk(['--data-dir', backup, 'export', since])
      ferryOk(['--data-dir', one, 'import', since])
      const expected = Object.fromEntries([...changes.map((c) => c.split('=')), ['u', '1']])
      expect((JSON.parse(ferryOk(['--data-dir', one, 'show', docId])) as { tags: unknown }).tags).toEqual(expected)
    })
  }

  it('restored to fewer records than it had sent: its sync says so, not that the file is damaged', () => {
    const root = tempDir()
    const [one] = makeDevices(root, 2) as [string, string]
    const docId = ferryOk(['--data-dir', one, 'add', '--lat', '1', '--lon', '1', '--tag', 'n=1']).trim()
    const backup = path.join(root, 'backup')
    cpSync(one, backup, { recursive: true })
    for (const n of ['2', '3']) ferryOk(['--data-dir', one, 'edit', docId, '--tag', `n=${n}`])
    const file = path.join(root, 'field.ferry')
    ferryOk(['--data-dir', one, 'create', file])
    rmSync(one, { recursive: true })
    cpSync(backup, one, { recursive: true })
    ferryOk(['--data-dir', one, 'edit', docId, '--tag', 'n=4'])
    const before = readFileSync(file)
    const result = ferry(['--data-dir', one, 'sync', file])
    expect(result.code).toBe(4)
    expect(result.stderr).toMatch(/cannot be synced here: .* restored from a backup/)
    expect(result.stderr).not.toMatch(/damaged|salvage/)
    expect(readFileSync(file).equals(before)).toBe(true)
    expect(tagOf(one, docId)).toBe('4')
  })

  it('a file written before commits carried hashes: the restored folder does not append after the other history', async () => {
    const { one, two, docId, file } = await restoredAfterAnOldFile()
    for (const n of ['3', '4']) ferryOk(['--data-dir', one, 'edit', docId, '--tag', `n=${n}`])
    const before = readFileSync(file)
    const result = ferry(['--data-dir', one, 'sync', file])
    expect(result.code).toBe(4)
    expect(result.stderr).toMatch(/cannot be synced here: .* restored from a backup/)
    expect(readFileSync(file).equals(before)).toBe(true)
    expect(ferry(['--data-dir', two, 'sync', file]).code).toBe(0)
    expect(tagOf(two, docId)).toBe('2')
  })

  it('verify finds a commit whose record hash is not its records\' (such a file would be refused by every holder)', async () => {
    const root = tempDir()
    const [one] = makeDevices(root, 1) as [string]
    ferryOk(['--data-dir', one, 'add', '--lat', '1', '--lon', '1'])
    const good = path.join(root, 'good.ferry')
    const bad = path.join(root, 'bad.ferry')
    await writeWithoutTips(one, good, (store) => new Map([...store.clock()].map(([device, tip]) => [device, tip.hash])))
    await writeWithoutTips(one, bad, (store) => new Map([...store.clock()].map(([device]) => [device, Buffer.alloc(32, 7)])))
    expect(ferry(['--data-dir', one, 'verify', good]).code).toBe(0)
    const result = ferry(['--data-dir', one, 'verify', bad])
    expect(result.code).toBe(4)
    expect(result.stderr).toMatch(/a commit names a record hash the records do not have/)
  })

  it('with equal counts and no hash in the file, a send of photos only states no hash it has not checked', async () => {
    const { root, one, two, docId, file } = await restoredAfterAnOldFile()
    const photo = path.join(root, 'photo.jpg')
    writeFileSync(photo, Buffer.alloc(30_000, 4))
    // Its one new record is number 2, as the file's is: nothing to send but the photo.
    ferryOk(['--data-dir', one, 'add', '--lat', '2', '--lon', '2', '--photo', photo])
    expect(ferry(['--data-dir', one, 'sync', file]).code).toBe(0)
    expect(ferry(['--data-dir', one, 'verify', file]).code).toBe(0)
    expect(ferry(['--data-dir', two, 'sync', file]).code).toBe(0)
    // Its next record would follow its own number 2: refused, the file as it was.
    ferryOk(['--data-dir', one, 'edit', docId, '--tag', 'n=5'])
    const before = readFileSync(file)
    const result = ferry(['--data-dir', one, 'sync', file])
    expect(result.code).toBe(4)
    expect(result.stderr).toMatch(/restored from a backup/)
    expect(readFileSync(file).equals(before)).toBe(true)
  })

  it('a file whose own chain breaks is damaged, for verify and for a computer new to that device, not two histories', async () => {
    const root = tempDir()
    const [one, , three] = makeDevices(root, 3) as [string, string, string]
    const docId = ferryOk(['--data-dir', one, 'add', '--lat', '1', '--lon', '1', '--tag', 'n=1']).trim()
    const backup = path.join(root, 'backup')
    cpSync(one, backup, { recursive: true })
    ferryOk(['--data-dir', one, 'edit', docId, '--tag', 'n=2'])
    for (const n of ['3', '4']) ferryOk(['--data-dir', backup, 'edit', docId, '--tag', `n=${n}`])
    // Records 1 and 2 of the first history, then record 3 of the other: what a restored folder appended on old builds.
    const first = await envelopesOf(one)
    const other = await envelopesOf(backup)
    const file = path.join(root, 'broken.ferry')
    await writeRecords(one, file, [first[0]!, first[1]!, other[2]!])
    const verify = ferry(['--data-dir', one, 'verify', file])
    expect(verify.code).toBe(4)
    expect(verify.stderr).toMatch(/does not continue its device history/)
    const sync = ferry(['--data-dir', three, 'sync', file])
    expect(sync.code).toBe(4)
    expect(sync.stderr).toMatch(/is damaged/)
    expect(sync.stderr).toMatch(/salvage/)
  })
})

/**
 * A sync file as builds before commit tips wrote it: every record of the data folder in one segment, no tips (or
 * the tips given).
 */
async function writeWithoutTips(dataDir: string, file: string, tips?: (store: Store) => Map<string, Buffer>): Promise<void> {
  await writeOneSegment(dataDir, file, (store) => {
    const clock = new Map([...store.clock()].map(([device, tip]) => [device, tip.seq]))
    const records = [...clock].map(([device, seq]) => [...store.envelopes(device, 1, seq)].map((e) => Buffer.from(e)))
    return { records, clock, tips: tips?.(store) }
  })
}

/** Every record of the data folder's own device, in order. */
async function envelopesOf(dataDir: string): Promise<Buffer[]> {
  const store = await Store.open(dataDir)
  try {
    const tip = store.clock().get(store.info.deviceId)!
    return [...store.envelopes(store.info.deviceId, 1, tip.seq)].map((e) => Buffer.from(e))
  } finally {
    await store.close()
  }
}

/** A sync file of one segment holding `envelopes` of the data folder's own device, its clock what they reach. */
async function writeRecords(dataDir: string, file: string, envelopes: Buffer[]): Promise<void> {
  await writeOneSegment(dataDir, file, (store) => ({ records: [envelopes], clock: new Map([[store.info.deviceId, envelopes.length]]) }))
}

/** A sync file of one segment and one commit, in the data folder's project: a records chunk per group given. */
async function writeOneSegment(dataDir: string, file: string, contents: (store: Store) => { records: Buffer[][]; clock: Map<string, number>; tips?: Map<string, Buffer> }): Promise<void> {
  const store = await Store.open(dataDir)
  try {
    const { records, clock, tips } = contents(store)
    const writer = await SegmentWriter.createNew(nodeDisk, file, store.projectSecret, newHeader(store.projectId), { path: file })
    for (const envelopes of records) await writer.add(ChunkKind.records, encodeRecords(envelopes))
    const versions = records.reduce((n, envelopes) => n + envelopes.length, 0)
    await writer.commit({ n: 1, prev: null, clock, ...(tips ? { tips } : {}), blobs: [], totals: { versions, blobs: 0, blobBytes: 0 }, media: 'all', writer: store.info.deviceId, at: new Date().toISOString() })
    await writer.close()
  } finally {
    await store.close()
  }
}
