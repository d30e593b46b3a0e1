import { readFile } from 'node:fs/promises'
import pino from 'pino'
import type { SyncEngine } from '../../src/daemon/engine.js'
import type { CreateOptions, SyncOptions, SyncReport } from '../../src/merge/types.js'
import type { NoticeMessage, PromptAnswer, PromptMessage, Prompter } from '../../src/notify/prompter.js'
import type { Drive, DriveSource } from '../../src/watchers/drive-source.js'
import { writeFile } from 'node:fs/promises'

/** Test doubles for the daemon's plug-in points. The real ones are tested in the system tests and beside these. */

export const silentLog = pino({ level: 'silent' })

/**
 * A fake sync file is text: "FAKESYNC <projectId>\n" then lines, complete when it ends with "COMMIT\n". Enough to
 * drive the daemon's logic (header, completeness, sync calls) without the real format.
 */
export const fakeSyncFile = (projectId: string, complete = true) => `FAKESYNC ${projectId}\nsome data\n${complete ? 'COMMIT\n' : ''}`

export const report = (file: string, received = 1, sent = 2): SyncReport => ({
  file,
  received: { versions: received, blobs: 0, bytes: 10 },
  sent: { versions: sent, blobs: 0, bytes: 20 },
  ms: 1,
})

export class FakeEngine implements SyncEngine {
  readonly dataDir = '/fake/data'
  readonly project = { id: 'proj-1', name: 'River monitors' }
  readonly synced: string[] = []
  readonly created: string[] = []
  /** When set, sync waits for this before finishing (to observe a running job). */
  gate: Promise<void> | null = null
  failWith: Error | null = null

  observations(): number {
    return 42
  }

  async readHeader(file: string) {
    const text = await readFile(file, 'utf8')
    const match = /^FAKESYNC (\S+)\n/.exec(text)
    return match ? { formatVersion: 1, projectId: match[1]! } : null
  }

  /** How many times completeness was checked, so a test can wait for a check instead of sleeping. */
  completeChecks = 0

  async isComplete(file: string): Promise<boolean> {
    this.completeChecks++
    return (await readFile(file, 'utf8')).endsWith('COMMIT\n')
  }

  /** Files a sync would change nothing for: not offered. */
  readonly upToDate = new Set<string>()

  async wouldChange(file: string): Promise<boolean> {
    return !this.upToDate.has(file)
  }

  async sync(file: string, opts: SyncOptions): Promise<SyncReport> {
    this.synced.push(file)
    opts.onProgress?.({ phase: 'receiving', done: { versions: 1, bytes: 5 }, total: { versions: 2, bytes: 10 } })
    if (this.gate) {
      const aborted = new Promise<never>((_r, reject) => opts.signal?.addEventListener('abort', () => reject(new Error('aborted'))))
      await Promise.race([this.gate, aborted])
    }
    if (this.failWith) throw this.failWith
    return report(file)
  }

  async create(file: string, _opts: CreateOptions): Promise<SyncReport> {
    this.created.push(file)
    await writeFile(file, fakeSyncFile(this.project.id))
    return report(file, 0, 5)
  }

  async close(): Promise<void> {}
}

export class FakeDriveSource implements DriveSource {
  drives: Drive[] = []
  private onChange: (() => void) | null = null

  async list(): Promise<Drive[]> {
    return [...this.drives]
  }

  watch(onChange: () => void): void {
    this.onChange = onChange
  }

  /** Plug or unplug, then tell the watcher (as a poll tick would). */
  set(drives: Drive[]): void {
    this.drives = drives
    this.onChange?.()
  }

  async stop(): Promise<void> {}
}

export class FakePrompter implements Prompter {
  readonly kind = 'fake'
  readonly asked: { message: PromptMessage; answer: (a: PromptAnswer) => void }[] = []
  readonly withdrawn: string[] = []
  readonly notices: NoticeMessage[] = []

  async ask(message: PromptMessage, onAnswer: (answer: PromptAnswer) => void): Promise<void> {
    this.asked.push({ message, answer: onAnswer })
  }

  async withdraw(id: string): Promise<void> {
    this.withdrawn.push(id)
  }

  async notify(message: NoticeMessage): Promise<void> {
    this.notices.push(message)
  }

  async close(): Promise<void> {}
}

/** Polls until check() returns a truthy value (no fixed sleeps in tests). */
export async function until<T>(check: () => T | Promise<T>, what: string, timeoutMs = 10_000): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await check()
    if (value) return value as NonNullable<T>
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 20))
  }
}
