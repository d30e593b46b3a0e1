import { execFileSync } from 'node:child_process'
import { existsSync } from 'node:fs'

/**
 * System tests need root and Debian packages (.ci/run installs them). Each suite states what it needs; when
 * something is missing it is skipped with the reason, unless FERRY_REQUIRE_SYSTEM_TESTS=1, where a missing
 * prerequisite is a failure (CI must not go green by skipping).
 */
export const REQUIRED = process.env.FERRY_REQUIRE_SYSTEM_TESTS === '1'

export function hasBinary(name: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${name}`], { stdio: 'ignore' })
    return true
  } catch {
    return false
  }
}

/** A shared library the dynamic linker can find (systray2's tray program needs GTK 3 and libayatana-appindicator3). */
export function hasLibrary(soname: string): boolean {
  try {
    return execFileSync('ldconfig', ['-p'], { encoding: 'utf8' }).includes(soname)
  } catch {
    return false
  }
}

/** Returns null when all is there, else a sentence naming what is missing. */
export function missing(opts: { root?: boolean; binaries?: string[]; files?: string[]; libraries?: string[] }): string | null {
  const gaps: string[] = []
  for (const lib of opts.libraries ?? []) if (!hasLibrary(lib)) gaps.push(lib)
  if (opts.root && process.getuid?.() !== 0) gaps.push('root (for loop mounts)')
  for (const bin of opts.binaries ?? []) if (!hasBinary(bin)) gaps.push(bin)
  for (const file of opts.files ?? []) if (!existsSync(file)) gaps.push(file)
  return gaps.length ? `needs ${gaps.join(', ')} (installed by .ci/run)` : null
}

/**
 * For describe.skipIf: true = skip. With FERRY_REQUIRE_SYSTEM_TESTS=1 it never skips; the suite's beforeAll then
 * fails on requirePrereqs with the same reason.
 */
export function skipUnless(reason: string | null): boolean {
  if (reason && !REQUIRED) console.warn(`skipping: ${reason}`)
  return reason !== null && !REQUIRED
}

export function requirePrereqs(reason: string | null): void {
  if (reason) throw new Error(`system test prerequisite missing: ${reason}`)
}

export const DESKTOP_BINARIES = ['Xvfb', 'dbus-daemon', 'dunst', 'dunstctl']
export const DRIVE_BINARIES = ['mount', 'umount', 'losetup', 'mkfs.ext4', 'truncate']
export const EXFAT_BINARIES = ['mkfs.exfat', 'mount.exfat-fuse']
