import type { Command } from 'commander'
import { readLockPid, isAlive } from '../daemon/lock.js'
import type { Request, StatusView } from '../daemon/protocol.js'
import { FerryError } from '../errors.js'
import type { SyncReport } from '../merge/types.js'
import { resolveDataDir } from '../paths.js'
import { Store } from '../store/store.js'

interface GlobalOpts {
  dataDir?: string
  json?: boolean
  debug?: boolean
}

const collect = (value: string, previous: string[]) => [...previous, value]

/** daemon, status, accept, dismiss and service install|uninstall. */
export function registerDaemonCommands(program: Command): void {
  program
    .command('daemon')
    .description('watch drives and the inbox folder, and sync when asked (runs until stopped)')
    .option('--no-tray', 'run without a tray icon')
    .option('--inbox <dir>', 'folder watched for sync files (default ~/Ferry/Inbox)')
    .option('--media-root <dir>', 'folder under which drives are mounted (repeatable; replaces the defaults)', collect, [])
    .action(async (opts: { tray: boolean; inbox?: string; mediaRoot: string[] }, cmd: Command) => {
      const global = cmd.optsWithGlobals<GlobalOpts>()
      const { runDaemon } = await import('../daemon/main.js')
      await runDaemon({ dataDir: resolveDataDir(global.dataDir), tray: opts.tray, inbox: opts.inbox, mediaRoot: opts.mediaRoot, debug: global.debug })
    })

  program
    .command('status')
    .description("the running daemon's state and pending prompts")
    .action(async (_opts: unknown, cmd: Command) => {
      const global = cmd.optsWithGlobals<GlobalOpts>()
      const status = await daemonStatus(resolveDataDir(global.dataDir))
      console.log(global.json ? JSON.stringify(status, null, 2) : describeStatus(status))
    })

  program
    .command('accept')
    .argument('<id>', 'prompt id shown by "ferry status"')
    .description('sync a pending file now')
    .option('--always', 'and from now on sync this drive unasked whenever it is plugged in (the tray\'s "Always for this drive")')
    .action(async (id: string, opts: { always?: boolean }, cmd: Command) => {
      const global = cmd.optsWithGlobals<GlobalOpts>()
      const report = (await ask(resolveDataDir(global.dataDir), { cmd: opts.always ? 'always' : 'accept', id })) as SyncReport & { drive?: string | null }
      const removable = report.drive ? ` The file is saved: it is safe to remove ${report.drive}.` : ''
      console.log(global.json ? JSON.stringify(report) : `Received ${report.received.versions}, sent ${report.sent.versions} — ${report.file} is up to date.${removable}`)
    })

  program
    .command('dismiss')
    .argument('<id>', 'prompt id shown by "ferry status"')
    .description('answer "Not now" to a pending file')
    .action(async (id: string, _opts: unknown, cmd: Command) => {
      const global = cmd.optsWithGlobals<GlobalOpts>()
      await ask(resolveDataDir(global.dataDir), { cmd: 'dismiss', id })
      console.log(global.json ? JSON.stringify({ dismissed: id }) : `Dismissed ${id}.`)
    })

  const service = program.command('service').description('start the daemon at login')
  for (const action of ['install', 'uninstall'] as const) {
    service
      .command(action)
      .description(action === 'install' ? 'start Ferry at every login (systemd user unit and autostart, launchd, or the Startup folder)' : 'stop starting Ferry at login')
      .action(async (_opts: unknown, cmd: Command) => {
        const global = cmd.optsWithGlobals<GlobalOpts>()
        const { installService, uninstallService } = await import('../daemon/service/install.js')
        const result = action === 'install' ? await installService(resolveDataDir(global.dataDir)) : await uninstallService()
        console.log(global.json ? JSON.stringify(result) : [...result.notes, ...result.files.map((f) => `  ${f}`)].join('\n'))
      })
  }
}

// The daemon client (node:net, node:readline) loads only in the commands that talk to a daemon.
const daemonClient = () => import('../daemon/client.js')

async function ask(dataDir: string, request: Request): Promise<unknown> {
  const { requestDaemon, NoDaemon } = await daemonClient()
  try {
    return await requestDaemon(dataDir, request)
  } catch (err) {
    if (err instanceof NoDaemon) throw new FerryError('bad-input', `Ferry's daemon is not running for ${dataDir}. Start it with "ferry daemon".`)
    throw err
  }
}

/** The daemon's status, or what can be known without it (reads never wait for the daemon). */
export async function daemonStatus(dataDir: string): Promise<StatusView> {
  const { requestDaemon, NoDaemon } = await daemonClient()
  try {
    return (await requestDaemon(dataDir, { cmd: 'status' })) as StatusView
  } catch (err) {
    if (!(err instanceof NoDaemon)) throw err
  }
  let project: StatusView['project'] = null
  let observations: number | null = null
  try {
    const store = await Store.open(dataDir)
    try {
      project = { id: store.info.projectId, name: store.info.projectName }
      observations = store.countObservations()
    } finally {
      await store.close()
    }
  } catch {
    // No project yet (or the folder is unreadable): say so through project: null.
  }
  const pid = await readLockPid(dataDir)
  return {
    running: false,
    pid: pid !== null && isAlive(pid) ? pid : null,
    dataDir,
    project,
    observations,
    inbox: null,
    outbox: null,
    mediaRoots: [],
    drives: [],
    pending: [],
    jobs: [],
    lastSync: null,
    paused: false,
    tray: 'headless',
    notifications: 'none',
    logFile: null,
  }
}

function describeStatus(s: StatusView): string {
  if (!s.running) {
    const project = s.project ? `Project: ${s.project.name} (${observationCount(s.observations)})` : 'No project in this data folder yet.'
    return `Ferry's daemon is not running for ${s.dataDir}. Start it with "ferry daemon".\n${project}`
  }
  const lines = [
    `Ferry's daemon is running (process ${s.pid}) for ${s.project?.name ?? '?'} — ${observationCount(s.observations)}${s.paused ? ', paused' : ''}.`,
    `Inbox: ${s.inbox}`,
    `Drives: ${s.drives.length ? s.drives.map((d) => `${d.label} (${d.mountPoint})`).join(', ') : 'none'}`,
  ]
  if (s.pending.length) {
    lines.push('Waiting for an answer:')
    for (const p of s.pending) lines.push(`  ${p.id}  ${p.path}${p.drive ? ` on ${p.drive}` : ''}   (ferry accept ${p.id} | ferry dismiss ${p.id})`)
  }
  for (const j of s.jobs.filter((j) => j.state === 'running' || j.state === 'queued')) lines.push(`${j.state === 'running' ? 'Syncing' : 'Queued'}: ${j.path}`)
  if (s.lastSync) lines.push(`Last sync: ${s.lastSync.file} at ${s.lastSync.at} (received ${s.lastSync.report.received.versions}, sent ${s.lastSync.report.sent.versions})`)
  return lines.join('\n')
}

function observationCount(n: number | null): string {
  return n === null ? '? observations' : `${n} observation${n === 1 ? '' : 's'}`
}
