import { constants } from 'node:fs'
import { mkdir, open, readFile, rename, statfs, unlink } from 'node:fs/promises'
import path from 'node:path'
import type { Disk, DiskFile, FilesystemInfo, OpenMode } from './disk.js'

const FAT32_MAX_FILE = 4 * 1024 ** 3 - 1

/**
 * Whether a folder's fsync failed only because the filesystem refuses fsync on a folder (FUSE exFAT among them):
 * then the file's own fsync is all there is.
 */
export function folderFsyncRefused(err: unknown): boolean {
  return ['EINVAL', 'ENOTSUP', 'EISDIR', 'EBADF', 'ENOSYS'].includes((err as NodeJS.ErrnoException).code ?? '')
}

// statfs f_type magic numbers (linux/magic.h) of filesystems whose names we want in messages.
const FS_TYPE_NAMES: Record<number, string> = {
  0xef53: 'ext4',
  0x4d44: 'vfat',
  0x2011bab0: 'exfat',
  0x65735546: 'fuse',
  0x01021994: 'tmpfs',
  0x9123683e: 'btrfs',
  0x58465342: 'xfs',
  0x5346544e: 'ntfs',
  0x6a656a63: 'fakeowner',
}

const modeFlags: Record<OpenMode, number> = {
  read: constants.O_RDONLY,
  update: constants.O_RDWR,
  'create-new': constants.O_RDWR | constants.O_CREAT | constants.O_EXCL,
}

export const nodeDisk: Disk = {
  async open(filePath: string, mode: OpenMode): Promise<DiskFile> {
    const handle = await open(filePath, modeFlags[mode], 0o644)
    const file: DiskFile = {
      async read(buffer, offset, length, position) {
        const { bytesRead } = await handle.read(buffer, offset, length, position)
        return bytesRead
      },
      async write(buffer, position) {
        let written = 0
        while (written < buffer.length) {
          const { bytesWritten } = await handle.write(buffer, written, buffer.length - written, position + written)
          written += bytesWritten
        }
      },
      async writev(buffers, position) {
        const total = buffers.reduce((sum, b) => sum + b.length, 0)
        const { bytesWritten } = await handle.writev(buffers, position)
        // A short write (rare on a local file, possible on a full or failing drive): finish it the plain way.
        if (bytesWritten < total) await file.write(Buffer.concat(buffers, total).subarray(bytesWritten), position + bytesWritten)
      },
      sync: () => handle.sync(),
      truncate: (length) => handle.truncate(length),
      size: async () => (await handle.stat()).size,
      close: () => handle.close(),
    }
    return file
  },
  rename: (from, to) => rename(from, to),
  unlink: (filePath) => unlink(filePath),
  async syncDir(dirPath) {
    const handle = await open(dirPath, constants.O_RDONLY)
    try {
      await handle.sync()
    } catch (err) {
      if (!folderFsyncRefused(err)) throw err
    } finally {
      await handle.close()
    }
  },
  async filesystem(filePath): Promise<FilesystemInfo> {
    const stats = await statfs(filePath)
    let type = FS_TYPE_NAMES[stats.type] ?? `0x${stats.type.toString(16)}`
    if (type === 'fuse') type = (await fuseSubtype(filePath)) ?? type
    const isFat = type === 'vfat' || type === 'msdos' || type === 'fat'
    return { freeBytes: stats.bavail * stats.bsize, maxFileBytes: isFat ? FAT32_MAX_FILE : Infinity, type }
  },
  mkdirp: async (dirPath) => {
    await mkdir(dirPath, { recursive: true })
  },
}

/** For FUSE mounts (exfat-fuse, ntfs-3g) the real filesystem name is in the mount table, not in statfs. */
async function fuseSubtype(filePath: string): Promise<string | undefined> {
  try {
    const table = await readFile('/proc/self/mountinfo', 'utf8')
    const target = path.resolve(filePath)
    let best: { mountPoint: string; type: string } | undefined
    for (const line of table.split('\n')) {
      const [left, right] = line.split(' - ')
      if (!left || !right) continue
      const mountPoint = (left.split(' ')[4] ?? '').replace(/\\([0-7]{3})/g, (_, oct: string) => String.fromCharCode(parseInt(oct, 8)))
      const [fsType] = right.split(' ')
      if (!(target === mountPoint || target.startsWith(mountPoint.endsWith('/') ? mountPoint : `${mountPoint}/`))) continue
      if (!best || mountPoint.length > best.mountPoint.length) {
        // "fuse.sshfs" names itself; a plain "fuseblk" (exfat-fuse, ntfs-3g) only gives its device.
        best = { mountPoint, type: fsType?.startsWith('fuse.') ? fsType.slice(5) : (fsType ?? 'fuse') }
      }
    }
    return best?.type
  } catch {
    return undefined
  }
}
