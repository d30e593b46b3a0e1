import { mkdir, readdir, rm } from 'node:fs/promises'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ferry, ferryJson, ferryOk } from './harness/cli.js'
import { startDaemon, type RunningDaemon } from './harness/daemon.js'
import { startDesktop, type Desktop } from './harness/desktop.js'
import { TestDrives } from './harness/drives.js'
import { DESKTOP_BINARIES, DRIVE_BINARIES, missing, requirePrereqs, skipUnless } from './harness/prereqs.js'
import { Processes } from './harness/processes.js'
import { makeTeam, seenBy, type Team } from './harness/project.js'
import { until } from './harness/until.js'

const ARTIFACTS = path.resolve('test-artifacts')
const prereqs = missing({
  root: true,
  binaries: [...DESKTOP_BINARIES, ...DRIVE_BINARIES, 'trayer', 'xdotool', 'import', 'xwininfo'],
  files: ['/dev/loop-control'],
  libraries: ['libgtk-3.so.0', 'libayatana-appindicator3.so.1'],
})

describe.skipIf(skipUnless(prereqs))('tray icon (systray2 in trayer on Xvfb)', () => {
  const procs = new Processes()
  let team: Team
  let desktop: Desktop
  let drives: TestDrives
  let daemon: RunningDaemon

  /** Visible top-level windows of the tray program bigger than the icon: its open menus. */
  async function openMenus(): Promise<number> {
    const tree = await desktop.xdotool('search', '--onlyvisible', '--classname', 'tray_linux_release').catch(() => '')
    let count = 0
    for (const id of tree.split('\n').filter(Boolean)) {
      const geometry = await desktop.xdotool('getwindowgeometry', id).catch(() => '')
      const size = /Geometry: (\d+)x(\d+)/.exec(geometry)
      if (size && Number(size[1]) > 60 && Number(size[2]) > 40) count++
    }
    return count
  }

  beforeAll(async () => {
    requirePrereqs(prereqs)
    await mkdir(ARTIFACTS, { recursive: true })
    team = await makeTeam()
    desktop = await startDesktop(procs, team.dir, { tray: true })
    team.env = { ...team.env, ...desktop.env }
    drives = new TestDrives(team.dir, team.mediaRoot)
    daemon = await startDaemon(procs, { dataDir: team.home, env: team.env, inbox: team.inbox, mediaRoot: team.mediaRoot, tray: true })
    const tray = await until(async () => ((await daemon.status()).tray !== 'starting' ? (await daemon.status()).tray : null), 'the tray to start or give up')
    expect(tray, daemon.output()).toBe('shown')
  })

  afterAll(async () => {
    await daemon?.stop()
    await drives?.cleanup()
    await procs.stopAll()
    if (team) await rm(team.dir, { recursive: true, force: true })
  })

  it('click the icon → Create sync file → the drive: writes a valid sync file on the drive (menu screenshot kept)', async () => {
    const drive = await drives.create('TRAYKEY', 'ext4')
    await drives.plug(drive)
    await until(async () => (await daemon.status()).drives.some((d) => d.label === 'TRAYKEY'), 'the daemon to see TRAYKEY')

    // The icon is the tray program's window docked inside trayer's panel.
    const icon = (await until(() => desktop.xdotool('search', '--class', 'systray').then((o) => o.trim().split('\n')[0]), 'the tray icon window'))!
    await desktop.xdotool('mousemove', '--window', icon, '10', '10', 'click', '1')
    await until(async () => (await openMenus()) >= 1, 'the tray menu to open')
    // Keyboard from here: the first sensitive entry is "Create sync file"; Right opens its submenu on the first drive.
    await desktop.xdotool('mousemove', '0', '700')
    await desktop.xdotool('key', 'Down')
    await desktop.xdotool('key', 'Right')
    await until(async () => (await openMenus()) >= 2, 'the "Create sync file" submenu')
    await desktop.screenshot(path.join(ARTIFACTS, 'tray-create-sync-file-menu.png'))
    await desktop.xdotool('key', 'Return')

    const folder = path.join(drive.mountPoint, 'ferry')
    const name = await until(async () => (await readdir(folder).catch(() => [] as string[])).find((f) => f.endsWith('.ferry')), 'a sync file on TRAYKEY')
    expect(name).toMatch(/^river-monitors-\d{4}-\d{2}-\d{2}\.ferry$/)
    const file = path.join(folder, name)
    await until(async () => (await daemon.status()).jobs.some((j) => j.path === file && j.state === 'done'), 'the create job to finish')
    // A teammate can use it: it verifies and brings this computer's observation.
    expect((await ferry(['--data-dir', team.mate, 'verify', file], team.env)).code).toBe(0)
    await ferryOk(['--data-dir', team.mate, 'sync', file], team.env)
    expect(await seenBy(team.mate, team.env)).toEqual(['home', 'mate'])
    await drives.unplug(drive)
  })

  it('"Sync with <file>" for a pending prompt, and "Create sync file → In the outbox folder"', async () => {
    const drive = await drives.create('PENDINGKEY', 'ext4')
    const staging = await drives.prepare(drive)
    await ferryOk(['--data-dir', team.mate, 'create', path.join(staging, 'field.ferry')], team.env)
    await drives.unplug(drive)
    await drives.plug(drive)
    const file = path.join(drive.mountPoint, 'field.ferry')
    await until(async () => (await daemon.status()).pending.some((p) => p.path === file), 'the prompt')

    const icon = (await until(() => desktop.xdotool('search', '--class', 'systray').then((o) => o.trim().split('\n')[0]), 'the tray icon window'))!
    await desktop.xdotool('mousemove', '--window', icon, '10', '10', 'click', '1')
    await until(async () => (await openMenus()) >= 1, 'the tray menu to open')
    await desktop.xdotool('mousemove', '0', '700')
    // Create sync file, then the first pending file.
    await desktop.xdotool('key', 'Down', 'Down')
    await desktop.screenshot(path.join(ARTIFACTS, 'tray-sync-with-pending.png'))
    await desktop.xdotool('key', 'Return')
    await until(async () => (await daemon.status()).jobs.some((j) => j.path === file && j.state === 'done'), 'the sync from the tray')
    expect(await seenBy(team.home, team.env)).toEqual(['home', 'mate'])
    expect((await daemon.status()).pending).toEqual([])

    await desktop.xdotool('mousemove', '--window', icon, '10', '10', 'click', '1')
    await until(async () => (await openMenus()) >= 1, 'the tray menu to open again')
    await desktop.xdotool('mousemove', '0', '700')
    // Create sync file → (On PENDINGKEY, Save as…,) In the outbox folder.
    await desktop.xdotool('key', 'Down', 'Right')
    await until(async () => (await openMenus()) >= 2, 'the submenu')
    await desktop.xdotool('key', 'Down', 'Down', 'Return')
    const outbox = team.env.FERRY_OUTBOX!
    const created = await until(async () => (await readdir(outbox).catch(() => [] as string[])).find((f) => f.endsWith('.ferry')), 'a sync file in the outbox')
    await until(async () => (await daemon.status()).jobs.some((j) => j.path === path.join(outbox, created) && j.state === 'done'), 'the create job')
    expect((await ferry(['--data-dir', team.mate, 'verify', path.join(outbox, created)], team.env)).code).toBe(0)
    await drives.unplug(drive)
  })

  it('SIGTERM: exit 0 within seconds, no tray program left, the database opens afterwards', async () => {
    const trayPid = Number(/"trayPid":(\d+)/.exec(daemon.output())?.[1])
    expect(trayPid).toBeGreaterThan(0)
    const started = Date.now()
    expect(await daemon.stop()).toBe(0)
    expect(Date.now() - started).toBeLessThan(10_000)
    expect(() => process.kill(trayPid, 0)).toThrow()
    const status = await ferryJson<{ running: boolean; project: { name: string } | null }>(['--data-dir', team.home, 'status'], team.env)
    expect(status).toMatchObject({ running: false, project: { name: 'River monitors' } })
    expect(await seenBy(team.home, team.env)).toEqual(['home', 'mate'])
  })
})
