import type { Logger } from 'pino'
import type { Drive } from '../watchers/drive-source.js'
import type { SyncReport } from '../merge/types.js'
import type { JobView } from './jobs.js'
import type { Prompt } from './prompts.js'

/**
 * The daemon's single event source (udiskie style): a fixed list of events, each consumer subscribes to the ones it
 * cares about. Data flows one way: watchers → candidate → prompt → job → result → notification and tray.
 */
export interface DaemonEvents {
  'drive-added': { drive: Drive }
  'drive-removed': { drive: Drive }
  /** A file that looks like a sync file, found on a drive or in the inbox. */
  candidate: { path: string; drive: Drive | null }
  'prompt-added': { prompt: Prompt }
  'prompt-removed': { prompt: Prompt; reason: 'accepted' | 'dismissed' | 'withdrawn' }
  'job-queued': { job: JobView }
  'job-started': { job: JobView }
  'job-progress': { job: JobView }
  'job-finished': { job: JobView; report: SyncReport }
  'job-failed': { job: JobView; message: string }
  /** Something to tell the person that needs no answer (another project's file, the daemon started headless…). */
  notice: { title: string; body: string }
  'paused-changed': { paused: boolean }
}

export type DaemonEventName = keyof DaemonEvents
type Listener<K extends DaemonEventName> = (payload: DaemonEvents[K]) => void | Promise<void>

export class EventSource {
  private readonly listeners = new Map<DaemonEventName, Set<Listener<DaemonEventName>>>()

  constructor(private readonly log: Logger) {}

  on<K extends DaemonEventName>(name: K, listener: Listener<K>): () => void {
    let set = this.listeners.get(name)
    if (!set) this.listeners.set(name, (set = new Set()))
    set.add(listener as Listener<DaemonEventName>)
    return () => set.delete(listener as Listener<DaemonEventName>)
  }

  /**
   * Calls every listener with an error boundary around each: a consumer that throws or rejects is logged and the
   * others still run, so one failure never stops the daemon.
   */
  emit<K extends DaemonEventName>(name: K, payload: DaemonEvents[K]): void {
    for (const listener of this.listeners.get(name) ?? []) {
      try {
        const result = listener(payload)
        if (result instanceof Promise) result.catch((err: unknown) => this.log.error({ err, event: name }, 'event consumer failed'))
      } catch (err) {
        this.log.error({ err, event: name }, 'event consumer failed')
      }
    }
  }
}
