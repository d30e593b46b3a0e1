import { describe, expect, it } from 'vitest'
import { launchdPlist, systemdUnit, windowsStartupCmd, xdgAutostartEntry } from '../../src/daemon/service/units.js'

const command = ['/usr/bin/node', '/opt/ferry/dist/cli.js', 'daemon', '--data-dir', '/home/ana/My Data']

describe('login service files', () => {
  it('systemd user unit starts the daemon, restarts on failure but not on bad settings', () => {
    const unit = systemdUnit(command)
    expect(unit).toContain('ExecStart=/usr/bin/node /opt/ferry/dist/cli.js daemon --data-dir "/home/ana/My Data"')
    expect(unit).toContain('RestartPreventExitStatus=2')
    expect(unit).toContain('WantedBy=default.target')
  })

  it('XDG autostart, launchd and Startup-folder entries run the same command', () => {
    expect(xdgAutostartEntry(command)).toContain('Exec=/usr/bin/node /opt/ferry/dist/cli.js daemon --data-dir "/home/ana/My Data"')
    const plist = launchdPlist('org.ferry.daemon', command, '/tmp/l.log')
    expect(plist).toContain('<string>/home/ana/My Data</string>')
    expect(plist).toContain('<key>RunAtLoad</key><true/>')
    expect(windowsStartupCmd(command)).toContain('start "Ferry" /min "/usr/bin/node" "/opt/ferry/dist/cli.js" "daemon"')
  })
})
