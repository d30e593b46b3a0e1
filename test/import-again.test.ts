import { readFileSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { ferryOk } from './helpers/cli.js'
import { tempDir } from './helpers/tmp.js'

interface Listed {
  docId: string
  versionId: string
  tags: Record<string, unknown>
}

/**
 * An export names the version each document was exported from. Importing a document this device already holds,
 * unchanged, must write nothing: re-importing an old export used to write every document again as a new version,
 * which won over the edits made since and undid them.
 */
describe('import of documents this device already holds', () => {
  it('an export imported again writes nothing, and an older export does not undo later edits', () => {
    const root = tempDir()
    const data = path.join(root, 'data')
    ferryOk(['--data-dir', data, 'init'])
    const first = ferryOk(['--data-dir', data, 'add', '--lat', '1', '--lon', '2', '--tag', 'state=old']).trim()
    ferryOk(['--data-dir', data, 'add', '--lat', '3', '--lon', '4', '--tag', 'state=kept'])
    const exported = path.join(root, 'export.json')
    ferryOk(['--data-dir', data, 'export', exported])
    const list = () => JSON.parse(ferryOk(['--data-dir', data, '--json', 'list'])) as Listed[]
    const before = list()

    const again = JSON.parse(ferryOk(['--data-dir', data, '--json', 'import', exported])) as { imported: number; alreadyHere: number }
    expect(again).toMatchObject({ imported: 0, alreadyHere: 2 })
    expect(list()).toEqual(before)

    ferryOk(['--data-dir', data, 'edit', first, '--tag', 'state=new'])
    const edited = list()
    expect(edited.find((d) => d.docId === first)!.tags.state).toBe('new')
    const old = ferryOk(['--data-dir', data, 'import', exported])
    expect(old).toMatch(/Imported 0 observations .*\n1 observation was already here, unchanged\.\n1 observation is older than here \(changed or deleted since\) and was left as it is; add --restore to bring it back\./)
    expect(list()).toEqual(edited)
  })

  it('--restore brings back what was changed or deleted since the export', () => {
    const root = tempDir()
    const data = path.join(root, 'data')
    ferryOk(['--data-dir', data, 'init'])
    const changed = ferryOk(['--data-dir', data, 'add', '--lat', '1', '--lon', '2', '--tag', 'state=old']).trim()
    const deleted = ferryOk(['--data-dir', data, 'add', '--lat', '3', '--lon', '4', '--tag', 'state=kept']).trim()
    const exported = path.join(root, 'export.json')
    ferryOk(['--data-dir', data, 'export', exported])
    ferryOk(['--data-dir', data, 'edit', changed, '--tag', 'state=new'])
    ferryOk(['--data-dir', data, 'delete', deleted])
    const result = JSON.parse(ferryOk(['--data-dir', data, '--json', 'import', exported, '--restore'])) as { imported: number; older: number }
    expect(result).toMatchObject({ imported: 2, older: 0 })
    const docs = JSON.parse(ferryOk(['--data-dir', data, '--json', 'list'])) as Listed[]
    expect(docs.map((d) => [d.docId, d.tags.state]).sort()).toEqual([[changed, 'old'], [deleted, 'kept']].sort())
  })

  it('a held document changed in the file is imported as an edit', () => {
    const root = tempDir()
    const data = path.join(root, 'data')
    ferryOk(['--data-dir', data, 'init'])
    ferryOk(['--data-dir', data, 'add', '--lat', '1', '--lon', '2', '--tag', 'state=old'])
    const exported = path.join(root, 'export.json')
    ferryOk(['--data-dir', data, 'export', exported])
    const docs = JSON.parse(ferryOk(['--data-dir', data, 'export', '-'])) as Array<{ tags: Record<string, unknown> }>
    docs[0]!.tags.state = 'changed by hand'
    const changed = path.join(root, 'changed.json')
    writeFileSync(changed, JSON.stringify(docs))
    const result = JSON.parse(ferryOk(['--data-dir', data, '--json', 'import', changed])) as { imported: number; alreadyHere: number }
    expect(result).toMatchObject({ imported: 1, alreadyHere: 0 })
    const [doc] = JSON.parse(ferryOk(['--data-dir', data, '--json', 'list'])) as Listed[]
    expect(doc!.tags.state).toBe('changed by hand')
  })

  it('a GeoJSON export imported again writes nothing; changed in the file, it keeps what GeoJSON cannot carry', () => {
    const root = tempDir()
    const data = path.join(root, 'data')
    ferryOk(['--data-dir', data, 'init'])
    const photo = path.join(root, 'photo.bin')
    writeFileSync(photo, 'not really a photo')
    const docId = ferryOk(['--data-dir', data, 'add', '--lat', '1', '--lon', '2', '--tag', 'state=old', '--photo', photo]).trim()
    const geojson = path.join(root, 'export.geojson')
    ferryOk(['--data-dir', data, 'export', '--format', 'geojson', geojson])
    const show = () => JSON.parse(ferryOk(['--data-dir', data, 'show', docId])) as { versionId: string; lat: number; tags: Record<string, unknown>; attachments: unknown[] }
    const before = show()

    expect(JSON.parse(ferryOk(['--data-dir', data, '--json', 'import', geojson]))).toMatchObject({ imported: 0, alreadyHere: 1 })
    expect(show().versionId).toBe(before.versionId)

    const collection = JSON.parse(readFileSync(geojson, 'utf8')) as { features: Array<{ geometry: { coordinates: number[] }; properties: Record<string, unknown> }> }
    collection.features[0]!.properties.state = 'moved'
    collection.features[0]!.geometry.coordinates = [2.5, 1.5]
    const changed = path.join(root, 'changed.geojson')
    writeFileSync(changed, JSON.stringify(collection))
    expect(JSON.parse(ferryOk(['--data-dir', data, '--json', 'import', changed]))).toMatchObject({ imported: 1 })
    const after = show()
    expect(after).toMatchObject({ lat: 1.5, tags: { state: 'moved' } })
    expect(after.attachments).toEqual(before.attachments)
    expect(after.attachments).toHaveLength(1)
  })
})
