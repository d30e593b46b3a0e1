import type { Logger } from 'pino'
import type { NoticeMessage, PromptAnswer, PromptMessage, Prompter } from './prompter.js'

/**
 * No desktop notifications (no session bus, no display, or turned off): questions and notices go to the log, and
 * prompts are still answered through `ferry accept` / `ferry dismiss` and the tray.
 */
export class LogPrompter implements Prompter {
  readonly kind = 'none'
  constructor(private readonly log: Logger) {}

  async ask(message: PromptMessage, _onAnswer: (answer: PromptAnswer) => void): Promise<void> {
    this.log.info({ prompt: message.id }, `${message.title} (answer with "ferry accept ${message.id}" or "ferry dismiss ${message.id}")`)
  }

  async withdraw(_id: string): Promise<void> {}

  async notify(message: NoticeMessage): Promise<void> {
    this.log.info(`${message.title}: ${message.body}`)
  }

  async close(): Promise<void> {}
}
