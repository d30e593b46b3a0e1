import { execFile } from 'node:child_process'
import { existsSync } from 'node:fs'
import { chmod, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { capture, Processes } from './processes.js'
import { until } from './until.js'

export interface Desktop {
  env: NodeJS.ProcessEnv
  display: string
  /** Lines "id<TAB>summary<TAB>body" of every notification dunst showed, written by a dunst rule script. */
  notifications(): Promise<{ id: string; summary: string; body: string }[]>
  dunstctl(...args: string[]): Promise<string>
  xdotool(...args: string[]): Promise<string>
  screenshot(file: string): Promise<void>
}

export function run(cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env): Promise<string> {
  return new Promise((resolve, reject) =>
    execFile(cmd, args, { env, timeout: 30_000 }, (err, stdout, stderr) => (err ? reject(new Error(`${cmd} ${args.join(' ')}: ${stderr || err.message}`)) : resolve(stdout))),
  )
}

function freeDisplay(): number {
  for (let n = 90 + Math.floor(Math.random() * 100); ; n++) if (!existsSync(`/tmp/.X${n}-lock`) && !existsSync(`/tmp/.X11-unix/X${n}`)) return n
}

/**
 * A private desktop: Xvfb, a session D-Bus of our own, dunst as the notification server (optionally trayer as the
 * tray host). All started through `procs`, so the caller stops them by PID in afterAll.
 */
export async function startDesktop(procs: Processes, dir: string, opts: { tray?: boolean } = {}): Promise<Desktop> {
  const n = freeDisplay()
  const display = `:${n}`
  const xvfb = procs.start('Xvfb', 'Xvfb', [display, '-nolisten', 'tcp', '-screen', '0', '1024x768x24'])
  const xvfbOut = capture(xvfb)
  await until(() => existsSync(`/tmp/.X11-unix/X${n}`), `Xvfb on ${display} (${xvfbOut.text()})`)

  const busSocket = path.join(dir, 'bus')
  const bus = procs.start('dbus-daemon', 'dbus-daemon', ['--session', '--nofork', '--nopidfile', `--address=unix:path=${busSocket}`])
  const busOut = capture(bus)
  await until(() => existsSync(busSocket), `dbus-daemon (${busOut.text()})`)
  const env: NodeJS.ProcessEnv = { ...process.env, DISPLAY: display, DBUS_SESSION_BUS_ADDRESS: `unix:path=${busSocket}` }

  // dunst runs log-notification.sh for each notification (the bus call is the truth; this records it), and its
  // context menu "dmenu" picks the "Always" action, so `dunstctl context` answers "Always for this drive".
  const log = path.join(dir, 'notifications.tsv')
  const logScript = path.join(dir, 'log-notification.sh')
  await writeFile(logScript, `#!/bin/sh\nprintf '%s\\t%s\\t%s\\n' "$DUNST_ID" "$2" "$3" | tr -d '\\r' >> '${log}'\n`)
  const pickAlways = path.join(dir, 'pick-always.sh')
  await writeFile(pickAlways, `#!/bin/sh\ngrep -m1 'Always'\n`)
  await chmod(logScript, 0o755)
  await chmod(pickAlways, 0o755)
  const dunstrc = path.join(dir, 'dunstrc')
  await writeFile(
    dunstrc,
    `[global]\n    dmenu = ${pickAlways}\n    sort = no\n    stack_duplicates = false\n    show_indicators = yes\n\n[record_all]\n    summary = "*"\n    script = ${logScript}\n`,
  )
  const dunst = procs.start('dunst', 'dunst', ['-config', dunstrc], { env })
  const dunstOut = capture(dunst)
  await until(() => run('dunstctl', ['is-paused'], env).then(() => true), `dunst on the private bus (${dunstOut.text()})`)

  if (opts.tray) {
    procs.start('trayer', 'trayer', ['--edge', 'top', '--align', 'right', '--widthtype', 'request', '--height', '32', '--SetDockType', 'true', '--expand', 'true', '--transparent', 'false', '--tint', '0xffffff'], { env })
    await until(() => run('xdotool', ['search', '--class', 'trayer'], env).then((o) => o.trim() !== ''), 'trayer window')
  }

  return {
    env,
    display,
    notifications: async () => {
      const { readFile } = await import('node:fs/promises')
      const text = await readFile(log, 'utf8').catch(() => '')
      return text
        .split('\n')
        .filter(Boolean)
        .map((line) => {
          const [id = '', summary = '', body = ''] = line.split('\t')
          return { id, summary, body }
        })
    },
    dunstctl: (...args) => run('dunstctl', args, env),
    xdotool: (...args) => run('xdotool', args, env),
    screenshot: (file) => run('import', ['-window', 'root', file], env).then(() => undefined),
  }
}
