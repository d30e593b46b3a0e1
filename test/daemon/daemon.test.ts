import { appendFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { AlwaysList } from '../../src/daemon/always.js'
import type { Settings } from '../../src/daemon/config.js'
import { Daemon } from '../../src/daemon/daemon.js'
import { FerryError } from '../../src/errors.js'
import type { Drive } from '../../src/watchers/drive-source.js'
import { FakeDriveSource, FakeEngine, FakePrompter, fakeSyncFile, silentLog, until } from './fakes.js'

let root: string
let engine: FakeEngine
let drives: FakeDriveSource
let prompter: FakePrompter
let daemon: Daemon
let kingston: Drive

async function makeDrive(label: string, files: Record<string, string>): Promise<Drive> {
  const mountPoint = path.join(root, 'media', label)
  for (const [name, text] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(mountPoint, name)), { recursive: true })
    await writeFile(path.join(mountPoint, name), text)
  }
  await mkdir(mountPoint, { recursive: true })
  return { id: `uuid-${label}`, label, mountPoint }
}

beforeEach(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'ferry-daemon-'))
  engine = new FakeEngine()
  drives = new FakeDriveSource()
  prompter = new FakePrompter()
  const settings: Settings = {
    projectName: 'River monitors',
    inbox: path.join(root, 'inbox'),
    outbox: path.join(root, 'outbox'),
    mediaRoots: [path.join(root, 'media')],
    tray: false,
    notifications: false,
    pollMs: 1000,
    inboxStableMs: 50,
    media: 'all',
    logLevel: 'silent' as never,
    logMaxBytes: 1024,
    logKeep: 1,
  }
  const always = new AlwaysList(path.join(root, 'always.json'))
  await always.load()
  daemon = new Daemon({ settings, engine, drives, prompter, always, log: silentLog })
  await daemon.start()
  kingston = await makeDrive('KINGSTON', {
    'field.ferry': fakeSyncFile('proj-1'),
    'ferry/team.ferry': fakeSyncFile('proj-1'),
    'photo.jpg': 'not a sync file',
    'other.ferry': fakeSyncFile('proj-OTHER'),
  })
})

afterEach(async () => {
  await daemon.stop()
  await rm(root, { recursive: true, force: true })
})

describe('Daemon with a drive', () => {
  it('prompts for each sync file on a new drive (top level and ferry/), by content, not name', async () => {
    drives.set([kingston])
    await until(() => daemon.status().pending.length === 2, 'two prompts')
    const pending = daemon.status().pending
    expect(pending.map((p) => path.basename(p.path)).sort()).toEqual(['field.ferry', 'team.ferry'])
    expect(pending[0]).toMatchObject({ drive: 'KINGSTON', project: 'River monitors' })
    expect(prompter.asked.map((a) => a.message.title)).toContain('Sync field.ferry on KINGSTON with River monitors?')
  })

  it('does not ask about a file a sync would change nothing for (already synced, before a restart say)', async () => {
    const synced = path.join(kingston.mountPoint, 'field.ferry')
    engine.upToDate.add(synced)
    drives.set([kingston])
    await until(() => daemon.status().pending.length === 1, 'one prompt')
    await until(() => daemon.handled.has(synced), 'the up-to-date file looked at and set aside')
    expect(daemon.status().pending.map((p) => path.basename(p.path))).toEqual(['team.ferry'])
  })

  it("names another project's file in a notice and never prompts for it", async () => {
    drives.set([kingston])
    await until(() => prompter.notices.some((n) => n.title === 'other.ferry belongs to another project'), 'notice')
    expect(daemon.status().pending.some((p) => p.path.endsWith('other.ferry'))).toBe(false)
  })

  it('accepting syncs the file and says "safe to remove" only after the sync returned', async () => {
    drives.set([kingston])
    const prompt = await until(() => daemon.status().pending.find((p) => p.path.endsWith('field.ferry')), 'prompt')
    const report = await daemon.accept(prompt.id)
    expect(report.file).toBe(prompt.path)
    expect(engine.synced).toEqual([prompt.path])
    expect(prompter.notices.map((n) => n.title)).toContain('Received 1, sent 2 — safe to remove KINGSTON')
    expect(daemon.status().pending.some((p) => p.id === prompt.id)).toBe(false)
    expect(daemon.status().lastSync?.file).toBe(prompt.path)
  })

  it('answers from the notification: Sync, Not now, Always for this drive', async () => {
    drives.set([kingston])
    await until(() => prompter.asked.length === 2, 'two questions')
    const [first, second] = prompter.asked
    second!.answer('not-now')
    await until(() => daemon.status().pending.length === 1, 'dismissed one')
    first!.answer('always')
    await until(() => engine.synced.length === 1, 'sync after Always')
    // Next time the drive is plugged in its files sync unasked.
    drives.set([])
    await until(() => daemon.status().drives.length === 0, 'drive gone')
    const askedBefore = prompter.asked.length
    drives.set([kingston])
    await until(() => engine.synced.length === 3, 'both files synced unasked')
    expect(prompter.asked.length).toBe(askedBefore)
  })

  it('"Always for this drive" from the command line (ferry accept ID --always), as from the tray', async () => {
    drives.set([kingston])
    const prompt = await until(() => daemon.status().pending[0], 'a prompt')
    const result = await daemon.handle({ cmd: 'always', id: prompt.id }, () => undefined)
    // With its drive, so `ferry accept` can say when it is safe to remove it.
    expect(result).toMatchObject({ file: prompt.path, drive: 'KINGSTON' })
    expect(engine.synced).toEqual([prompt.path])
    expect(daemon.deps.always.has(kingston.id)).toBe(true)
  })

  it('removing the drive withdraws its prompts', async () => {
    drives.set([kingston])
    await until(() => daemon.status().pending.length === 2, 'prompts')
    const ids = daemon.status().pending.map((p) => p.id)
    drives.set([])
    await until(() => daemon.status().pending.length === 0, 'withdrawn')
    expect(prompter.withdrawn.sort()).toEqual(ids.sort())
  })

  it('removing the drive mid-sync fails the job in plain words and the daemon keeps working', async () => {
    let open!: () => void
    engine.gate = new Promise<void>((r) => (open = r))
    drives.set([kingston])
    const prompt = await until(() => daemon.status().pending.find((p) => p.path.endsWith('field.ferry')), 'prompt')
    const done = daemon.accept(prompt.id)
    await until(() => daemon.status().jobs.some((j) => j.state === 'running'), 'job running')
    drives.set([])
    await expect(done).rejects.toMatchObject({ kind: 'drive-removed' })
    expect(prompter.notices.find((n) => n.title === 'Could not sync field.ferry')?.body).toMatch(/KINGSTON was removed during the sync/)
    engine.gate = null
    open()
    drives.set([kingston])
    const again = await until(() => daemon.status().pending.find((p) => p.path.endsWith('field.ferry')), 'prompt again')
    await expect(daemon.accept(again.id)).resolves.toMatchObject({ file: again.path })
  })

  it('a failing merge is reported and does not stop the daemon', async () => {
    engine.failWith = new FerryError('damaged', 'field.ferry is damaged: Ferry cannot read it. Ask for a new copy.')
    drives.set([kingston])
    const prompt = await until(() => daemon.status().pending[0], 'prompt')
    await expect(daemon.accept(prompt.id)).rejects.toThrow(/damaged/)
    expect(prompter.notices.some((n) => n.body.includes('Ask for a new copy'))).toBe(true)
    expect(daemon.status().running).toBe(true)
  })

  it('unknown prompt ids get a plain error', async () => {
    expect(() => daemon.accept('p999')).toThrow('There is no pending prompt "p999"')
  })

  it('Create sync file on a drive writes <drive>/ferry/<project>-<date>.ferry', async () => {
    drives.set([kingston])
    await until(() => daemon.status().drives.length === 1, 'drive')
    const report = await daemon.createOnDrive(kingston)
    expect(path.dirname(report.file)).toBe(path.join(kingston.mountPoint, 'ferry'))
    expect(path.basename(report.file)).toMatch(/^river-monitors-\d{4}-\d{2}-\d{2}\.ferry$/)
    expect(prompter.notices.map((n) => n.title)).toContain(`Created ${path.basename(report.file)} — safe to remove KINGSTON`)
  })
})

describe('Daemon inbox', () => {
  it('offers a file copied in pieces only once it is complete, and only once', async () => {
    const file = path.join(root, 'inbox', 'from-email.ferry')
    await writeFile(file, fakeSyncFile('proj-1', false))
    await appendFile(file, 'more data\n')
    // Stable but incomplete: looked at, and not offered.
    await until(() => engine.completeChecks >= 1, 'the completeness check')
    expect(daemon.status().pending).toEqual([])
    await appendFile(file, 'COMMIT\n')
    const prompt = await until(() => daemon.status().pending[0], 'inbox prompt')
    expect(prompt).toMatchObject({ path: file, drive: null })
    expect(prompter.asked[0]!.message.title).toBe('Sync from-email.ferry in the inbox with River monitors?')
    await daemon.accept(prompt.id)
    expect(prompter.notices.map((n) => n.title)).toContain('Received 1, sent 2 — from-email.ferry is ready')
    expect(daemon.status().pending).toEqual([])
  })
})

describe('Daemon inbox: a copy that goes on after it was offered', () => {
  it('is not synced while it is incomplete again; it is offered again once complete', async () => {
    const file = path.join(root, 'inbox', 'paused-copy.ferry')
    await writeFile(file, fakeSyncFile('proj-1'))
    const prompt = await until(() => daemon.status().pending[0], 'inbox prompt')
    // The copy had paused at a commit; it goes on before the prompt is answered.
    await appendFile(file, 'the rest, still arriving\n')
    await expect(daemon.accept(prompt.id)).rejects.toThrow(/paused-copy\.ferry is still arriving in the inbox\. Nothing was changed/)
    expect(engine.synced).toEqual([])
    await appendFile(file, 'COMMIT\n')
    const again = await until(() => daemon.status().pending[0], 'offered again')
    await daemon.accept(again.id)
    expect(engine.synced).toEqual([file])
  })
})

describe('Daemon inbox: a copy that stopped before its end', () => {
  it('is reported once, as incomplete, and never offered', async () => {
    const file = path.join(root, 'inbox', 'cut-short.ferry')
    await writeFile(file, fakeSyncFile('proj-1', false))
    // 60 stable waits of 50 ms: three seconds without a change.
    const notice = await until(() => prompter.notices.find((n) => n.title === 'cut-short.ferry in the inbox is incomplete'), 'the notice', 10_000)
    expect(notice.body).toMatch(/stopped arriving before its end/)
    expect(daemon.status().pending).toEqual([])
    expect(prompter.notices.filter((n) => n.title.startsWith('cut-short.ferry')).length).toBe(1)
  })
})

describe('Daemon inbox: a file that leaves the inbox', () => {
  it('takes its prompt with it', async () => {
    const file = path.join(root, 'inbox', 'deleted.ferry')
    await writeFile(file, fakeSyncFile('proj-1'))
    await until(() => daemon.status().pending[0], 'inbox prompt')
    await rm(file)
    await until(() => daemon.status().pending.length === 0, 'the prompt withdrawn')
    expect(prompter.withdrawn.length).toBeGreaterThan(0)
  })
})

describe('Daemon pause', () => {
  it('while paused nothing is offered; resuming offers what arrived meanwhile', async () => {
    daemon.setPaused(true)
    drives.set([kingston])
    const file = path.join(root, 'inbox', 'while-paused.ferry')
    await writeFile(file, fakeSyncFile('proj-1'))
    await until(() => daemon.status().drives.length === 1, 'the drive seen while paused')
    expect(daemon.status()).toMatchObject({ paused: true, pending: [] })
    daemon.setPaused(false)
    await until(() => daemon.status().pending.length === 3, 'two drive prompts and one inbox prompt')
    expect(daemon.status().pending.map((p) => path.basename(p.path)).sort()).toEqual(['field.ferry', 'team.ferry', 'while-paused.ferry'])
  })
})
