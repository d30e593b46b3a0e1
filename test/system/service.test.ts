import { mkdtemp, readFile, rm } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { CLI, ferryJson } from './harness/cli.js'

// Writes only into a temporary XDG_CONFIG_HOME; needs nothing but the built CLI. (systemctl --user is absent or has
// no unit path there, so nothing is started.)
describe.skipIf(process.platform !== 'linux')('ferry service install | uninstall (Linux)', () => {
  let dir: string
  let env: NodeJS.ProcessEnv

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'ferry-svc-'))
    env = { ...process.env, XDG_CONFIG_HOME: path.join(dir, 'config'), HOME: dir }
  })
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true })
  })

  it('writes a systemd user unit and an XDG autostart entry that run this CLI\'s daemon, and removes them', async () => {
    const data = path.join(dir, 'data')
    const installed = await ferryJson<{ files: string[]; notes: string[] }>(['--data-dir', data, 'service', 'install'], env)
    const unitFile = path.join(dir, 'config', 'systemd', 'user', 'ferry.service')
    const desktopFile = path.join(dir, 'config', 'autostart', 'ferry.desktop')
    expect(installed.files).toEqual([unitFile, desktopFile])
    expect(installed.notes[0]).toMatch(/^Installed/)
    const command = `${process.execPath} ${CLI} daemon --data-dir ${data}`
    expect(await readFile(unitFile, 'utf8')).toContain(`ExecStart=${command}`)
    expect(await readFile(desktopFile, 'utf8')).toContain(`Exec=${command}`)

    await ferryJson(['service', 'uninstall'], env)
    await expect(readFile(unitFile)).rejects.toThrow()
    await expect(readFile(desktopFile)).rejects.toThrow()
  })
})
