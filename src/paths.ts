import envPaths from 'env-paths'
import path from 'node:path'
import { badInput } from './errors.js'

/**
 * The OS's per-user folders (XDG on Linux, ~/Library on macOS, %APPDATA%/%LOCALAPPDATA% on Windows), from
 * env-paths so every platform gets its own convention.
 */
const osPaths = envPaths('ferry', { suffix: '' })

/** --data-dir, else FERRY_DATA_DIR, else the per-user data folder. */
export function resolveDataDir(flag?: string): string {
  // An empty --data-dir is a mistake (a script's unset variable), not "here": path.resolve('') is the current folder,
  // and init would make a project there. An empty FERRY_DATA_DIR means unset, as shells treat empty variables.
  if (flag !== undefined && flag.trim() === '') throw badInput('--data-dir is empty. Give a folder, or leave the option out to use the default.')
  const chosen = flag ?? (process.env.FERRY_DATA_DIR || osPaths.data)
  return path.resolve(chosen)
}

/** Where logs go: the per-user state folder (~/.local/state/ferry on Linux). */
export function logDir(): string {
  return process.env.FERRY_LOG_DIR ?? osPaths.log
}

/** The per-user config folder (~/.config/ferry on Linux). */
export function configDir(): string {
  return process.env.FERRY_CONFIG_DIR ?? osPaths.config
}

/** The per-user cache folder (~/.cache/ferry on Linux): only things Ferry can rebuild, like its start-up code cache. */
export function cacheDir(): string {
  return process.env.FERRY_CACHE_DIR ?? osPaths.cache
}
