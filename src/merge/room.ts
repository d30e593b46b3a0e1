import path from 'node:path'
import { diskError, FerryError } from '../errors.js'
import type { Disk } from '../fs/disk.js'
import { formatBytes } from '../format-bytes.js'

// Room kept free beyond the estimate: filesystem metadata, and a margin so the drive is never filled to the last byte.
const MARGIN_BYTES = 1024 * 1024

/**
 * Checks, before anything is written, that the drive has room for `addBytes` more and that the file will not pass
 * the filesystem's largest file (FAT32: 4 GiB − 1). A full drive found later still fails cleanly (ENOSPC → exit 5),
 * but checking first spares the user a long sync that cannot finish.
 */
export async function checkRoom(
  disk: Disk,
  filePath: string,
  existingBytes: number,
  addBytes: number,
  opts: { shownAs?: string; reclaimableBytes?: number } = {},
): Promise<void> {
  const shownAs = opts.shownAs ?? filePath
  const reclaimable = opts.reclaimableBytes ?? 0
  let fs
  try {
    fs = await disk.filesystem(path.dirname(filePath))
  } catch (err) {
    throw diskError(err, filePath)
  }
  if (existingBytes + addBytes > fs.maxFileBytes) {
    throw new FerryError(
      'too-large',
      `${path.basename(shownAs)} would grow to ${formatBytes(existingBytes + addBytes)}, more than a ${fs.type} drive can hold in one file (4 GB). Nothing was changed. Use \`--media previews\` or \`--media none\` for a smaller file, or a drive formatted as exFAT.`,
    )
  }
  if (addBytes + MARGIN_BYTES > fs.freeBytes + reclaimable) {
    throw new FerryError(
      'disk-full',
      `The drive holding ${path.basename(shownAs)} has ${formatBytes(fs.freeBytes + reclaimable)} free, but writing it needs about ${formatBytes(addBytes)}, with ${formatBytes(MARGIN_BYTES)} kept free. Nothing was changed. Free some space or use a bigger drive.`,
    )
  }
}
