import { generate } from '@mapeo/mock-data'
import { validate, valueOf } from '@comapeo/schema'
import { readFileSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { ferry, ferryOk } from './helpers/cli.js'
import { tempDir } from './helpers/tmp.js'

type Doc = Record<string, unknown> & { docId: string; createdAt: string; updatedAt: string; deleted: boolean }

/** 1,000 live observations from @mapeo/mock-data (data no one here wrote), plus some deleted ones. */
function mockObservations(): { live: Doc[]; deleted: Doc[] } {
  const docs = generate('observation', { count: 2600 }) as unknown as Doc[]
  return { live: docs.filter((d) => !d.deleted).slice(0, 1000), deleted: docs.filter((d) => d.deleted).slice(0, 50) }
}

describe('import and export of real CoMapeo data', () => {
  it('gives back 1,000 mock-data observations exactly, valid, sorted by docId, byte-identical across runs', () => {
    const root = tempDir()
    const data = path.join(root, 'data')
    const { live, deleted } = mockObservations()
    expect(live).toHaveLength(1000)
    writeFileSync(path.join(root, 'in.json'), JSON.stringify([...live, ...deleted]))
    ferryOk(['--data-dir', data, 'init', '--name', 'Round trip'])
    ferryOk(['--data-dir', data, 'import', path.join(root, 'in.json')])

    ferryOk(['--data-dir', data, 'export', path.join(root, 'out1.json')])
    ferryOk(['--data-dir', data, 'export', path.join(root, 'out2.json')])
    const first = readFileSync(path.join(root, 'out1.json'))
    expect(first.equals(readFileSync(path.join(root, 'out2.json')))).toBe(true)

    const exported = JSON.parse(first.toString('utf8')) as Doc[]
    expect(exported.map((d) => d.docId)).toEqual(live.map((d) => d.docId).sort())
    const byId = new Map(exported.map((d) => [d.docId, d]))
    for (const original of live) {
      const back = byId.get(original.docId)!
      expect(valueOf(back as never)).toEqual(valueOf(original as never))
      expect([back.createdAt, back.updatedAt]).toEqual([original.createdAt, original.updatedAt])
      expect(validate('observation', valueOf(back as never))).toBe(true)
    }
    // Deleted documents are kept as tombstones: not exported, and `show` says they are deleted.
    for (const doc of deleted.slice(0, 3)) {
      expect(byId.has(doc.docId)).toBe(false)
      expect((JSON.parse(ferryOk(['--data-dir', data, '--json', 'show', doc.docId])) as Doc).deleted).toBe(true)
    }
  })

  it('exports GeoJSON points that import again as the same observations', () => {
    const root = tempDir()
    const [a, b] = [path.join(root, 'a'), path.join(root, 'b')]
    ferryOk(['--data-dir', a, 'init'])
    ferryOk(['--data-dir', b, 'init'])
    ferryOk(['--data-dir', a, 'add', '--lat', '-3.46', '--lon', '-62.21', '--tag', 'type=river', '--tag', 'name=Rio Negro'])
    ferryOk(['--data-dir', a, 'export', '--format', 'geojson', path.join(root, 'a.geojson')])
    const geo = JSON.parse(readFileSync(path.join(root, 'a.geojson'), 'utf8'))
    expect(geo.features[0].geometry).toEqual({ type: 'Point', coordinates: [-62.21, -3.46] })
    expect(geo.features[0].properties).toMatchObject({ type: 'river', name: 'Rio Negro' })

    ferryOk(['--data-dir', b, 'import', path.join(root, 'a.geojson')])
    ferryOk(['--data-dir', b, 'export', '--format', 'geojson', path.join(root, 'b.geojson')])
    expect(readFileSync(path.join(root, 'b.geojson'), 'utf8')).toBe(readFileSync(path.join(root, 'a.geojson'), 'utf8'))
  })

  it('brings attachment files in with --media and out again, named by SHA-256', async () => {
    const root = tempDir()
    const data = path.join(root, 'data')
    const { createHash } = await import('node:crypto')
    const photo = Buffer.from('pretend this is a JPEG')
    const hash = createHash('sha256').update(photo).digest('hex')
    const { mkdirSync } = await import('node:fs')
    mkdirSync(path.join(root, 'media'))
    writeFileSync(path.join(root, 'media', hash), photo)
    const [doc] = mockObservations().live
    const attachments = [{ driveDiscoveryId: 'a'.repeat(64), name: 'p1', type: 'photo', hash, external: true }]
    writeFileSync(path.join(root, 'in.json'), JSON.stringify([{ ...doc, attachments }]))
    ferryOk(['--data-dir', data, 'init'])
    expect(ferry(['--data-dir', data, 'import', path.join(root, 'in.json'), '--media', path.join(root, 'media')]).code).toBe(0)
    ferryOk(['--data-dir', data, 'export', path.join(root, 'out.json'), '--media', path.join(root, 'out-media')])
    expect(readFileSync(path.join(root, 'out-media', hash)).equals(photo)).toBe(true)
  })
})
