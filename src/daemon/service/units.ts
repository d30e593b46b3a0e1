/**
 * Files that start the daemon at login, one per platform. Pure text builders (tested in test/daemon); install.ts
 * writes them. `command` is the full command line: node, the CLI script, "daemon", and the data folder.
 */

const quoteShell = (arg: string) => (/^[\w@%+=:,./-]+$/.test(arg) ? arg : `"${arg.replace(/(["\\$`])/g, '\\$1')}"`)

export function systemdUnit(command: string[]): string {
  return `[Unit]
Description=Ferry: sync field data with USB drives and the inbox folder
After=graphical-session.target

[Service]
Type=simple
ExecStart=${command.map(quoteShell).join(' ')}
Restart=on-failure
RestartSec=5
# Exit code 2: bad settings or a daemon already running for this data folder; restarting would not help.
RestartPreventExitStatus=2

[Install]
WantedBy=default.target
`
}

/** For desktops without systemd user sessions. A second start exits at once: the data folder's lock is held. */
export function xdgAutostartEntry(command: string[]): string {
  return `[Desktop Entry]
Type=Application
Name=Ferry
Comment=Sync field data with USB drives and the inbox folder
Exec=${command.map(quoteShell).join(' ')}
Icon=drive-removable-media
Terminal=false
X-GNOME-Autostart-enabled=true
NoDisplay=true
`
}

export function launchdPlist(label: string, command: string[], logFile: string): string {
  const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')
  return `<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<plist version="1.0">
<dict>
  <key>Label</key><string>${esc(label)}</string>
  <key>ProgramArguments</key>
  <array>
${command.map((a) => `    <string>${esc(a)}</string>`).join('\n')}
  </array>
  <key>RunAtLoad</key><true/>
  <key>KeepAlive</key><dict><key>SuccessfulExit</key><false/></dict>
  <key>StandardErrorPath</key><string>${esc(logFile)}</string>
</dict>
</plist>
`
}

export function windowsStartupCmd(command: string[]): string {
  const [exe, ...args] = command
  return `@echo off\r\nrem Starts Ferry's daemon at login (installed by "ferry service install").\r\nstart "Ferry" /min "${exe}" ${args.map((a) => `"${a}"`).join(' ')}\r\n`
}
