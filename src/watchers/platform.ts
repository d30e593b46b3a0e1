import type { DriveSource } from './drive-source.js'
import { DarwinDriveSource } from './darwin-drives.js'
import { LinuxDriveSource } from './linux-drives.js'
import { WindowsDriveSource } from './windows-drives.js'

/** The DriveSource of this platform. Media roots apply to Linux (and replace /Volumes on macOS when given). */
export function platformDriveSource(mediaRoots: string[], pollMs: number, platform = process.platform): DriveSource {
  if (platform === 'win32') return new WindowsDriveSource(pollMs)
  if (platform === 'darwin' && (mediaRoots.length === 0 || (mediaRoots.length === 1 && mediaRoots[0] === '/Volumes'))) {
    return new DarwinDriveSource(pollMs)
  }
  if (platform === 'darwin') return new DarwinDriveSource(pollMs, mediaRoots[0])
  return new LinuxDriveSource(mediaRoots, pollMs)
}
