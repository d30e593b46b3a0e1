import { stat } from 'node:fs/promises'

/**
 * A file's size and modification time: what the daemon remembers of a file it already handled (synced, dismissed,
 * named as another project's) so the same bytes are not offered twice, while a changed file is offered again.
 */
export async function fileSignature(file: string): Promise<string | null> {
  const s = await stat(file).catch(() => null)
  return s ? `${s.size}:${s.mtimeMs}` : null
}
