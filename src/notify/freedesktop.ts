import { sessionBus, Variant, type ClientInterface, type MessageBus } from '@jellybrick/dbus-next'
import type { Logger } from 'pino'
import type { NoticeMessage, PromptAnswer, PromptMessage, Prompter } from './prompter.js'

const SERVICE = 'org.freedesktop.Notifications'
const OBJECT = '/org/freedesktop/Notifications'
const APP = 'Ferry'

/** Action keys sent to the notification server. "default" is what a click on the bubble (or `dunstctl action`) does. */
const ACTIONS: Record<string, PromptAnswer> = { default: 'sync', sync: 'sync', 'not-now': 'not-now', always: 'always' }

interface NotificationsInterface extends ClientInterface {
  Notify(app: string, replaces: number, icon: string, summary: string, body: string, actions: string[], hints: Record<string, Variant>, timeout: number): Promise<number>
  CloseNotification(id: number): Promise<void>
}

/**
 * Linux prompts through the freedesktop notification service over D-Bus: node-notifier cannot report which action
 * was clicked there, the bus can (ActionInvoked).
 */
export class FreedesktopPrompter implements Prompter {
  readonly kind = 'freedesktop'
  /** notification id → prompt id and its answer callback */
  private readonly open = new Map<number, { promptId: string; onAnswer: (a: PromptAnswer) => void }>()

  private constructor(
    private readonly bus: MessageBus,
    private readonly iface: NotificationsInterface,
    private readonly log: Logger,
  ) {
    iface.on('ActionInvoked', (...args: unknown[]) => this.onAction(Number(args[0]), String(args[1])))
    // Closing the bubble is not an answer: the prompt stays pending in status and the tray.
    iface.on('NotificationClosed', (...args: unknown[]) => void this.open.delete(Number(args[0])))
  }

  /** Connects to the session bus; rejects when there is none or no notification server on it. */
  static async connect(log: Logger, timeoutMs = 3000): Promise<FreedesktopPrompter> {
    if (!process.env.DBUS_SESSION_BUS_ADDRESS) throw new Error('no D-Bus session bus (DBUS_SESSION_BUS_ADDRESS is not set)')
    const bus = sessionBus()
    // A bus that goes away later must not crash the daemon: say so and keep running (prompts stay in status).
    ;(bus as unknown as NodeJS.EventEmitter).on('error', (err: unknown) => log.warn({ err }, 'D-Bus connection error'))
    try {
      const connect = async () => {
        const object = await bus.getProxyObject(SERVICE, OBJECT)
        return object.getInterface<NotificationsInterface>(SERVICE)
      }
      const iface = await withTimeout(connect(), timeoutMs, 'the notification service did not answer')
      return new FreedesktopPrompter(bus, iface, log)
    } catch (err) {
      bus.disconnect()
      throw err
    }
  }

  private onAction(notificationId: number, key: string): void {
    const entry = this.open.get(notificationId)
    const answer = ACTIONS[key]
    if (!entry || !answer) return
    this.open.delete(notificationId)
    entry.onAnswer(answer)
  }

  async ask(message: PromptMessage, onAnswer: (answer: PromptAnswer) => void): Promise<void> {
    const actions = ['default', 'Sync', 'sync', 'Sync', 'not-now', 'Not now', ...(message.canAlways ? ['always', 'Always for this drive'] : [])]
    const hints = { urgency: new Variant('y', 1), 'desktop-entry': new Variant('s', 'ferry'), resident: new Variant('b', true) }
    const id = await this.iface.Notify(APP, 0, 'drive-removable-media', message.title, message.body, actions, hints, 0)
    this.open.set(id, { promptId: message.id, onAnswer })
  }

  async withdraw(promptId: string): Promise<void> {
    for (const [id, entry] of this.open) {
      if (entry.promptId !== promptId) continue
      this.open.delete(id)
      await this.iface.CloseNotification(id).catch((err: unknown) => this.log.debug({ err }, 'could not close notification'))
    }
  }

  async notify(message: NoticeMessage): Promise<void> {
    const urgency = new Variant('y', message.urgency === 'critical' ? 2 : 1)
    await this.iface.Notify(APP, 0, 'drive-removable-media', message.title, message.body, [], { urgency }, message.urgency === 'critical' ? 0 : 10_000)
  }

  async close(): Promise<void> {
    this.bus.disconnect()
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_r, reject) => (timer = setTimeout(() => reject(new Error(what)), ms)))
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer))
}
