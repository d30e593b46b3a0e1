import type { Logger } from 'pino'
import { FreedesktopPrompter } from './freedesktop.js'
import { LogPrompter } from './log-prompter.js'
import { NodeNotifierPrompter } from './node-notifier-prompter.js'
import type { Prompter } from './prompter.js'

/** The platform's prompter, or the log-only one (said once in the log) when notifications cannot be shown. */
export async function choosePrompter(enabled: boolean, log: Logger): Promise<Prompter> {
  if (!enabled) {
    log.info('desktop notifications are turned off; prompts are listed by "ferry status" and in the tray')
    return new LogPrompter(log)
  }
  try {
    if (process.platform === 'linux') return await FreedesktopPrompter.connect(log)
    return await NodeNotifierPrompter.load(log)
  } catch (err) {
    log.info({ reason: (err as Error).message }, 'desktop notifications are not available; prompts are listed by "ferry status" and in the tray')
    return new LogPrompter(log)
  }
}
