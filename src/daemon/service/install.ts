import { execFile } from 'node:child_process'
import { mkdir, rm, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { logDir } from '../../paths.js'
import { launchdPlist, systemdUnit, windowsStartupCmd, xdgAutostartEntry } from './units.js'

const LAUNCHD_LABEL = 'org.ferry.daemon'

export interface ServiceResult {
  files: string[]
  /** Plain sentences for the person: what was done, and what could not be (systemctl missing, …). */
  notes: string[]
}

/** node + this CLI script + daemon --data-dir DIR: the command a login starts. */
export function daemonCommand(dataDir: string): string[] {
  const script = path.resolve(process.argv[1] ?? 'dist/cli.js')
  return [process.execPath, script, 'daemon', '--data-dir', dataDir]
}

function servicePaths(platform = process.platform, home = os.homedir()) {
  const xdgConfig = process.env.XDG_CONFIG_HOME || path.join(home, '.config')
  const appData = process.env.APPDATA || path.join(home, 'AppData', 'Roaming')
  return {
    systemd: path.join(xdgConfig, 'systemd', 'user', 'ferry.service'),
    autostart: path.join(xdgConfig, 'autostart', 'ferry.desktop'),
    launchd: path.join(home, 'Library', 'LaunchAgents', `${LAUNCHD_LABEL}.plist`),
    startup: path.join(appData, 'Microsoft', 'Windows', 'Start Menu', 'Programs', 'Startup', 'Ferry.cmd'),
    platform,
  }
}

function run(cmd: string, args: string[]): Promise<string | null> {
  return new Promise((resolve) => execFile(cmd, args, { timeout: 15_000 }, (err, _out, stderr) => resolve(err ? (stderr.trim() || err.message) : null)))
}

async function put(file: string, text: string): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true })
  await writeFile(file, text)
}

export async function installService(dataDir: string): Promise<ServiceResult> {
  const p = servicePaths()
  const command = daemonCommand(dataDir)
  if (p.platform === 'darwin') {
    await put(p.launchd, launchdPlist(LAUNCHD_LABEL, command, path.join(logDir(), 'launchd.log')))
    const err = await run('launchctl', ['load', '-w', p.launchd])
    return { files: [p.launchd], notes: [err ? `Installed; it starts at next login (launchctl said: ${err}).` : 'Installed and started; it starts at every login.'] }
  }
  if (p.platform === 'win32') {
    await put(p.startup, windowsStartupCmd(command))
    return { files: [p.startup], notes: ['Installed; Ferry starts at your next login.'] }
  }
  await put(p.systemd, systemdUnit(command))
  await put(p.autostart, xdgAutostartEntry(command))
  const reload = await run('systemctl', ['--user', 'daemon-reload'])
  const enable = reload ?? (await run('systemctl', ['--user', 'enable', '--now', 'ferry.service']))
  return {
    files: [p.systemd, p.autostart],
    notes: [enable ? `Installed; it starts at next login (systemctl --user is not available here: ${enable}).` : 'Installed and started with systemd; it starts at every login.'],
  }
}

export async function uninstallService(): Promise<ServiceResult> {
  const p = servicePaths()
  if (p.platform === 'darwin') {
    await run('launchctl', ['unload', '-w', p.launchd])
    await rm(p.launchd, { force: true })
    return { files: [p.launchd], notes: ['Removed; Ferry no longer starts at login.'] }
  }
  if (p.platform === 'win32') {
    await rm(p.startup, { force: true })
    return { files: [p.startup], notes: ['Removed; Ferry no longer starts at login.'] }
  }
  await run('systemctl', ['--user', 'disable', '--now', 'ferry.service'])
  await rm(p.systemd, { force: true })
  await rm(p.autostart, { force: true })
  await run('systemctl', ['--user', 'daemon-reload'])
  return { files: [p.systemd, p.autostart], notes: ['Removed; Ferry no longer starts at login.'] }
}
