/**
 * How the daemon asks and tells the person. One implementation per platform family (freedesktop D-Bus on Linux,
 * node-notifier on macOS/Windows), one that only logs (no bus, notifications off), and a fake in test/daemon.
 */
export type PromptAnswer = 'sync' | 'not-now' | 'always'

export interface PromptMessage {
  /** The daemon's prompt id; withdraw() takes the same id. */
  id: string
  title: string
  body: string
  /** Offer "Always for this drive" (files on a drive, not the inbox). */
  canAlways: boolean
}

export interface NoticeMessage {
  title: string
  body: string
  urgency?: 'normal' | 'critical'
}

export interface Prompter {
  /** Short name for status and logs ("freedesktop", "node-notifier", "none"). */
  readonly kind: string
  /** Shows a question; onAnswer is called at most once, when the person picks an action. */
  ask(message: PromptMessage, onAnswer: (answer: PromptAnswer) => void): Promise<void>
  /** Takes a question down (drive removed, answered elsewhere). */
  withdraw(id: string): Promise<void>
  notify(message: NoticeMessage): Promise<void>
  close(): Promise<void>
}
