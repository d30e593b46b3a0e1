import { readFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { z } from 'zod'
import { badInput } from '../errors.js'
import { configDir } from '../paths.js'

/** Every setting the daemon reads; config/default.json documents each one. */
const SettingsSchema = z
  .object({
    projectName: z.string().min(1),
    inbox: z.string().min(1).nullable(),
    outbox: z.string().min(1).nullable(),
    mediaRoots: z.array(z.string().min(1)).nullable(),
    tray: z.boolean(),
    notifications: z.boolean(),
    pollMs: z.number().int().min(100).max(60_000),
    inboxStableMs: z.number().int().min(0).max(60_000),
    media: z.enum(['all', 'previews', 'none']),
    logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace']),
    logMaxBytes: z.number().int().min(1024),
    logKeep: z.number().int().min(0).max(50),
  })
  .strict()

/** A layer may set any subset; keys starting with $ or _ are comments. */
const LayerSchema = SettingsSchema.partial()

export type FileSettings = z.infer<typeof SettingsSchema>

/** Settings with every default resolved to a real path, as the daemon uses them. */
export interface Settings extends Omit<FileSettings, 'inbox' | 'outbox' | 'mediaRoots'> {
  inbox: string
  outbox: string
  mediaRoots: string[]
}

export interface Flags {
  tray?: boolean
  inbox?: string
  mediaRoot?: string[]
  debug?: boolean
}

/** The file the user edits: <config folder>/config.json. */
export function userConfigFile(): string {
  return path.join(configDir(), 'config.json')
}

/** default.json < user config.json < FERRY_* environment < flags. Throws a plain bad-input error naming the culprit. */
export function loadSettings(flags: Flags = {}, env: NodeJS.ProcessEnv = process.env): Settings {
  const defaults = parseLayer(readJson(new URL('../../config/default.json', import.meta.url)), 'config/default.json')
  const userFile = userConfigFile()
  const user = parseLayer(readJson(userFile, true) ?? {}, userFile)
  const fromEnv = parseLayer(envLayer(env), 'the FERRY_* environment variables')
  const fromFlags = parseLayer(
    {
      ...(flags.tray === false ? { tray: false } : {}),
      ...(flags.inbox ? { inbox: flags.inbox } : {}),
      ...(flags.mediaRoot && flags.mediaRoot.length > 0 ? { mediaRoots: flags.mediaRoot } : {}),
      ...(flags.debug ? { logLevel: 'debug' } : {}),
    },
    'the command line',
  )
  const merged = SettingsSchema.safeParse({ ...defaults, ...user, ...fromEnv, ...fromFlags })
  if (!merged.success) throw badInput(`Ferry's settings are incomplete: ${describe(merged.error)}. Check config/default.json.`)
  return resolveDefaults(merged.data)
}

function resolveDefaults(s: FileSettings): Settings {
  const home = os.homedir()
  return {
    ...s,
    inbox: path.resolve(s.inbox ?? path.join(home, 'Ferry', 'Inbox')),
    outbox: path.resolve(s.outbox ?? path.join(home, 'Ferry', 'Outbox')),
    mediaRoots: (s.mediaRoots ?? defaultMediaRoots()).map((r) => path.resolve(r)),
  }
}

export function defaultMediaRoots(platform = process.platform, user = os.userInfo().username): string[] {
  if (platform === 'darwin') return ['/Volumes']
  if (platform === 'win32') return []
  return [`/media/${user}`, `/run/media/${user}`, '/media']
}

function envLayer(env: NodeJS.ProcessEnv): Record<string, unknown> {
  const layer: Record<string, unknown> = {}
  if (env.FERRY_INBOX) layer.inbox = env.FERRY_INBOX
  if (env.FERRY_OUTBOX) layer.outbox = env.FERRY_OUTBOX
  if (env.FERRY_MEDIA_ROOTS) layer.mediaRoots = env.FERRY_MEDIA_ROOTS.split(path.delimiter).filter(Boolean)
  if (env.FERRY_TRAY !== undefined) layer.tray = envBool(env.FERRY_TRAY)
  if (env.FERRY_NOTIFICATIONS !== undefined) layer.notifications = envBool(env.FERRY_NOTIFICATIONS)
  if (env.FERRY_POLL_MS) layer.pollMs = envNumber(env.FERRY_POLL_MS)
  if (env.FERRY_INBOX_STABLE_MS) layer.inboxStableMs = envNumber(env.FERRY_INBOX_STABLE_MS)
  if (env.FERRY_LOG_LEVEL) layer.logLevel = env.FERRY_LOG_LEVEL
  return layer
}

/** A whole number, or the text as given, so a bad value is reported as what it is ("received string", not "nan"). */
function envNumber(value: string): number | string {
  return /^\s*\d+\s*$/.test(value) ? Number(value) : value
}

function envBool(value: string): boolean | string {
  if (['1', 'true', 'yes', 'on'].includes(value.toLowerCase())) return true
  if (['0', 'false', 'no', 'off'].includes(value.toLowerCase())) return false
  return value // left as text so validation names it
}

function readJson(file: string | URL, optional = false): unknown {
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (err) {
    if (optional && (err as NodeJS.ErrnoException).code === 'ENOENT') return null
    throw badInput(`Ferry could not read its settings file ${String(file)}: ${(err as Error).message}.`)
  }
  try {
    return JSON.parse(text)
  } catch (err) {
    throw badInput(`The settings file ${String(file)} is not valid JSON (${(err as Error).message}). Fix or remove it.`)
  }
}

function parseLayer(raw: unknown, where: string): Partial<FileSettings> {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw badInput(`The settings in ${where} must be a JSON object.`)
  const withoutComments = Object.fromEntries(Object.entries(raw).filter(([k]) => !k.startsWith('$') && !k.startsWith('_')))
  const parsed = LayerSchema.safeParse(withoutComments)
  if (!parsed.success) throw badInput(`The settings in ${where} are not valid: ${describe(parsed.error)}.`)
  return parsed.data
}

function describe(error: z.ZodError): string {
  return error.issues
    .map((issue) => {
      const key = issue.path.join('.')
      return key ? `"${key}" ${issue.message.toLowerCase()}` : issue.message.toLowerCase()
    })
    .join('; ')
}
