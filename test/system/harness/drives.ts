import { execFile } from 'node:child_process'
import { mkdir, readdir, readFile, rm } from 'node:fs/promises'
import path from 'node:path'
import { until } from './until.js'

export interface TestDrive {
  label: string
  fs: 'ext4' | 'exfat'
  image: string
  /** Where it is mounted when plugged in: <media root>/<label>. */
  mountPoint: string
  /** Loop device while attached. */
  device: string | null
  mounted: string | null
}

function sh(cmd: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) =>
    execFile(cmd, args, { timeout: 60_000 }, (err, stdout, stderr) => (err ? reject(new Error(`${cmd} ${args.join(' ')}: ${stderr || err.message}`)) : resolve(stdout.trim()))),
  )
}

/**
 * "USB drives" for system tests: filesystem images on loop devices, ext4 (kernel) or exFAT (exfat-fuse, like many
 * real sticks on Linux). prepare() mounts one outside the media root to put files on it; plug() mounts it under the
 * media root, which is what the daemon watches; cleanup() unmounts and detaches everything, even after a failure.
 */
export class TestDrives {
  private readonly drives: TestDrive[] = []

  constructor(
    private readonly dir: string,
    readonly mediaRoot: string,
  ) {}

  async create(label: string, fs: 'ext4' | 'exfat', sizeMb = 64): Promise<TestDrive> {
    const image = path.join(this.dir, `${label}.img`)
    await sh('truncate', ['-s', `${sizeMb}M`, image])
    if (fs === 'ext4') await sh('mkfs.ext4', ['-q', '-F', '-L', label, image])
    else await sh('mkfs.exfat', ['-L', label, image])
    const drive: TestDrive = { label, fs, image, mountPoint: path.join(this.mediaRoot, label), device: null, mounted: null }
    this.drives.push(drive)
    return drive
  }

  /** Mounts the drive at `at` (a staging folder by default) and returns the mount point. */
  async mount(drive: TestDrive, at: string): Promise<string> {
    await mkdir(at, { recursive: true })
    drive.device = await sh('losetup', ['-f', '--show', drive.image])
    if (drive.fs === 'ext4') await sh('mount', ['-t', 'ext4', drive.device, at])
    else await sh('mount.exfat-fuse', [drive.device, at])
    drive.mounted = at
    await until(async () => (await readFile('/proc/self/mountinfo', 'utf8')).includes(` ${at.replace(/ /g, '\\040')} `), `${drive.label} mounted at ${at}`)
    return at
  }

  async prepare(drive: TestDrive): Promise<string> {
    return this.mount(drive, path.join(this.dir, 'staging', drive.label))
  }

  async plug(drive: TestDrive): Promise<string> {
    return this.mount(drive, drive.mountPoint)
  }

  /** Unplug: unmount (lazy when busy, as a yanked stick would be) and detach the loop device. */
  async unplug(drive: TestDrive, opts: { lazy?: boolean } = {}): Promise<void> {
    if (drive.mounted) {
      await sh('umount', [...(opts.lazy ? ['-l'] : []), drive.mounted]).catch(() => sh('umount', ['-l', drive.mounted!]))
      drive.mounted = null
    }
    if (drive.device) {
      await sh('losetup', ['-d', drive.device]).catch(() => undefined)
      drive.device = null
    }
  }

  /** PID of the exfat-fuse process serving this drive (killing it is a drive pulled mid-write). */
  async fusePid(drive: TestDrive): Promise<number | null> {
    for (const entry of await readdir('/proc')) {
      if (!/^\d+$/.test(entry)) continue
      const cmdline = await readFile(`/proc/${entry}/cmdline`, 'utf8').catch(() => '')
      const args = cmdline.split('\0')
      if (args[0]?.endsWith('mount.exfat-fuse') && drive.mounted && args.includes(drive.mounted)) return Number(entry)
    }
    return null
  }

  async cleanup(): Promise<void> {
    for (const drive of this.drives) await this.unplug(drive, { lazy: true }).catch(() => undefined)
    for (const drive of this.drives) await rm(drive.image, { force: true })
  }
}
