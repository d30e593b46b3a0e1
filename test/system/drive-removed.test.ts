import { rm, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ferry, ferryOk } from './harness/cli.js'
import { startDaemon, type RunningDaemon } from './harness/daemon.js'
import { TestDrives, type TestDrive } from './harness/drives.js'
import { DRIVE_BINARIES, EXFAT_BINARIES, missing, requirePrereqs, skipUnless } from './harness/prereqs.js'
import { Processes } from './harness/processes.js'
import { makeTeam, seenBy, type Team } from './harness/project.js'
import { until } from './harness/until.js'

const prereqs = missing({ root: true, binaries: [...DRIVE_BINARIES, ...EXFAT_BINARIES], files: ['/dev/fuse', '/dev/loop-control'] })

describe.skipIf(skipUnless(prereqs))('a drive pulled out during a sync', () => {
  const procs = new Processes()
  let team: Team
  let drives: TestDrives
  let daemon: RunningDaemon
  let env: NodeJS.ProcessEnv

  /** A teammate's file with ~200 MB of photos, so the sync takes long enough to be interrupted. */
  async function bigFileOn(drive: TestDrive): Promise<void> {
    const photos: string[] = []
    for (let i = 0; i < 5; i++) {
      const photo = path.join(team.dir, `photo-${drive.label}-${i}.jpg`)
      await writeFile(photo, Buffer.alloc(40_000_000, `${drive.label}${i}`))
      photos.push('--photo', photo)
    }
    await ferryOk(['--data-dir', team.mate, 'add', '--lat', '9', '--lon', '9', '--tag', `seen-by=photos-${drive.label}`, ...photos], env)
    const staging = await drives.prepare(drive)
    await ferryOk(['--data-dir', team.mate, 'create', path.join(staging, 'big.ferry')], env)
    await drives.unplug(drive)
  }

  const syncStarted = (file: string) => until(() => daemon.output().includes(`syncing ${file}`), `the sync of ${file} to start`, 30_000, 5)

  beforeAll(async () => {
    requirePrereqs(prereqs)
    team = await makeTeam()
    env = { ...team.env }
    delete env.DISPLAY
    delete env.DBUS_SESSION_BUS_ADDRESS
    drives = new TestDrives(team.dir, team.mediaRoot)
    daemon = await startDaemon(procs, { dataDir: team.home, env, inbox: team.inbox, mediaRoot: team.mediaRoot })
  })

  afterAll(async () => {
    await daemon?.stop()
    await drives?.cleanup()
    await procs.stopAll()
    if (team) await rm(team.dir, { recursive: true, force: true })
  })

  /** A drive with a big sync file on it, plugged, its prompt accepted, and the sync under way when this returns. */
  async function acceptedSyncUnderway(label: string, fs: 'exfat' | 'ext4') {
    const drive = await drives.create(label, fs, 1024)
    await bigFileOn(drive)
    await drives.plug(drive)
    const file = path.join(drive.mountPoint, 'big.ferry')
    const prompt = await until(async () => (await daemon.status()).pending.find((p) => p.path === file), 'the prompt')
    const before = await seenBy(team.home, env)
    const accept = ferry(['--data-dir', team.home, 'accept', prompt.id], env)
    await syncStarted(file)
    return { drive, file, before, accept }
  }

  it('exFAT stick yanked (its FUSE process killed): the job fails in plain words, the daemon runs on, nothing is lost', async () => {
    const { drive, file, before, accept } = await acceptedSyncUnderway('YANKED', 'exfat')
    const fuse = await drives.fusePid(drive)
    expect(fuse).not.toBeNull()
    process.kill(fuse!, 'SIGKILL')

    const result = await accept
    expect(result.code).toBe(5)
    // ENOTCONN reads as "stopped answering (was it removed?)"; a request cut off as FUSE dies can surface as another
    // errno, still said plainly with what to do.
    expect(result.stderr).toMatch(/removed|stopped answering|check the drive/)
    expect(result.stderr).toMatch(/Nothing was lost/)
    expect(result.stderr).not.toMatch(/\n\s+at /) // no stack trace
    const status = await daemon.status()
    expect(status.running).toBe(true)
    expect(status.jobs.find((j) => j.path === file)).toMatchObject({ state: 'failed', error: expect.stringMatching(/Nothing was lost/) })
    // This computer still has everything it had; the photos did not half-arrive.
    expect(await seenBy(team.home, env)).toEqual(before)

    // Plugged back in (after the daemon saw it go), the file is intact and syncs.
    await drives.unplug(drive, { lazy: true })
    await until(async () => !(await daemon.status()).drives.some((d) => d.label === 'YANKED'), 'the daemon to see the drive gone')
    await drives.plug(drive)
    expect((await ferry(['--data-dir', team.mate, 'verify', file], env)).code).toBe(0)
    const again = await until(async () => (await daemon.status()).pending.find((p) => p.path === file), 'the prompt after plugging back in')
    expect((await ferry(['--data-dir', team.home, 'accept', again.id], env)).code).toBe(0)
    expect(await seenBy(team.home, env)).toContain('photos-YANKED')
    await drives.unplug(drive)
  })

  it('ext4 stick unmounted mid-sync (lazy unmount): the daemon sees it go, aborts the job cleanly, nothing is lost', async () => {
    const { drive, before, accept } = await acceptedSyncUnderway('PULLED', 'ext4')
    await drives.unplug(drive, { lazy: true })

    const result = await accept
    // The daemon polls the mount table every 250 ms here; a 200 MB merge takes longer, so the abort lands.
    expect(result.code).toBe(5)
    expect(result.stderr.trim()).toBe('ferry: PULLED was removed during the sync. Nothing was lost: plug it back in and sync again.')
    expect(await seenBy(team.home, env)).toEqual(before)
    expect((await daemon.status()).running).toBe(true)
    expect((await ferry(['--data-dir', team.home, 'status'], env)).code).toBe(0)
  })
})
