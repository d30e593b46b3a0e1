import { createHash } from 'node:crypto'
import os from 'node:os'
import path from 'node:path'
import type { SyncProgress, SyncReport } from '../merge/types.js'
import type { JobView } from './jobs.js'
import type { Prompt } from './prompts.js'

/**
 * The control channel between the CLI and the running daemon: one JSON object per line over a Unix socket in the
 * data folder (a named pipe on Windows). A request gets zero or more progress lines and then one result or error.
 */
export type Request =
  | { cmd: 'status' }
  | { cmd: 'accept'; id: string }
  | { cmd: 'always'; id: string }
  | { cmd: 'dismiss'; id: string }
  | { cmd: 'sync'; path: string }
  | { cmd: 'create'; path: string }

export type Reply =
  | { type: 'progress'; progress: SyncProgress }
  | { type: 'result'; data: unknown }
  | { type: 'error'; kind: string | null; message: string }

/** What `ferry status --json` prints. */
export interface StatusView {
  running: boolean
  pid: number | null
  dataDir: string
  project: { id: string; name: string } | null
  observations: number | null
  inbox: string | null
  outbox: string | null
  mediaRoots: string[]
  drives: { id: string; label: string; mountPoint: string }[]
  pending: Pick<Prompt, 'id' | 'path' | 'drive' | 'project'>[]
  jobs: JobView[]
  lastSync: { file: string; at: string; report: SyncReport } | null
  paused: boolean
  /** 'starting' until the tray program has answered or given up (a few seconds at most). */
  tray: 'starting' | 'shown' | 'headless'
  notifications: string
  logFile: string | null
}

export function socketPath(dataDir: string, platform = process.platform): string {
  const digest = createHash('sha256').update(path.resolve(dataDir)).digest('hex').slice(0, 16)
  if (platform === 'win32') return `\\\\.\\pipe\\ferry-${digest}`
  const inFolder = path.join(dataDir, 'daemon.sock')
  // Unix socket paths are limited to ~104-108 bytes; a deep data folder uses the temp folder instead.
  return Buffer.byteLength(inFolder) < 100 ? inFolder : path.join(os.tmpdir(), `ferry-${digest}.sock`)
}
