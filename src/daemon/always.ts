import { mkdir, readFile, rename, writeFile } from 'node:fs/promises'
import path from 'node:path'

/**
 * Drives the person said "Always for this drive" to, by drive id (filesystem UUID, else label). Kept in a small JSON
 * file in the data folder, so it belongs to this project's data and survives restarts. Written to a temporary file
 * and renamed so a crash never leaves half a file.
 */
export class AlwaysList {
  private ids = new Set<string>()

  constructor(private readonly file: string) {}

  async load(): Promise<void> {
    try {
      const parsed = JSON.parse(await readFile(this.file, 'utf8')) as { drives?: unknown }
      if (Array.isArray(parsed.drives)) this.ids = new Set(parsed.drives.filter((d): d is string => typeof d === 'string'))
    } catch {
      // Missing or unreadable: start with no remembered drives (nothing is synced without asking).
      this.ids = new Set()
    }
  }

  has(driveId: string): boolean {
    return this.ids.has(driveId)
  }

  async add(driveId: string): Promise<void> {
    this.ids.add(driveId)
    await mkdir(path.dirname(this.file), { recursive: true })
    const tmp = `${this.file}.${process.pid}.tmp`
    await writeFile(tmp, JSON.stringify({ drives: [...this.ids].sort() }, null, 2) + '\n')
    await rename(tmp, this.file)
  }
}
