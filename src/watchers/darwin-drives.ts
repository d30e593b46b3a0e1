import { readdir, realpath } from 'node:fs/promises'
import path from 'node:path'
import type { Drive, DriveSource } from './drive-source.js'
import { Poller } from './poller.js'

/**
 * macOS drives: entries of /Volumes other than the boot volume (a symlink to /). Polled; the label doubles as id
 * because reading the volume UUID needs diskutil, which is slow to run every second.
 */
export class DarwinDriveSource implements DriveSource {
  private readonly poller = new Poller()

  constructor(
    private readonly pollMs: number,
    private readonly volumes = '/Volumes',
  ) {}

  async list(): Promise<Drive[]> {
    const drives: Drive[] = []
    for (const name of await readdir(this.volumes).catch(() => [] as string[])) {
      const mountPoint = path.join(this.volumes, name)
      if ((await realpath(mountPoint).catch(() => '/')) === '/') continue
      drives.push({ id: name, label: name, mountPoint })
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
