import { execFile } from 'node:child_process'
import type { Drive, DriveSource } from './drive-source.js'
import { Poller } from './poller.js'

/**
 * Windows drives: removable drive letters (DriveType 2) from CIM, with their volume serial number as id. PowerShell
 * is slow to start, so the poll interval is at least 3 s.
 */
export class WindowsDriveSource implements DriveSource {
  private readonly poller = new Poller()

  constructor(private readonly pollMs: number) {}

  list(): Promise<Drive[]> {
    const script =
      'Get-CimInstance Win32_LogicalDisk -Filter "DriveType=2" | Select-Object DeviceID,VolumeName,VolumeSerialNumber | ConvertTo-Json -Compress'
    return new Promise((resolve) => {
      execFile('powershell.exe', ['-NoProfile', '-Command', script], { timeout: 10_000 }, (err, stdout) => {
        if (err || stdout.trim() === '') return resolve([])
        try {
          const parsed = JSON.parse(stdout) as WinDisk | WinDisk[]
          resolve((Array.isArray(parsed) ? parsed : [parsed]).map(toDrive))
        } catch {
          resolve([])
        }
      })
    })
  }

  watch(onChange: () => void): void {
    this.poller.start(onChange, Math.max(this.pollMs, 3000))
  }

  async stop(): Promise<void> {
    this.poller.stop()
  }
}

interface WinDisk {
  DeviceID: string
  VolumeName: string | null
  VolumeSerialNumber: string | null
}

function toDrive(disk: WinDisk): Drive {
  const label = disk.VolumeName || disk.DeviceID
  return { id: disk.VolumeSerialNumber || label, label, mountPoint: disk.DeviceID + '\\' }
}
