import { execFile } from 'node:child_process'
import { readdir, realpath } from 'node:fs/promises'
import path from 'node:path'

/**
 * The filesystem UUID of a block device, so "Always for this drive" follows the drive, not its label. udev's
 * /dev/disk/by-uuid first; blkid when udev is absent (containers, CI); null when neither knows.
 */
export async function filesystemUuid(device: string): Promise<string | null> {
  if (!device.startsWith('/dev/')) return null
  const fromUdev = await uuidFromByUuid(device)
  if (fromUdev) return fromUdev
  return uuidFromBlkid(device)
}

async function uuidFromByUuid(device: string): Promise<string | null> {
  const dir = '/dev/disk/by-uuid'
  try {
    const target = await realpath(device)
    for (const name of await readdir(dir)) {
      const linked = await realpath(path.join(dir, name)).catch(() => null)
      if (linked === target) return name
    }
  } catch {
    // No udev: fall through to blkid.
  }
  return null
}

function uuidFromBlkid(device: string): Promise<string | null> {
  return new Promise((resolve) => {
    execFile('blkid', ['-s', 'UUID', '-o', 'value', device], { timeout: 3000 }, (err, stdout) => {
      const uuid = err ? '' : stdout.trim()
      resolve(uuid === '' ? null : uuid)
    })
  })
}
