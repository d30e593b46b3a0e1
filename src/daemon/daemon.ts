import { mkdir } from 'node:fs/promises'
import path from 'node:path'
import type { Logger } from 'pino'
import { FerryError } from '../errors.js'
import type { SyncProgress, SyncReport } from '../merge/types.js'
import { incompleteText } from '../notify/messages.js'
import type { Prompter } from '../notify/prompter.js'
import type { Drive, DriveSource } from '../watchers/drive-source.js'
import { DriveWatcher } from '../watchers/drive-watcher.js'
import { InboxWatcher } from '../watchers/inbox.js'
import type { AlwaysList } from './always.js'
import type { Settings } from './config.js'
import { attachCandidateConsumer, attachDriveConsumer, attachNotifyConsumer } from './consumers.js'
import type { SyncEngine } from './engine.js'
import { EventSource } from './events.js'
import { JobQueue, type JobView } from './jobs.js'
import { PromptList, type Prompt } from './prompts.js'
import type { Request, StatusView } from './protocol.js'
import { fileSignature } from './signature.js'
import { newSyncFilePath } from './targets.js'

export interface DaemonDeps {
  settings: Settings
  engine: SyncEngine
  drives: DriveSource
  prompter: Prompter
  always: AlwaysList
  log: Logger
  /** For status: where the log file is, and whether a tray is shown (set by whoever starts the tray). */
  logFile?: string | null
}

/**
 * The daemon's state and its operations (accept, dismiss, sync, create, pause). Watchers feed the event source;
 * small consumers (consumers.ts) turn events into prompts, jobs and notifications. Platform parts come in as deps,
 * so this runs the same with the real ones and with the fakes in test/daemon.
 */
export class Daemon {
  readonly events: EventSource
  readonly prompts = new PromptList()
  readonly jobs: JobQueue
  /** path → signature of a file already handled, so the same bytes are not offered twice. */
  readonly handled = new Map<string, string>()
  readonly driveWatcher: DriveWatcher
  private inbox: InboxWatcher | null = null
  private lastSync: StatusView['lastSync'] = null
  paused = false
  trayState: StatusView['tray'] = 'headless'

  constructor(readonly deps: DaemonDeps) {
    this.events = new EventSource(deps.log)
    this.jobs = new JobQueue((job, signal, onProgress) => this.runJob(job, signal, onProgress), {
      started: (job) => this.events.emit('job-started', { job }),
      progress: (job) => this.events.emit('job-progress', { job }),
      finished: (job, report) => this.events.emit('job-finished', { job, report }),
      failed: (job, message) => this.events.emit('job-failed', { job, message }),
    })
    this.driveWatcher = new DriveWatcher(
      deps.drives,
      {
        added: (drive) => this.events.emit('drive-added', { drive }),
        removed: (drive) => this.events.emit('drive-removed', { drive }),
      },
      deps.log,
    )
    attachDriveConsumer(this)
    attachCandidateConsumer(this)
    attachNotifyConsumer(this)
    // A file just synced (or that failed) is not offered again as is; unless its drive went away meanwhile, in which
    // case plugging it back in offers it afresh.
    const settle = async (job: JobView) => {
      if (job.drive === null || this.driveOf(job.path)) await this.markHandled(job.path)
    }
    this.events.on('job-finished', async ({ job, report }) => {
      if (job.kind === 'sync') this.lastSync = { file: job.path, at: new Date().toISOString(), report }
      await settle(job)
    })
    this.events.on('job-failed', async ({ job }) => settle(job))
  }

  get engine(): SyncEngine {
    return this.deps.engine
  }

  get log(): Logger {
    return this.deps.log
  }

  async start(): Promise<void> {
    const { settings, log, engine } = this.deps
    await mkdir(settings.inbox, { recursive: true }).catch((err: unknown) => {
      const code = (err as NodeJS.ErrnoException).code
      if (code === 'EEXIST' || code === 'ENOTDIR') throw new FerryError('bad-input', `The inbox ${settings.inbox} is not a folder (a file is in the way). Give a folder with --inbox, or move that file away.`)
      throw err
    })
    this.inbox = new InboxWatcher(
      settings.inbox,
      settings.inboxStableMs,
      {
        isSyncFile: async (file) => (await engine.readHeader(file)) !== null,
        isReady: async (file) => {
          const header = await engine.readHeader(file)
          return header !== null && (header.projectId !== engine.project.id || (await engine.isComplete(file)))
        },
      },
      (file) => this.events.emit('candidate', { path: file, drive: null }),
      log,
      (file) => this.withdrawPrompt(file),
      (file) => this.events.emit('notice', incompleteText(file)),
    )
    await this.driveWatcher.start()
    await this.inbox.start()
    log.info(
      { dataDir: engine.dataDir, project: engine.project, inbox: settings.inbox, outbox: settings.outbox, mediaRoots: settings.mediaRoots },
      `Ferry is watching drives under ${settings.mediaRoots.join(', ') || '(removable drives)'} and the inbox ${settings.inbox} for project "${engine.project.name}"`,
    )
  }

  /** Stops watching, aborts the running job at a safe point, drops queued ones. The engine is closed by the caller. */
  async stop(): Promise<void> {
    await this.driveWatcher.stop()
    await this.inbox?.stop()
    await this.jobs.close()
  }

  async markHandled(file: string): Promise<void> {
    const signature = await fileSignature(file)
    if (signature) this.handled.set(file, signature)
  }

  /** A prompt whose file has gone (deleted from the inbox) goes too: there is nothing left to sync. */
  private withdrawPrompt(file: string): void {
    const prompt = this.prompts.forPath(file)
    if (!prompt) return
    this.prompts.remove(prompt.id)
    this.log.info({ file }, `${path.basename(file)} left the inbox: its prompt is withdrawn`)
    this.events.emit('prompt-removed', { prompt, reason: 'withdrawn' })
  }

  private prompt(id: string): Prompt {
    const prompt = this.prompts.get(id)
    if (!prompt) throw new FerryError('bad-input', `There is no pending prompt "${id}". Run "ferry status" to see the pending ones.`)
    return prompt
  }

  /** Sync now; the prompt leaves the list as the job is queued. */
  accept(id: string): Promise<SyncReport> {
    const prompt = this.prompt(id)
    this.prompts.remove(id)
    this.events.emit('prompt-removed', { prompt, reason: 'accepted' })
    return this.enqueue('sync', prompt.path, prompt.drive).done
  }

  /** "Always for this drive": remember the drive, then sync. */
  async always(id: string): Promise<SyncReport> {
    const prompt = this.prompt(id)
    if (prompt.driveId) await this.deps.always.add(prompt.driveId)
    return this.accept(id)
  }

  /** Not now: the file is not offered again until it changes or its drive comes back. */
  async dismiss(id: string): Promise<void> {
    const prompt = this.prompt(id)
    this.prompts.remove(id)
    await this.markHandled(prompt.path)
    this.events.emit('prompt-removed', { prompt, reason: 'dismissed' })
  }

  enqueue(kind: 'sync' | 'create', file: string, drive: string | null): { view: JobView; done: Promise<SyncReport> } {
    const queued = this.jobs.enqueue(kind, file, drive)
    if (queued.view.state === 'queued') this.events.emit('job-queued', { job: queued.view })
    return queued
  }

  /** `ferry sync FILE` while the daemon runs. A pending prompt for the same file is answered by it. */
  syncFile(file: string, onProgress?: (p: SyncProgress) => void): Promise<SyncReport> {
    const prompt = this.prompts.forPath(file)
    if (prompt) {
      this.prompts.remove(prompt.id)
      this.events.emit('prompt-removed', { prompt, reason: 'accepted' })
    }
    return this.withProgress(this.enqueue('sync', file, this.driveOf(file)?.label ?? null), onProgress)
  }

  /** A new sync file at `file` (a drive entry, Save as…, or the outbox). */
  async createFile(file: string, onProgress?: (p: SyncProgress) => void): Promise<SyncReport> {
    return this.withProgress(this.enqueue('create', path.resolve(file), this.driveOf(file)?.label ?? null), onProgress)
  }

  /** The tray's "Create sync file" → a drive: <drive>/ferry/<project>-<date>.ferry. */
  async createOnDrive(drive: Drive): Promise<SyncReport> {
    const folder = path.join(drive.mountPoint, 'ferry')
    return this.createFile(await newSyncFilePath(folder, this.engine.project.name))
  }

  async createInOutbox(): Promise<SyncReport> {
    return this.createFile(await newSyncFilePath(this.deps.settings.outbox, this.engine.project.name))
  }

  setPaused(paused: boolean): void {
    if (this.paused === paused) return
    this.paused = paused
    this.log.info(paused ? 'watching paused' : 'watching resumed')
    this.events.emit('paused-changed', { paused })
    // Resuming looks at what is there now, as if every drive had just been plugged in.
    if (paused) return
    for (const drive of this.driveWatcher.drives()) this.events.emit('drive-added', { drive })
    void this.inbox?.rescan()
  }

  driveOf(file: string): Drive | undefined {
    return this.driveWatcher.drives().find((d) => file.startsWith(d.mountPoint.endsWith(path.sep) ? d.mountPoint : d.mountPoint + path.sep))
  }

  status(): StatusView {
    const { engine, settings } = this.deps
    let observations: number | null = null
    try {
      observations = engine.observations()
    } catch (err) {
      this.log.debug({ err }, 'could not count observations')
    }
    return {
      running: true,
      pid: process.pid,
      dataDir: engine.dataDir,
      project: engine.project,
      observations,
      inbox: settings.inbox,
      outbox: settings.outbox,
      mediaRoots: settings.mediaRoots,
      drives: this.driveWatcher.drives(),
      pending: this.prompts.all().map(({ id, path: p, drive, project }) => ({ id, path: p, drive, project })),
      jobs: this.jobs.jobs(),
      lastSync: this.lastSync,
      paused: this.paused,
      tray: this.trayState,
      notifications: this.deps.prompter.kind,
      logFile: this.deps.logFile ?? null,
    }
  }

  /** One control-channel request. */
  async handle(request: Request, onProgress: (p: SyncProgress) => void): Promise<unknown> {
    switch (request.cmd) {
      case 'status':
        return this.status()
      // With the prompt's drive, so the command line can say when it is safe to remove, as the notification does.
      case 'accept':
      case 'always': {
        const { drive } = this.prompt(request.id)
        return { ...(await (request.cmd === 'accept' ? this.accept(request.id) : this.always(request.id))), drive }
      }
      case 'dismiss':
        await this.dismiss(request.id)
        return { dismissed: request.id }
      case 'sync':
        return this.syncFile(request.path, onProgress)
      case 'create':
        return this.createFile(request.path, onProgress)
      default:
        throw new FerryError('bad-input', 'Ferry\'s daemon did not understand that request (is the CLI the same version?).')
    }
  }

  private withProgress(queued: { view: JobView; done: Promise<SyncReport> }, onProgress?: (p: SyncProgress) => void): Promise<SyncReport> {
    if (!onProgress) return queued.done
    const off = this.events.on('job-progress', ({ job }) => {
      if (job.id === queued.view.id && job.progress) onProgress(job.progress)
    })
    return queued.done.finally(off)
  }

  private async runJob(job: JobView, signal: AbortSignal, onProgress: (p: SyncProgress) => void): Promise<SyncReport> {
    if (job.kind === 'create') {
      await mkdir(path.dirname(job.path), { recursive: true }).catch(() => undefined)
      return this.engine.create(job.path, { media: this.deps.settings.media, signal, onProgress })
    }
    // A file in the inbox was offered once it ended at a complete commit, but a copy that paused there may have
    // gone on since: a sync now would take its unfinished end for an interrupted write and cut it off (the copy
    // then writes on into what the sync appended). Looked at again as the job starts.
    if (this.inInbox(job.path) && !(await this.engine.isComplete(job.path))) {
      throw new FerryError('bad-input', `${path.basename(job.path)} is still arriving in the inbox. Nothing was changed; Ferry asks again once all of it is there.`)
    }
    return this.engine.sync(job.path, { signal, onProgress })
  }

  private inInbox(file: string): boolean {
    const relative = path.relative(this.deps.settings.inbox, file)
    return relative !== '' && !relative.startsWith('..') && !path.isAbsolute(relative)
  }
}
