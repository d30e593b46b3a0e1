import { rm } from 'node:fs/promises'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ferry, ferryJson } from './harness/cli.js'
import { startDaemon } from './harness/daemon.js'
import { Processes } from './harness/processes.js'
import { makeTeam, type Team } from './harness/project.js'
import { until } from './harness/until.js'

// Needs nothing but the built CLI: no display, no bus, no root.
describe('headless daemon (no display, no bus)', () => {
  const procs = new Processes()
  let team: Team
  let env: NodeJS.ProcessEnv

  beforeAll(async () => {
    team = await makeTeam()
    env = { ...team.env }
    delete env.DISPLAY
    delete env.WAYLAND_DISPLAY
    delete env.DBUS_SESSION_BUS_ADDRESS
  })

  afterAll(async () => {
    await procs.stopAll()
    await rm(team.dir, { recursive: true, force: true })
  })

  it('starts on a fresh machine, creates a project, says where things are, answers status, stops on SIGTERM with exit 0', async () => {
    const fresh = path.join(team.dir, 'fresh-data')
    // The tray is wanted (no --no-tray) but there is no display: it must run without one and say so.
    const daemon = await startDaemon(procs, { dataDir: fresh, env, inbox: team.inbox, mediaRoot: team.mediaRoot, tray: true })
    const status = await until(async () => ((await daemon.status()).tray !== 'starting' ? daemon.status() : null), 'the tray to give up')
    expect(status).toMatchObject({ running: true, pid: daemon.child.pid, tray: 'headless', notifications: 'none', pending: [], inbox: team.inbox })
    expect(status.project?.name).toBe('Field data')
    expect(status.project?.id).toMatch(/^[0-9a-f]{16,}$/)
    expect(daemon.output()).toMatch(/created a new project/)
    expect(daemon.output()).toMatch(/running without a tray icon/)
    expect(daemon.output()).toContain(team.inbox)

    // Only one daemon per data folder.
    const second = await ferry(['--data-dir', fresh, 'daemon', '--no-tray', '--inbox', team.inbox], env)
    expect(second.code).toBe(2)
    expect(second.stderr).toMatch(/already running/)

    expect(await daemon.stop()).toBe(0)
    // The store was closed cleanly: the CLI opens it, and status says no daemon runs.
    const after = await ferryJson<{ running: boolean; project: { name: string } }>(['--data-dir', fresh, 'status'], env)
    expect(after).toMatchObject({ running: false, project: { name: 'Field data' } })
  })

  it('accept and dismiss say plainly when no daemon runs', async () => {
    const r = await ferry(['--data-dir', team.home, 'accept', 'p1'], env)
    expect(r.code).toBe(2)
    expect(r.stderr).toMatch(/daemon is not running/)
  })
})
