import envPaths from 'env-paths'
import path from 'node:path'

/**
 * The OS's per-user folders (XDG on Linux, ~/Library on macOS, %APPDATA%/%LOCALAPPDATA% on Windows), from
 * env-paths so every platform gets its own convention.
 */
const osPaths = envPaths('ferry', { suffix: '' })

/** --data-dir, else FERRY_DATA_DIR, else the per-user data folder. */
export function resolveDataDir(flag?: string): string {
  const chosen = flag ?? process.env.FERRY_DATA_DIR ?? osPaths.data
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
