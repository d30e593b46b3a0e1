import type { Logger } from 'pino'
import type { NoticeMessage, PromptAnswer, PromptMessage, Prompter } from './prompter.js'

interface NotifierModule {
  notify(options: Record<string, unknown>, callback?: (err: Error | null, response: string, metadata?: { activationValue?: string }) => void): void
}

/**
 * macOS and Windows prompts through node-notifier, which reports the chosen action there (it cannot on Linux, where
 * FreedesktopPrompter is used). A notification cannot be taken down once shown: withdraw() only forgets it, so a
 * late click on a withdrawn prompt does nothing.
 */
export class NodeNotifierPrompter implements Prompter {
  readonly kind = 'node-notifier'
  private readonly live = new Set<string>()

  private constructor(
    private readonly notifier: NotifierModule,
    private readonly log: Logger,
  ) {}

  static async load(log: Logger): Promise<NodeNotifierPrompter> {
    const mod = (await import('node-notifier')) as unknown as { default: NotifierModule }
    return new NodeNotifierPrompter(mod.default, log)
  }

  async ask(message: PromptMessage, onAnswer: (answer: PromptAnswer) => void): Promise<void> {
    this.live.add(message.id)
    const actions = ['Sync', 'Not now', ...(message.canAlways ? ['Always for this drive'] : [])]
    this.notifier.notify({ title: message.title, message: message.body, actions, wait: true, timeout: 3600 }, (err, response, metadata) => {
      if (err) return this.log.warn({ err }, 'notification failed')
      if (!this.live.delete(message.id)) return
      const picked = (metadata?.activationValue ?? response ?? '').toLowerCase()
      if (picked.startsWith('always')) onAnswer('always')
      else if (picked === 'sync' || picked === 'activate' || picked === 'contentsclicked') onAnswer('sync')
      else if (picked.startsWith('not now')) onAnswer('not-now')
      else this.live.add(message.id) // closed or timed out: still pending in status and the tray
    })
  }

  async withdraw(id: string): Promise<void> {
    this.live.delete(id)
  }

  async notify(message: NoticeMessage): Promise<void> {
    this.notifier.notify({ title: message.title, message: message.body })
  }

  async close(): Promise<void> {}
}
