import { readFile } from 'node:fs/promises'
import path from 'node:path'
import type { Drive, DriveSource } from './drive-source.js'
import { filesystemUuid } from './drive-id.js'
import { mountsUnderRoots, parseMountinfo } from './mountinfo.js'
import { Poller } from './poller.js'

/**
 * Linux drives: mounts under the media roots, read from /proc/self/mountinfo. The file does not raise inotify
 * events, so it is polled (cheap: one small read per interval); usb-detection, when present, only makes it sooner.
 */
export class LinuxDriveSource implements DriveSource {
  private readonly poller = new Poller()
  private readonly uuidCache = new Map<string, string | null>()

  constructor(
    private readonly roots: string[],
    private readonly pollMs: number,
    private readonly mountinfoPath = '/proc/self/mountinfo',
  ) {}

  async list(): Promise<Drive[]> {
    const text = await readFile(this.mountinfoPath, 'utf8')
    const mounts = mountsUnderRoots(parseMountinfo(text), this.roots)
    const drives: Drive[] = []
    for (const mount of mounts) {
      const label = path.basename(mount.mountPoint)
      const cacheKey = `${mount.source}\0${mount.mountPoint}`
      if (!this.uuidCache.has(cacheKey)) this.uuidCache.set(cacheKey, await filesystemUuid(mount.source))
      drives.push({ id: this.uuidCache.get(cacheKey) ?? label, label, mountPoint: mount.mountPoint })
    }
    return drives
  }

  watch(onChange: () => void): void {
    this.poller.start(onChange, this.pollMs)
  }

  async stop(): Promise<void> {
    this.poller.stop()
  }
}
