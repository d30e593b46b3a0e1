import { access } from 'node:fs/promises'
import path from 'node:path'

/** "Field data" → "field-data": safe on FAT32 and readable. */
export function slug(name: string): string {
  const s = name
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
  return s === '' ? 'ferry' : s.slice(0, 60)
}

/** A new sync file's path in `folder`: <project>-<date>.ferry, then -2, -3… so an existing file is never replaced. */
export async function newSyncFilePath(folder: string, projectName: string, now = new Date()): Promise<string> {
  const base = `${slug(projectName)}-${now.toISOString().slice(0, 10)}`
  for (let n = 1; ; n++) {
    const candidate = path.join(folder, `${base}${n === 1 ? '' : `-${n}`}.ferry`)
    const exists = await access(candidate).then(
      () => true,
      () => false,
    )
    if (!exists) return candidate
  }
}
