import path from 'node:path'
import { FerryError } from '../errors.js'
import { createdText, failedText, otherProjectText, promptText, syncedText } from '../notify/messages.js'
import { scanDrive } from '../watchers/scan.js'
import type { Daemon } from './daemon.js'
import { fileSignature } from './signature.js'

/**
 * The daemon's small consumers, one job each (udiskie style). Each is attached to the event source, whose error
 * boundary keeps one failure from stopping the others.
 */

/** A new drive is scanned for sync files; a removed one takes its prompts and jobs with it. */
export function attachDriveConsumer(daemon: Daemon): void {
  const { events, engine, log } = daemon
  events.on('drive-added', async ({ drive }) => {
    log.info({ drive }, `drive ${drive.label} mounted at ${drive.mountPoint}`)
    if (daemon.paused) return
    const files = await scanDrive(drive.mountPoint, async (file) => (await engine.readHeader(file)) !== null)
    for (const file of files) events.emit('candidate', { path: file, drive })
  })
  events.on('drive-removed', ({ drive }) => {
    log.info({ drive }, `drive ${drive.label} removed`)
    const inside = (file: string) => file.startsWith(drive.mountPoint + path.sep)
    for (const prompt of daemon.prompts.under(drive.mountPoint)) {
      daemon.prompts.remove(prompt.id)
      events.emit('prompt-removed', { prompt, reason: 'withdrawn' })
    }
    daemon.jobs.abortWhere(
      (job) => inside(job.path),
      new FerryError('drive-removed', `${drive.label} was removed during the sync. Nothing was lost: plug it back in and sync again.`),
    )
    // Plugging the drive back in offers its files again, even ones dismissed before.
    for (const file of daemon.handled.keys()) if (inside(file)) daemon.handled.delete(file)
  })
}

/** A candidate becomes a prompt, an unasked sync ("Always for this drive"), or a notice (another project's file). */
export function attachCandidateConsumer(daemon: Daemon): void {
  const { events, engine, log } = daemon
  events.on('candidate', async ({ path: file, drive }) => {
    if (daemon.paused) return
    if (daemon.jobs.jobs().some((j) => j.path === file && (j.state === 'queued' || j.state === 'running'))) return
    if (daemon.prompts.forPath(file)) return
    const signature = await fileSignature(file)
    if (signature === null || daemon.handled.get(file) === signature) return
    const header = await engine.readHeader(file)
    if (!header) return
    if (header.projectId !== engine.project.id) {
      daemon.handled.set(file, signature)
      log.info({ file, projectId: header.projectId }, 'sync file of another project found')
      events.emit('notice', otherProjectText(file, header.projectId))
      return
    }
    // Nothing to take or give (already synced, before a restart say): nothing to ask about.
    if (!(await engine.wouldChange(file))) {
      daemon.handled.set(file, signature)
      log.info({ file }, `${path.basename(file)} and this computer already have the same data: not asking`)
      return
    }
    if (drive && daemon.deps.always.has(drive.id)) {
      log.info({ file, drive: drive.label }, 'drive is set to "Always": syncing without asking')
      daemon.enqueue('sync', file, drive.label)
      return
    }
    const prompt = daemon.prompts.add(file, drive, engine.project.name)
    if (prompt) events.emit('prompt-added', { prompt })
  })
}

/** Prompts and results as desktop notifications; answers come back as accept / always / dismiss. */
export function attachNotifyConsumer(daemon: Daemon): void {
  const { events, deps, log } = daemon
  const prompter = deps.prompter
  events.on('prompt-added', async ({ prompt }) => {
    log.info({ prompt }, `asking: sync ${prompt.path}? (id ${prompt.id})`)
    const text = promptText(prompt.path, prompt.drive, prompt.project)
    await prompter.ask({ id: prompt.id, ...text, canAlways: prompt.driveId !== null }, (answer) => {
      const act = answer === 'sync' ? daemon.accept(prompt.id) : answer === 'always' ? daemon.always(prompt.id) : daemon.dismiss(prompt.id)
      // Failures of the sync itself are reported by job-failed; this only catches a prompt already gone.
      void Promise.resolve(act).catch((err: unknown) => log.debug({ err }, 'prompt answer not applied'))
    })
  })
  // Answered, dismissed or its drive gone: the bubble, if still up, goes too.
  events.on('prompt-removed', async ({ prompt }) => prompter.withdraw(prompt.id))
  events.on('job-started', ({ job }) => {
    log.info({ job: job.id, file: job.path }, `${job.kind === 'create' ? 'creating' : 'syncing'} ${job.path}`)
  })
  events.on('job-finished', async ({ job, report }) => {
    const text = job.kind === 'create' ? createdText(job.path, job.drive, report) : syncedText(job.path, job.drive, report)
    log.info({ job: job.id, file: job.path, report }, text.title)
    await prompter.notify(text)
  })
  events.on('job-failed', async ({ job, message }) => {
    log.warn({ job: job.id, file: job.path }, message)
    await prompter.notify({ ...failedText(job.path, message), urgency: 'critical' })
  })
  events.on('notice', async (notice) => {
    await prompter.notify(notice)
  })
}
