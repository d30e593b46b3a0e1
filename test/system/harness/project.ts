import { mkdir, mkdtemp } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { ferryOk } from './cli.js'

export interface Team {
  dir: string
  /** This computer: the daemon's data folder. */
  home: string
  /** A teammate's computer, whose sync files arrive on drives and in the inbox. */
  mate: string
  env: NodeJS.ProcessEnv
  inbox: string
  mediaRoot: string
}

/**
 * Two data folders in one project, each with an observation of its own, and per-test config/log/outbox folders so
 * nothing touches the real user's. Returns the environment for the CLI and the daemon.
 */
export async function makeTeam(baseEnv: NodeJS.ProcessEnv = process.env): Promise<Team> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'ferry-sys-'))
  const env: NodeJS.ProcessEnv = {
    ...baseEnv,
    FERRY_CONFIG_DIR: path.join(dir, 'config'),
    FERRY_LOG_DIR: path.join(dir, 'log'),
    FERRY_OUTBOX: path.join(dir, 'outbox'),
    FERRY_INBOX_STABLE_MS: '300',
    FERRY_POLL_MS: '250',
  }
  const home = path.join(dir, 'home')
  const mate = path.join(dir, 'mate')
  const inbox = path.join(dir, 'inbox')
  const mediaRoot = path.join(dir, 'media')
  await mkdir(mediaRoot, { recursive: true })
  await ferryOk(['--data-dir', home, 'init', '--name', 'River monitors'], env)
  await ferryOk(['--data-dir', home, 'add', '--lat', '1.5', '--lon', '2.5', '--tag', 'seen-by=home'], env)
  await ferryOk(['--data-dir', home, 'project', 'export', path.join(dir, 'team.ferryproject')], env)
  await ferryOk(['--data-dir', mate, 'init', '--join', path.join(dir, 'team.ferryproject')], env)
  await ferryOk(['--data-dir', mate, 'add', '--lat', '3.5', '--lon', '4.5', '--tag', 'seen-by=mate'], env)
  return { dir, home, mate, env, inbox, mediaRoot }
}

/** Tags of the current observations in a data folder, sorted: what a person checks after a sync. */
export async function seenBy(dataDir: string, env: NodeJS.ProcessEnv): Promise<string[]> {
  const docs = JSON.parse(await ferryOk(['--data-dir', dataDir, '--json', 'list'], env)) as { tags?: Record<string, unknown> }[]
  return docs.map((d) => String(d.tags?.['seen-by'])).sort()
}
