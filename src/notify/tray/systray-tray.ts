import type { ChildProcess } from 'node:child_process'
import { chmod } from 'node:fs/promises'
import { createRequire } from 'node:module'
import path from 'node:path'
import type { Logger } from 'pino'
import type * as Systray2 from 'systray2'
import type { ClickEvent, MenuItem } from 'systray2'
import { trayIcon } from './icons.js'
import { applyView, buildMenu, type MenuEntry, type TrayMenu } from './menu.js'
import type { Tray, TrayActions, TrayView } from './tray.js'

const READY_TIMEOUT_MS = 8000
// systray2 is CommonJS with exports.default: seen from ESM, the class is module.exports.default.
type SysTrayClass = typeof Systray2.default.default
type SysTrayType = InstanceType<SysTrayClass>

const SEPARATOR: MenuItem = { title: '<SEPARATOR>', tooltip: '', enabled: true }

/**
 * The tray icon through systray2, with the pitfalls seen on real machines handled: its binaries ship without the
 * execute bit (chmod 0755 first); ready() never settles when the binary exits (no display, missing GTK), so it is
 * raced against the exit and a timeout; kill() exits our process unless given false.
 */
export class SystrayTray implements Tray {
  private exited = false
  private stopping = false

  private constructor(
    private readonly tray: SysTrayType,
    private readonly menu: TrayMenu,
    private readonly root: { icon: string; title: string; tooltip: string; items: MenuItem[] },
    private readonly log: Logger,
  ) {}

  /** Starts the tray, or rejects with the reason it cannot be shown (the daemon then runs headless). */
  static async start(actions: TrayActions, view: TrayView, log: Logger, onGone: () => void): Promise<SystrayTray> {
    if (process.platform === 'linux' && !process.env.DISPLAY && !process.env.WAYLAND_DISPLAY) throw new Error('no display (DISPLAY is not set)')
    const require = createRequire(import.meta.url)
    const mod = require('systray2') as { default: SysTrayClass }
    const SysTray = mod.default
    await makeBinariesExecutable(require)
    const menu = buildMenu(actions)
    applyView(menu, view)
    const root = { icon: trayIcon(view.state), title: '', tooltip: view.tooltip, items: menu.top.map((e) => e ?? SEPARATOR) as MenuItem[] }
    const tray = new SysTray({ menu: root, debug: false, copyDir: false })
    const self = new SystrayTray(tray, menu, root, log)
    let timer: NodeJS.Timeout | undefined
    const timeout = new Promise<never>((_r, reject) => (timer = setTimeout(() => reject(new Error('the tray did not start in time')), READY_TIMEOUT_MS)))
    timeout.catch(() => undefined)
    // systray2 spawns its program asynchronously (after locating and chmod-ing it): wait for the child to exist,
    // then watch the child itself, since ready() never settles when it exits.
    let exited: Promise<never>
    try {
      const child = await Promise.race([waitForChild(tray), timeout])
      exited = new Promise<never>((_resolve, reject) => {
        child.once('exit', (code, signal) => {
          self.exited = true
          reject(new Error(`the tray program exited (code ${code}, signal ${signal})`))
        })
        child.once('error', (err) => reject(err))
      })
      exited.catch(() => undefined)
      await Promise.race([tray.ready(), exited, timeout])
    } catch (err) {
      await self.stop()
      throw err
    } finally {
      clearTimeout(timer)
    }
    // After a good start, the tray program going away (display closed) leaves the daemon running headless.
    exited.catch((err: Error) => {
      if (self.stopping) return
      log.warn({ reason: err.message }, 'the tray icon went away; Ferry keeps running without it')
      onGone()
    })
    await tray.onClick((event: ClickEvent) => {
      const entry = event.item as unknown as MenuEntry
      try {
        entry.click?.()
      } catch (err) {
        log.error({ err }, 'tray action failed')
      }
    })
    return self
  }

  get pid(): number | undefined {
    return this.tray.process?.pid
  }

  update(view: TrayView): void {
    if (this.exited) return
    const changed = applyView(this.menu, view)
    const icon = trayIcon(view.state)
    const send = (p: Promise<unknown>) => p.catch((err: unknown) => this.log.debug({ err }, 'tray update failed'))
    if (icon !== this.root.icon || view.tooltip !== this.root.tooltip) {
      this.root.icon = icon
      this.root.tooltip = view.tooltip
      void send(this.tray.sendAction({ type: 'update-menu', menu: this.root }))
    }
    for (const entry of changed) void send(this.tray.sendAction({ type: 'update-item', item: entry as unknown as MenuItem }))
  }

  async stop(): Promise<void> {
    this.stopping = true
    if (this.exited) return
    const child = this.tray.process
    let timer: NodeJS.Timeout | undefined
    const gone = new Promise<void>((resolve) => (timer = setTimeout(resolve, 3000)))
    // kill(false): ask the tray program to exit without exiting this process; if it does not, end it by PID.
    await Promise.race([this.tray.kill(false).catch(() => undefined), gone])
    clearTimeout(timer)
    if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
    this.exited = true
  }
}

async function waitForChild(tray: SysTrayType): Promise<ChildProcess> {
  for (;;) {
    if (tray.process) return tray.process
    await new Promise((r) => setTimeout(r, 10))
  }
}

async function makeBinariesExecutable(require: NodeRequire): Promise<void> {
  const dir = path.join(path.dirname(require.resolve('systray2')), 'traybin')
  for (const name of ['tray_linux_release', 'tray_darwin_release']) {
    await chmod(path.join(dir, name), 0o755).catch(() => undefined)
  }
}
