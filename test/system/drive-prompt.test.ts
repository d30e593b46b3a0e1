import { readFile, rm } from 'node:fs/promises'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ferry, ferryJson, ferryOk } from './harness/cli.js'
import { startDaemon, type RunningDaemon } from './harness/daemon.js'
import { startDesktop, type Desktop } from './harness/desktop.js'
import { TestDrives, type TestDrive } from './harness/drives.js'
import { DESKTOP_BINARIES, DRIVE_BINARIES, EXFAT_BINARIES, missing, requirePrereqs, skipUnless } from './harness/prereqs.js'
import { Processes } from './harness/processes.js'
import { makeTeam, seenBy, type Team } from './harness/project.js'
import { until } from './harness/until.js'

const prereqs = missing({ root: true, binaries: [...DESKTOP_BINARIES, ...DRIVE_BINARIES, ...EXFAT_BINARIES], files: ['/dev/fuse', '/dev/loop-control'] })

describe.skipIf(skipUnless(prereqs))('plugging in a USB drive (ext4 and exFAT loop images, dunst on a private bus)', () => {
  const procs = new Processes()
  let team: Team
  let desktop: Desktop
  let drives: TestDrives
  let daemon: RunningDaemon

  /** Puts a sync file made by the teammate on the drive (mounted outside the media root, so the daemon is not told). */
  async function withMateFile(drive: TestDrive, name: string): Promise<void> {
    const staging = await drives.prepare(drive)
    await ferryOk(['--data-dir', team.mate, 'create', path.join(staging, name)], team.env)
    await drives.unplug(drive)
  }

  const notified = (text: string) => until(async () => (await desktop.notifications()).find((n) => `${n.summary} ${n.body}`.includes(text)), `a notification saying "${text}"`)

  beforeAll(async () => {
    requirePrereqs(prereqs)
    team = await makeTeam()
    desktop = await startDesktop(procs, team.dir)
    team.env = { ...team.env, ...desktop.env }
    drives = new TestDrives(team.dir, team.mediaRoot)
    daemon = await startDaemon(procs, { dataDir: team.home, env: team.env, inbox: team.inbox, mediaRoot: team.mediaRoot })
    expect((await daemon.status()).notifications).toBe('freedesktop')
  })

  afterAll(async () => {
    // Daemon first (it may hold files on the drives), then the drives, then the desktop.
    await daemon?.stop()
    await drives?.cleanup()
    await procs.stopAll()
    if (team) await rm(team.dir, { recursive: true, force: true })
  })

  it('prompts with a notification naming the file, lists it in status, and syncs both ways on the notification action', async () => {
    const drive = await drives.create('KINGSTON', 'ext4')
    await withMateFile(drive, 'field.ferry')
    await desktop.dunstctl('close-all')
    await drives.plug(drive)

    const prompt = await notified('Sync field.ferry on KINGSTON with River monitors?')
    const pending = await until(async () => (await daemon.status()).pending, 'a pending prompt')
    expect(pending).toEqual([{ id: expect.any(String), path: path.join(drive.mountPoint, 'field.ferry'), drive: 'KINGSTON', project: 'River monitors' }])
    expect(prompt.summary).toBe('Sync field.ferry on KINGSTON with River monitors?')
    // "Always for this drive" will follow the filesystem's UUID (read with blkid here: no udev), not only its name.
    expect((await daemon.status()).drives.find((d) => d.label === 'KINGSTON')?.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/)

    // The notification's default action (a click on it) is Sync.
    await desktop.dunstctl('action', '0')
    await notified('Received 1, sent 1 — safe to remove KINGSTON')
    expect(await seenBy(team.home, team.env)).toEqual(['home', 'mate'])
    expect((await daemon.status()).pending).toEqual([])

    // The file on the drive now carries this computer's observation to the teammate.
    const file = path.join(drive.mountPoint, 'field.ferry')
    expect((await ferry(['--data-dir', team.mate, 'verify', file], team.env)).code).toBe(0)
    await ferryOk(['--data-dir', team.mate, 'sync', file], team.env)
    expect(await seenBy(team.mate, team.env)).toEqual(['home', 'mate'])

    await drives.unplug(drive)
  })

  it('unplugging withdraws the prompt; "ferry accept" syncs an exFAT (FUSE) drive', async () => {
    const drive = await drives.create('FIELDSTICK', 'exfat')
    // Something new from the teammate: a file with nothing to exchange is not asked about.
    await ferryOk(['--data-dir', team.mate, 'add', '--lat', '5', '--lon', '6', '--tag', 'seen-by=mate-again'], team.env)
    await withMateFile(drive, 'team.ferry')
    await drives.plug(drive)
    await until(async () => (await daemon.status()).pending.some((p) => p.drive === 'FIELDSTICK'), 'a prompt for FIELDSTICK')
    await drives.unplug(drive)
    await until(async () => (await daemon.status()).pending.length === 0, 'the prompt withdrawn after unplugging')

    await drives.plug(drive)
    const prompt = await until(async () => (await daemon.status()).pending.find((p) => p.drive === 'FIELDSTICK'), 'a prompt again')
    const report = await ferryJson<{ received: { versions: number }; drive: string }>(['--data-dir', team.home, 'accept', prompt.id], team.env)
    expect(report.received.versions).toBe(1)
    expect(report.drive).toBe('FIELDSTICK')
    expect(await seenBy(team.home, team.env)).toEqual(['home', 'mate', 'mate-again'])
    await notified('safe to remove FIELDSTICK')
    await drives.unplug(drive)
  })

  it('"Always for this drive" syncs the next time the drive is plugged in, unasked', async () => {
    const drive = await drives.create('ALWAYSKEY', 'ext4')
    await ferryOk(['--data-dir', team.mate, 'add', '--lat', '7', '--lon', '7', '--tag', 'seen-by=mate-before-always'], team.env)
    await withMateFile(drive, 'always.ferry')
    await desktop.dunstctl('close-all')
    await drives.plug(drive)
    await notified('Sync always.ferry on ALWAYSKEY')
    // The context menu lists the actions; the test's dmenu picks "Always for this drive".
    await desktop.dunstctl('context')
    await notified('safe to remove ALWAYSKEY')
    await drives.unplug(drive)

    await ferryOk(['--data-dir', team.mate, 'add', '--lat', '7', '--lon', '8', '--tag', 'seen-by=mate-always'], team.env)
    const staging = await drives.prepare(drive)
    await ferryOk(['--data-dir', team.mate, 'sync', path.join(staging, 'always.ferry')], team.env)
    await drives.unplug(drive)
    const before = (await desktop.notifications()).length
    await drives.plug(drive)
    await until(async () => (await seenBy(team.home, team.env)).includes('mate-always'), 'the unasked sync')
    const since = (await desktop.notifications()).slice(before)
    expect(since.some((n) => n.summary.startsWith('Sync always.ferry'))).toBe(false)
    await until(async () => (await desktop.notifications()).slice(before).find((n) => n.summary.includes('safe to remove ALWAYSKEY')), '"safe to remove" after the unasked sync')
    await drives.unplug(drive)
  })

  it('a file with nothing to exchange (this computer already synced it) is not asked about', async () => {
    const drive = await drives.create('SYNCEDKEY', 'ext4')
    const staging = await drives.prepare(drive)
    await ferryOk(['--data-dir', team.home, 'create', path.join(staging, 'ours.ferry')], team.env)
    await drives.unplug(drive)
    await drives.plug(drive)
    await until(async () => (await daemon.status()).drives.some((d) => d.label === 'SYNCEDKEY'), 'the drive seen')
    const log = (await daemon.status()).logFile!
    await until(async () => (await readFile(log, 'utf8')).includes('ours.ferry and this computer already have the same data: not asking'), 'the file looked at')
    expect((await daemon.status()).pending).toEqual([])
    await drives.unplug(drive)
  })

  it("another project's file gets a notification saying so, not a prompt", async () => {
    const strangers = path.join(team.dir, 'strangers')
    await ferryOk(['--data-dir', strangers, 'init', '--name', 'Other team'], team.env)
    const drive = await drives.create('STRANGER', 'ext4')
    const staging = await drives.prepare(drive)
    await ferryOk(['--data-dir', strangers, 'create', path.join(staging, 'theirs.ferry')], team.env)
    await drives.unplug(drive)
    await drives.plug(drive)
    await notified('theirs.ferry belongs to another project')
    expect((await daemon.status()).pending).toEqual([])
    await drives.unplug(drive)
  })
})
