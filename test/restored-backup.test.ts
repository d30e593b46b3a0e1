import { cpSync, readFileSync, rmSync } from 'node:fs'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { ferry, ferryOk } from './helpers/cli.js'
import { makeDevices } from './helpers/devices.js'
import { tempDir } from './helpers/tmp.js'

const tagOf = (dir: string, docId: string) => (JSON.parse(ferryOk(['--data-dir', dir, 'show', docId])) as { tags: { n: string } }).tags.n

/**
 * Computer 1's data folder is backed up, computer 1 edits and syncs with computer 2, then the backup is put back
 * and computer 1 edits again: its new change takes a record number its lost one had, which computer 2 and the file
 * hold. Before commits carried hashes, both computers were told they had "the same data" while they showed
 * different values, and computer 1's next sync appended a record that made the file "damaged" for computer 2.
 */
function restoredFromBackup() {
  const root = tempDir()
  const [one, two] = makeDevices(root, 2) as [string, string]
  const docId = ferryOk(['--data-dir', one, 'add', '--lat', '1', '--lon', '1', '--tag', 'n=1']).trim()
  const backup = path.join(root, 'backup')
  cpSync(one, backup, { recursive: true })
  ferryOk(['--data-dir', one, 'edit', docId, '--tag', 'n=2'])
  const file = path.join(root, 'field.ferry')
  ferryOk(['--data-dir', one, 'create', file])
  ferryOk(['--data-dir', two, 'sync', file])
  rmSync(one, { recursive: true })
  cpSync(backup, one, { recursive: true })
  ferryOk(['--data-dir', one, 'edit', docId, '--tag', 'n=3'])
  return { root, one, two, docId, file }
}

describe('a data folder restored from a backup', () => {
  it('its sync of the team file is refused (exit 4, in words), and nothing changes on either side', () => {
    const { one, two, docId, file } = restoredFromBackup()
    const before = readFileSync(file)
    for (let round = 0; round < 2; round++) {
      const result = ferry(['--data-dir', one, 'sync', file])
      expect({ code: result.code, stderr: result.stderr }).toEqual({ code: 4, stderr: expect.stringMatching(/cannot be synced here: .* restored from a backup/) as unknown })
      expect(result.stderr).toMatch(/Nothing was changed\. Keep this data folder as it is/)
      expect(result.stderr).not.toMatch(/salvage/)
      ferryOk(['--data-dir', one, 'edit', docId, '--tag', 'n=4'])
    }
    expect(readFileSync(file).equals(before)).toBe(true)
    expect(tagOf(one, docId)).toBe('4')
    // The teammate's sync of the same file still works, and finds the file whole.
    expect(ferry(['--data-dir', two, 'sync', file]).code).toBe(0)
    expect(ferry(['--data-dir', two, 'verify', file]).code).toBe(0)
    expect(tagOf(two, docId)).toBe('2')
  })

  it('a file the restored folder creates is refused by the teammate, whose data stays as it was', () => {
    const { root, one, two, docId } = restoredFromBackup()
    const fromRestored = path.join(root, 'from-restored.ferry')
    ferryOk(['--data-dir', one, 'create', fromRestored])
    const result = ferry(['--data-dir', two, 'sync', fromRestored])
    expect(result.code).toBe(4)
    expect(result.stderr).toMatch(/the records of device [0-9a-f]{12}… here differ from those in from-restored\.ferry .* restored from a backup/)
    expect(tagOf(two, docId)).toBe('2')
  })

  it('the way out in the README works: a new data folder for that computer gets both changes, and syncs on', () => {
    const { root, one, two, docId, file } = restoredFromBackup()
    const kept = path.join(root, 'computer1-restored')
    cpSync(one, kept, { recursive: true })
    rmSync(one, { recursive: true })
    const invite = path.join(root, 'again.ferryproject')
    ferryOk(['--data-dir', kept, 'project', 'export', invite])
    ferryOk(['--data-dir', one, 'init', '--join', invite])
    ferryOk(['--data-dir', one, 'sync', file])
    expect(tagOf(one, docId)).toBe('2')
    const since = path.join(root, 'since.geojson')
    ferryOk(['--data-dir', kept, 'export', '--format', 'geojson', since])
    ferryOk(['--data-dir', one, 'import', since])
    expect(tagOf(one, docId)).toBe('3')
    ferryOk(['--data-dir', one, 'sync', file])
    ferryOk(['--data-dir', two, 'sync', file])
    expect(tagOf(two, docId)).toBe('3')
    expect(ferryOk(['--data-dir', one, 'export', '-'])).toBe(ferryOk(['--data-dir', two, 'export', '-']))
  })
})
