import { execFileSync } from 'node:child_process'
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import path from 'node:path'

/**
 * Loop-mounted filesystem images as "USB drives" for the fault suite: ext4 through the kernel, exFAT through
 * exfat-fuse (its FUSE process can be killed to pull the drive mid-write). Every drive made is unmounted, its loop
 * device detached and its FUSE process stopped by cleanup(), which tests call in `finally`.
 */
export interface LoopDrive {
  fs: 'ext4' | 'exfat'
  image: string
  mountPoint: string
  device: string | null
  mounted: boolean
}

const TOOLS: Record<LoopDrive['fs'], string[]> = {
  ext4: ['mkfs.ext4', 'losetup', 'mount', 'umount'],
  exfat: ['mkfs.exfat', 'mount.exfat-fuse', 'losetup', 'umount'],
}

function which(tool: string): boolean {
  return ['/usr/sbin', '/sbin', '/usr/bin', '/bin', '/usr/local/sbin', '/usr/local/bin'].some((dir) => existsSync(path.join(dir, tool)))
}

/** Why drive tests cannot run here, or null when they can. */
export function driveTestsUnavailable(fs: LoopDrive['fs']): string | null {
  if (process.platform !== 'linux') return 'loop-mounted drives need Linux'
  if (process.getuid?.() !== 0) return 'loop devices and mounts need root'
  const missing = TOOLS[fs].filter((t) => !which(t))
  if (missing.length > 0) return `missing ${missing.join(', ')} (apt-get install -y ${fs === 'ext4' ? 'e2fsprogs mount' : 'exfatprogs exfat-fuse'})`
  if (!existsSync('/dev/loop-control')) return 'no /dev/loop-control (loop devices unavailable in this container)'
  if (fs === 'exfat' && !existsSync('/dev/fuse')) return 'no /dev/fuse'
  return null
}

/** FERRY_REQUIRE_SYSTEM_TESTS=1 turns a missing prerequisite into a failure instead of a skip. */
export function requireOrSkip(fs: LoopDrive['fs']): string | null {
  const reason = driveTestsUnavailable(fs)
  if (reason && process.env.FERRY_REQUIRE_SYSTEM_TESTS === '1') throw new Error(`FERRY_REQUIRE_SYSTEM_TESTS=1 but drive tests cannot run: ${reason}`)
  return reason
}

const sh = (cmd: string, args: string[]) => execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 60_000 }).trim()

export class Drives {
  private readonly made: LoopDrive[] = []

  constructor(private readonly dir: string) {}

  create(name: string, fs: LoopDrive['fs'], sizeKb: number): LoopDrive {
    const image = path.join(this.dir, `${name}.img`)
    sh('truncate', ['-s', `${sizeKb}K`, image])
    if (fs === 'ext4') sh('mkfs.ext4', ['-q', '-F', '-m', '0', '-L', name.slice(0, 16), image])
    else sh('mkfs.exfat', ['-L', name.slice(0, 11), image])
    const drive: LoopDrive = { fs, image, mountPoint: path.join(this.dir, 'mnt', name), device: null, mounted: false }
    this.made.push(drive)
    return drive
  }

  mount(drive: LoopDrive, opts: { readOnly?: boolean } = {}): string {
    mkdirSync(drive.mountPoint, { recursive: true })
    drive.device = sh('losetup', ['-f', '--show', ...(opts.readOnly ? ['-r'] : []), drive.image])
    if (drive.fs === 'ext4') sh('mount', ['-t', 'ext4', ...(opts.readOnly ? ['-o', 'ro'] : []), drive.device, drive.mountPoint])
    else sh('mount.exfat-fuse', [...(opts.readOnly ? ['-o', 'ro'] : []), drive.device, drive.mountPoint])
    drive.mounted = true
    if (!isMounted(drive.mountPoint)) throw new Error(`${drive.image} did not mount at ${drive.mountPoint}`)
    return drive.mountPoint
  }

  /** Lazy unmount (the kernel detaches the filesystem at once; open files keep it alive) and loop detach. */
  pull(drive: LoopDrive): void {
    if (drive.mounted) {
      try {
        sh('umount', ['-l', drive.mountPoint])
      } catch {
        // Already gone.
      }
      drive.mounted = false
    }
    this.detach(drive)
  }

  /** A clean unplug. For a FUSE drive whose process died, the dead mount is removed lazily. */
  unmount(drive: LoopDrive): void {
    if (drive.mounted) {
      try {
        sh('umount', [drive.mountPoint])
      } catch {
        sh('umount', ['-l', drive.mountPoint])
      }
      drive.mounted = false
    }
    this.detach(drive)
  }

  private detach(drive: LoopDrive): void {
    if (!drive.device) return
    try {
      sh('losetup', ['-d', drive.device])
    } catch {
      // Detached already, or busy until the lazy unmount completes (autoclear then frees it).
    }
    drive.device = null
  }

  /** PID of the exfat-fuse process serving a drive. */
  fusePid(drive: LoopDrive): number | null {
    for (const entry of readdirSync('/proc')) {
      if (!/^\d+$/.test(entry)) continue
      let cmdline: string
      try {
        cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8')
      } catch {
        continue
      }
      const args = cmdline.split('\0')
      if (args[0]?.includes('exfat-fuse') && args.includes(drive.mountPoint)) return Number(entry)
    }
    return null
  }

  cleanup(): void {
    for (const drive of this.made) {
      const pid = drive.fs === 'exfat' && drive.mounted ? this.fusePid(drive) : null
      try {
        this.unmount(drive)
      } catch {
        // keep cleaning the rest
      }
      if (pid !== null) {
        try {
          process.kill(pid, 'SIGKILL')
        } catch {
          // exited with its mount
        }
      }
      rmSync(drive.image, { force: true })
    }
    this.made.length = 0
  }
}

export function isMounted(mountPoint: string): boolean {
  const escaped = mountPoint.replace(/ /g, '\\040')
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .some((line) => line.split(' ')[4] === escaped)
}
