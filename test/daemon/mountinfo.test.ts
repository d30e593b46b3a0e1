import { mkdtemp, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { LinuxDriveSource } from '../../src/watchers/linux-drives.js'
import { decodeMountPath, mountsUnderRoots, parseMountinfo } from '../../src/watchers/mountinfo.js'

const SAMPLE = [
  '22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw',
  '40 22 0:35 / /proc rw,nosuid shared:12 - proc proc rw',
  '91 22 7:0 / /media/ana/KINGSTON rw,nosuid,nodev,relatime shared:50 - vfat /dev/sdb1 rw,fmask=0022',
  '92 22 7:1 / /media/ana/MY\\040DRIVE rw,relatime shared:51 master:3 - exfat /dev/sdc1 rw',
  '93 22 0:50 / /run/media/ana/FIELD rw - fuseblk /dev/loop3 rw,user_id=0',
  '94 22 0:51 / /media rw - tmpfs tmpfs rw',
  '',
].join('\n')

describe('mountinfo', () => {
  it('decodes octal escapes such as \\040 for a space', () => {
    expect(decodeMountPath('/media/ana/MY\\040DRIVE')).toBe('/media/ana/MY DRIVE')
    expect(decodeMountPath('a\\011b\\134c')).toBe('a\tb\\c')
  })

  it('reads mount point, filesystem type and source, with optional fields', () => {
    const entries = parseMountinfo(SAMPLE)
    expect(entries).toContainEqual({ mountPoint: '/media/ana/MY DRIVE', fsType: 'exfat', source: '/dev/sdc1' })
    expect(entries).toContainEqual({ mountPoint: '/run/media/ana/FIELD', fsType: 'fuseblk', source: '/dev/loop3' })
  })

  it('keeps only mounts strictly below the media roots, never a root itself', () => {
    const roots = ['/media/ana', '/run/media/ana', '/media']
    const points = mountsUnderRoots(parseMountinfo(SAMPLE), roots).map((m) => m.mountPoint)
    expect(points.sort()).toEqual(['/media/ana/KINGSTON', '/media/ana/MY DRIVE', '/run/media/ana/FIELD'])
  })
})

describe('LinuxDriveSource (real implementation, on a mountinfo file)', () => {
  it('lists drives with the mount point basename as label, and the label as id when no UUID is known', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'ferry-mi-'))
    const file = path.join(dir, 'mountinfo')
    await writeFile(file, SAMPLE)
    const source = new LinuxDriveSource(['/media/ana'], 1000, file)
    const drives = await source.list()
    expect(drives.map((d) => d.label).sort()).toEqual(['KINGSTON', 'MY DRIVE'])
    // /dev/sdb1 does not exist here, so no UUID can be read: the label stands in.
    expect(drives.find((d) => d.label === 'KINGSTON')).toEqual({ id: 'KINGSTON', label: 'KINGSTON', mountPoint: '/media/ana/KINGSTON' })
    await source.stop()
  })
})
