/** Parsing of Linux /proc/self/mountinfo (see proc(5)). Pure, so it is tested on text. */

export interface MountEntry {
  mountPoint: string
  fsType: string
  source: string
}

/** mountinfo escapes space, tab, newline and backslash as \ooo octal (\040 for a space). */
export function decodeMountPath(raw: string): string {
  return raw.replace(/\\([0-7]{3})/g, (_m, oct: string) => String.fromCharCode(parseInt(oct, 8)))
}

export function parseMountinfo(text: string): MountEntry[] {
  const entries: MountEntry[] = []
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue
    const fields = line.split(' ')
    // Optional fields end at a lone "-"; the filesystem type and source follow it.
    const dash = fields.indexOf('-', 6)
    const mountPoint = fields[4]
    if (dash < 0 || mountPoint === undefined) continue
    entries.push({
      mountPoint: decodeMountPath(mountPoint),
      fsType: fields[dash + 1] ?? '',
      source: decodeMountPath(fields[dash + 2] ?? ''),
    })
  }
  return entries
}

/** Mounts strictly below one of the roots (the root itself, e.g. /media, is never a drive). */
export function mountsUnderRoots(entries: MountEntry[], roots: string[]): MountEntry[] {
  const normalised = roots.map((r) => r.replace(/\/+$/, ''))
  const seen = new Map<string, MountEntry>()
  for (const entry of entries) {
    if (!normalised.some((root) => entry.mountPoint.startsWith(root + '/'))) continue
    // A later line for the same point is a mount on top of an earlier one: the later one is what is visible.
    seen.set(entry.mountPoint, entry)
  }
  // /media/$USER is itself under /media: keep only drives, not the per-user folder if something is mounted there.
  return [...seen.values()].filter(
    (entry) => !normalised.some((root) => root.startsWith(entry.mountPoint + '/') || root === entry.mountPoint),
  )
}
