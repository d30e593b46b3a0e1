import { createHash } from 'node:crypto'
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { ferryJson, ferryOk } from './helpers/cli.js'
import { makeDevices } from './helpers/devices.js'
import { tempDir } from './helpers/tmp.js'

interface Doc {
  docId: string
  versionId: string
  createdAt: string
  updatedAt: string
  lat?: number
  lon?: number
  tags: Record<string, unknown>
  attachments: Array<{ hash: string }>
}

interface ImportReport {
  imported: number
  alreadyHere: number
  older: number
}

interface FeatureCollection {
  features: Array<{ id: string; geometry: { coordinates: number[] } | null; properties: Record<string, unknown> }>
}

const show = (data: string, docId: string) => ferryJson<Doc>(['--data-dir', data, 'show', docId])
const list = (data: string) => ferryJson<Doc[]>(['--data-dir', data, 'list'])
const importJson = (data: string, file: string, ...flags: string[]) => ferryJson<ImportReport>(['--data-dir', data, 'import', file, ...flags])

/** Exports in `format` to a file, changes the one observation's tag `n` to `to` in it, and returns the file. */
function editedExport(data: string, root: string, format: 'json' | 'geojson', to: string): string {
  const file = path.join(root, `export.${format}`)
  ferryOk(['--data-dir', data, 'export', '--format', format, file])
  const exported = JSON.parse(readFileSync(file, 'utf8')) as Doc[] | FeatureCollection
  if (Array.isArray(exported)) exported[0]!.tags.n = to
  else exported.features[0]!.properties.n = to
  writeFileSync(file, JSON.stringify(exported, null, 2))
  return file
}

/**
 * A document in an import file is one of three things for a document held here: a version this device holds and
 * still shows (already here), one changed or deleted here since (older: left alone without --restore), or an edit
 * made in the file (a new edit, made now). GeoJSON carries no versionId: its feature's updatedAt and content say
 * which version it was exported from.
 */
describe('import of an earlier export, unchanged or edited', () => {
  it('an unchanged earlier GeoJSON export is older: it does not undo the edits made since, unless --restore', () => {
    const root = tempDir()
    const data = path.join(root, 'data')
    ferryOk(['--data-dir', data, 'init'])
    const docId = ferryOk(['--data-dir', data, 'add', '--lat', '1', '--lon', '1', '--tag', 'n=1']).trim()
    const geojson = path.join(root, 'export.geojson')
    ferryOk(['--data-dir', data, 'export', '--format', 'geojson', geojson])
    ferryOk(['--data-dir', data, 'edit', docId, '--tag', 'n=2', '--lat', '5', '--lon', '5'])
    const edited = show(data, docId)

    const text = ferryOk(['--data-dir', data, 'import', geojson])
    expect(text).toBe(
      'Imported 0 observations and 0 media files.\n1 observation is older than here (changed or deleted since) and was left as it is; add --restore to bring it back.\n',
    )
    expect(show(data, docId)).toEqual(edited)

    expect(importJson(data, geojson, '--restore')).toMatchObject({ imported: 1, alreadyHere: 0, older: 0 })
    const restored = show(data, docId)
    expect(restored).toMatchObject({ lat: 1, lon: 1, tags: { n: '1' }, createdAt: edited.createdAt })
    // A restore is an edit made now: it must win over the edit it undoes on every device, not lose to it.
    expect(restored.updatedAt > edited.updatedAt).toBe(true)
  })

  it('an earlier GeoJSON export does not bring back an observation deleted since; --restore does, with its photo', () => {
    const root = tempDir()
    const data = path.join(root, 'data')
    ferryOk(['--data-dir', data, 'init'])
    const photo = path.join(root, 'photo.bin')
    writeFileSync(photo, 'not really a photo')
    const docId = ferryOk(['--data-dir', data, 'add', '--lat', '1', '--lon', '1', '--tag', 'n=1', '--photo', photo]).trim()
    const original = show(data, docId)
    expect(original.attachments).toHaveLength(1)
    const geojson = path.join(root, 'export.geojson')
    ferryOk(['--data-dir', data, 'export', '--format', 'geojson', geojson])
    ferryOk(['--data-dir', data, 'delete', docId])

    expect(importJson(data, geojson)).toMatchObject({ imported: 0, alreadyHere: 0, older: 1 })
    expect(list(data)).toEqual([])

    expect(importJson(data, geojson, '--restore')).toMatchObject({ imported: 1, older: 0 })
    const restored = show(data, docId)
    expect(restored).toMatchObject({ lat: 1, lon: 1, tags: { n: '1' } })
    expect(restored.attachments).toEqual(original.attachments)
  })

  it.each(['json', 'geojson'] as const)('a %s export of a forked observation, imported at once, is already here', (format) => {
    const root = tempDir()
    const [a, b] = makeDevices(root, 2)
    const file = path.join(root, 'team.ferry')
    const docId = ferryOk(['--data-dir', a!, 'add', '--lat', '1', '--lon', '1', '--tag', 'n=1']).trim()
    ferryOk(['--data-dir', a!, 'create', file])
    ferryOk(['--data-dir', b!, 'sync', file])
    ferryOk(['--data-dir', a!, 'edit', docId, '--tag', 'n=A'])
    ferryOk(['--data-dir', b!, 'edit', docId, '--tag', 'n=B'])
    for (const dir of [a!, b!, a!]) ferryOk(['--data-dir', dir, 'sync', file])
    expect(ferryJson<Doc[]>(['--data-dir', a!, 'show', docId, '--forks'])).toHaveLength(2)

    const exported = path.join(root, `export.${format}`)
    ferryOk(['--data-dir', a!, 'export', '--format', format, exported])
    expect(ferryOk(['--data-dir', a!, 'import', exported])).toBe('Imported 0 observations and 0 media files.\n1 observation was already here, unchanged.\n')
    expect(ferryJson<Doc[]>(['--data-dir', a!, 'show', docId, '--forks'])).toHaveLength(2)
  })

  it.each(['json', 'geojson'] as const)('a %s export edited and imported is a new edit: it wins over an edit made elsewhere before it', (format) => {
    const root = tempDir()
    const [a, b] = makeDevices(root, 2)
    const file = path.join(root, 'team.ferry')
    const docId = ferryOk(['--data-dir', a!, 'add', '--lat', '1', '--lon', '1', '--tag', 'n=orig']).trim()
    ferryOk(['--data-dir', a!, 'create', file])
    ferryOk(['--data-dir', b!, 'sync', file])
    const created = show(a!, docId).createdAt

    const exported = editedExport(a!, root, format, 'fromA') // exported first, edited by hand last
    ferryOk(['--data-dir', b!, 'edit', docId, '--tag', 'n=fromB'])
    const atB = show(b!, docId)
    expect(importJson(a!, exported)).toMatchObject({ imported: 1, alreadyHere: 0, older: 0 })
    const atA = show(a!, docId)
    expect(atA).toMatchObject({ tags: { n: 'fromA' }, createdAt: created })
    expect(atA.updatedAt > atB.updatedAt).toBe(true)

    for (const dir of [a!, b!, a!]) ferryOk(['--data-dir', dir, 'sync', file])
    expect(show(a!, docId).tags.n).toBe('fromA')
    expect(show(b!, docId).tags.n).toBe('fromA')
  })

  it.each(['json', 'geojson'] as const)('a %s file of observations not held here keeps its own dates', (format) => {
    const root = tempDir()
    const [from, to] = [path.join(root, 'from'), path.join(root, 'to')]
    ferryOk(['--data-dir', from, 'init'])
    const docId = ferryOk(['--data-dir', from, 'add', '--lat', '1', '--lon', '1', '--tag', 'n=1']).trim()
    const original = show(from, docId)
    const exported = path.join(root, `export.${format}`)
    ferryOk(['--data-dir', from, 'export', '--format', format, exported])
    ferryOk(['--data-dir', to, 'init'])
    expect(importJson(to, exported)).toMatchObject({ imported: 1 })
    expect(show(to, docId)).toMatchObject({ createdAt: original.createdAt, updatedAt: original.updatedAt, tags: { n: '1' } })
  })
})

describe('an earlier GeoJSON export of a version an earlier build dated without a time zone', () => {
  it('is known as that version (its date as written), so importing it again is older, not an edit', async () => {
    const root = tempDir()
    const data = path.join(root, 'data')
    ferryOk(['--data-dir', data, 'init'])
    // Earlier builds stored an imported date as the file gave it, zone or not.
    const { Store } = await import('../src/store/store.js')
    const store = await Store.open(data)
    await store.writeLocal([{ createdAt: '2025-06-01T10:00:00', updatedAt: '2025-06-01T10:00:00', value: { schemaName: 'observation', lat: 1, lon: 2, attachments: [], tags: { k: 'original' } } }])
    await store.close()
    const docId = list(data)[0]!.docId
    const file = path.join(root, 'export.geojson')
    ferryOk(['--data-dir', data, 'export', '--format', 'geojson', file])
    ferryOk(['--data-dir', data, 'edit', docId, '--tag', 'k=edited'])
    for (const tz of ['UTC', 'America/New_York']) {
      const report = ferryJson<ImportReport>(['--data-dir', data, 'import', file], { env: { TZ: tz } })
      expect({ tz, ...report }).toMatchObject({ tz, imported: 0, older: 1 })
      expect(show(data, docId).tags.k).toBe('edited')
    }
  })
})

describe('an export edited in the file, imported after changes made here since the export', () => {
  /** One observation with tags a and b, exported; the export's file and the observation's id. */
  function exported(format: 'json' | 'geojson') {
    const root = tempDir()
    const data = path.join(root, 'data')
    ferryOk(['--data-dir', data, 'init'])
    const docId = ferryOk(['--data-dir', data, 'add', '--lat', '1', '--lon', '2', '--tag', 'a=1', '--tag', 'b=1']).trim()
    const file = path.join(root, `export.${format}`)
    ferryOk(['--data-dir', data, 'export', '--format', format, file])
    const editFile = (tags: Record<string, string>) => {
      const parsed = JSON.parse(readFileSync(file, 'utf8')) as Doc[] | FeatureCollection
      if (Array.isArray(parsed)) Object.assign(parsed[0]!.tags, tags)
      else Object.assign(parsed.features[0]!.properties, tags)
      writeFileSync(file, JSON.stringify(parsed))
    }
    return { root, data, docId, file, editFile }
  }

  for (const format of ['json', 'geojson'] as const) {
    it(`${format}: only what changed in the file is applied; a change made here since stays`, () => {
      const { data, docId, file, editFile } = exported(format)
      ferryOk(['--data-dir', data, 'edit', docId, '--tag', 'b=2', '--lat', '5', '--lon', '6'])
      editFile({ a: '2' })
      expect(importJson(data, file)).toMatchObject({ imported: 1 })
      const now = show(data, docId)
      expect({ tags: now.tags, lat: now.lat, lon: now.lon }).toEqual({ tags: { a: '2', b: '2' }, lat: 5, lon: 6 })
    })

    it(`${format}: over an observation deleted here since, it is older (nothing written) unless --restore`, () => {
      const { data, docId, file, editFile } = exported(format)
      ferryOk(['--data-dir', data, 'delete', docId])
      editFile({ a: '2' })
      expect(importJson(data, file)).toMatchObject({ imported: 0, older: 1 })
      expect(list(data)).toEqual([])
      expect(importJson(data, file, '--restore')).toMatchObject({ imported: 1 })
      expect(show(data, docId).tags).toEqual({ a: '2', b: '1' })
    })
  }

  it('json: a photo attached here since the export is kept when the file changes a tag', () => {
    const { root, data, docId, file, editFile } = exported('json')
    const photo = path.join(root, 'photo.jpg')
    writeFileSync(photo, Buffer.alloc(20_000, 5))
    // The CLI attaches photos only to new observations: a JSON document carrying one, imported, attaches it here.
    const withPhoto = JSON.parse(readFileSync(file, 'utf8')) as Doc[]
    const media = path.join(root, 'media')
    const hash = createHash('sha256').update(readFileSync(photo)).digest('hex')
    mkdirSync(media)
    writeFileSync(path.join(media, hash), readFileSync(photo))
    withPhoto[0]!.attachments = [{ driveDiscoveryId: 'd', name: 'p', type: 'photo', hash, external: false } as { hash: string }]
    const attaching = path.join(root, 'attaching.json')
    writeFileSync(attaching, JSON.stringify(withPhoto))
    expect(importJson(data, attaching, '--media', media)).toMatchObject({ imported: 1 })
    expect(show(data, docId).attachments).toHaveLength(1)
    editFile({ a: '2' })
    expect(importJson(data, file)).toMatchObject({ imported: 1 })
    expect(show(data, docId).attachments).toHaveLength(1)
    expect(show(data, docId).tags).toEqual({ a: '2', b: '1' })
  })
})

describe('an edited export imported again, or whose changes meet changes here', () => {
  function setup() {
    const root = tempDir()
    const data = path.join(root, 'data')
    ferryOk(['--data-dir', data, 'init'])
    const docId = ferryOk(['--data-dir', data, 'add', '--lat', '1', '--lon', '2', '--tag', 'a=1', '--tag', 'b=1']).trim()
    const file = path.join(root, 'export.json')
    ferryOk(['--data-dir', data, 'export', file])
    const edited = (change: (doc: Doc) => void, name: string) => {
      const docs = JSON.parse(readFileSync(file, 'utf8')) as Doc[]
      change(docs[0]!)
      const out = path.join(root, name)
      writeFileSync(out, JSON.stringify(docs))
      return out
    }
    /** A JSON document naming the version here, with a photo attached, imported with its media: attaches it here. */
    const attach = (bytes: number) => {
      const photo = Buffer.alloc(bytes, bytes % 251)
      const hash = createHash('sha256').update(photo).digest('hex')
      const media = path.join(root, `media-${bytes}`)
      mkdirSync(media)
      writeFileSync(path.join(media, hash), photo)
      return { hash, media, attachment: { driveDiscoveryId: 'd', name: `p${bytes}`, type: 'photo', hash, external: false } as { hash: string } }
    }
    return { root, data, docId, edited, attach }
  }

  it('imported twice after a change here to another tag: the second time it is already here', () => {
    const { data, docId, edited } = setup()
    const file = edited((d) => (d.tags.a = '2'), 'a2.json')
    expect(importJson(data, file)).toMatchObject({ imported: 1 })
    ferryOk(['--data-dir', data, 'edit', docId, '--tag', 'b=2'])
    expect(importJson(data, file)).toMatchObject({ imported: 0, alreadyHere: 1 })
    expect(show(data, docId).tags).toEqual({ a: '2', b: '2' })
  })

  it('imported again after its change was changed again here: older, the later change stays', () => {
    const { data, docId, edited } = setup()
    const file = edited((d) => (d.tags.a = '2'), 'a2.json')
    expect(importJson(data, file)).toMatchObject({ imported: 1 })
    ferryOk(['--data-dir', data, 'edit', docId, '--tag', 'a=3'])
    expect(importJson(data, file)).toMatchObject({ imported: 0, older: 1 })
    expect(show(data, docId).tags.a).toBe('3')
  })

  it('the position moves as one: the file\'s latitude does not meet the longitude changed here', () => {
    const { data, docId, edited } = setup()
    ferryOk(['--data-dir', data, 'edit', docId, '--lat', '1', '--lon', '7'])
    const file = edited((d) => (d.lat = 5), 'lat5.json')
    expect(importJson(data, file)).toMatchObject({ imported: 1 })
    const now = show(data, docId)
    expect([now.lat, now.lon]).toEqual([5, 2])
  })

  it('a photo added in the file joins one attached here since, photo by photo', () => {
    const { data, docId, edited, attach } = setup()
    const here = attach(20_000)
    const hereFile = edited((d) => (d.attachments = [here.attachment]), 'here.json')
    expect(importJson(data, hereFile, '--media', here.media)).toMatchObject({ imported: 1 })
    const added = attach(30_000)
    const file = edited((d) => (d.attachments = [added.attachment]), 'added.json')
    expect(importJson(data, file, '--media', added.media)).toMatchObject({ imported: 1 })
    expect(show(data, docId).attachments.map((a) => a.hash).sort()).toEqual([here.hash, added.hash].sort())
  })
})

describe('import: files that give less than an export does', () => {
  it('a document without versionId over an observation deleted here is older, unless --restore', () => {
    const root = tempDir()
    const data = path.join(root, 'data')
    ferryOk(['--data-dir', data, 'init'])
    const docId = ferryOk(['--data-dir', data, 'add', '--lat', '1', '--lon', '2', '--tag', 'a=1']).trim()
    const file = path.join(root, 'export.json')
    ferryOk(['--data-dir', data, 'export', file])
    const docs = JSON.parse(readFileSync(file, 'utf8')) as Array<Partial<Doc>>
    delete docs[0]!.versionId
    docs[0]!.tags = { a: '2' }
    writeFileSync(file, JSON.stringify(docs))
    ferryOk(['--data-dir', data, 'delete', docId])
    expect(importJson(data, file)).toMatchObject({ imported: 0, older: 1 })
    expect(list(data)).toEqual([])
    expect(importJson(data, file, '--restore')).toMatchObject({ imported: 1 })
  })

  it('-0 in a file is the 0 stored: imported twice, the second time it is already here', () => {
    const root = tempDir()
    const data = path.join(root, 'data')
    ferryOk(['--data-dir', data, 'init'])
    const file = path.join(root, 'zero.json')
    const doc = { docId: 'z'.repeat(20), schemaName: 'observation', createdAt: '2025-01-01T00:00:00Z', updatedAt: '2025-01-01T00:00:00Z', links: [], deleted: false, lat: 0, lon: 1, tags: { depth: 0 }, attachments: [] }
    writeFileSync(file, JSON.stringify([doc]).replace('"lat":0', '"lat":-0').replace('"depth":0', '"depth":-0'))
    expect(importJson(data, file)).toMatchObject({ imported: 1 })
    expect(importJson(data, file)).toMatchObject({ imported: 0, alreadyHere: 1 })
  })

  it('a photo renamed in the file is renamed here (counted as imported)', () => {
    const root = tempDir()
    const data = path.join(root, 'data')
    ferryOk(['--data-dir', data, 'init'])
    const photo = path.join(root, 'p1.png')
    writeFileSync(photo, Buffer.alloc(10_000, 3))
    const docId = ferryOk(['--data-dir', data, 'add', '--lat', '1', '--lon', '2', '--photo', photo]).trim()
    const file = path.join(root, 'export.json')
    ferryOk(['--data-dir', data, 'export', file])
    const docs = JSON.parse(readFileSync(file, 'utf8')) as Array<Doc & { attachments: Array<{ name: string }> }>
    docs[0]!.attachments[0]!.name = 'heron.png'
    writeFileSync(file, JSON.stringify(docs))
    expect(importJson(data, file)).toMatchObject({ imported: 1 })
    expect((show(data, docId).attachments[0] as unknown as { name: string }).name).toBe('heron.png')
  })
})

describe('import: what review found at the edges', () => {
  function oneObservation(tags: Record<string, string>) {
    const root = tempDir()
    const data = path.join(root, 'data')
    ferryOk(['--data-dir', data, 'init'])
    const file = path.join(root, 'in.json')
    const doc = { docId: 'edge'.repeat(5), schemaName: 'observation', createdAt: '2025-01-01T00:00:00Z', updatedAt: '2025-01-01T00:00:00Z', links: [], deleted: false, lat: 1, lon: 2, tags, attachments: [] }
    writeFileSync(file, JSON.stringify([doc]))
    ferryOk(['--data-dir', data, 'import', file])
    return { root, data, docId: doc.docId }
  }

  it('a delete in the file over edits made here since its version is older, unless --restore', () => {
    const { root, data, docId } = oneObservation({ a: '1' })
    const file = path.join(root, 'export.json')
    ferryOk(['--data-dir', data, 'export', file])
    ferryOk(['--data-dir', data, 'edit', docId, '--tag', 'a=2'])
    const docs = JSON.parse(readFileSync(file, 'utf8')) as Array<Doc & { deleted: boolean }>
    docs[0]!.deleted = true
    writeFileSync(file, JSON.stringify(docs))
    expect(importJson(data, file)).toMatchObject({ imported: 0, older: 1 })
    expect(show(data, docId).tags.a).toBe('2')
  })

  it('an earlier GeoJSON export restored with --restore keeps a photo attached since', () => {
    const { root, data, docId } = oneObservation({ a: '1' })
    const file = path.join(root, 'export.geojson')
    ferryOk(['--data-dir', data, 'export', '--format', 'geojson', file])
    const photo = Buffer.alloc(12_000, 6)
    const hash = createHash('sha256').update(photo).digest('hex')
    const media = path.join(root, 'media')
    mkdirSync(media)
    writeFileSync(path.join(media, hash), photo)
    const json = path.join(root, 'export.json')
    ferryOk(['--data-dir', data, 'export', json])
    const docs = JSON.parse(readFileSync(json, 'utf8')) as Doc[]
    docs[0]!.attachments = [{ driveDiscoveryId: 'd', name: 'p', type: 'photo', hash, external: false } as { hash: string }]
    docs[0]!.tags.a = '2'
    writeFileSync(json, JSON.stringify(docs))
    expect(importJson(data, json, '--media', media)).toMatchObject({ imported: 1 })
    expect(importJson(data, file, '--restore')).toMatchObject({ imported: 1 })
    const now = show(data, docId)
    expect({ a: now.tags.a, photos: now.attachments.length }).toEqual({ a: '1', photos: 1 })
  })

  it('tags named constructor or createdAt: removed in the file they go, and a GeoJSON round trip keeps them', () => {
    const { root, data, docId } = oneObservation({ constructor: 'x', createdAt: 'dawn', a: '1' })
    const geojson = path.join(root, 'export.geojson')
    ferryOk(['--data-dir', data, 'export', '--format', 'geojson', geojson])
    expect(importJson(data, geojson)).toMatchObject({ imported: 0, alreadyHere: 1 })
    const file = path.join(root, 'export.json')
    ferryOk(['--data-dir', data, 'export', file])
    const docs = JSON.parse(readFileSync(file, 'utf8')) as Doc[]
    docs[0]!.tags = { createdAt: 'dawn', a: '2' }
    writeFileSync(file, JSON.stringify(docs))
    expect(importJson(data, file)).toMatchObject({ imported: 1 })
    expect(show(data, docId).tags).toEqual({ createdAt: 'dawn', a: '2' })
  })

  it('an export thousands of versions back is judged without running out of stack', async () => {
    const root = tempDir()
    const data = path.join(root, 'data')
    ferryOk(['--data-dir', data, 'init'])
    const { Store } = await import('../src/store/store.js')
    const store = await Store.open(data)
    const value = (n: number) => ({ schemaName: 'observation', lat: 1, lon: 2, attachments: [], tags: { n: String(n) } })
    const [first] = await store.writeLocal([{ value: value(0) }])
    const docId = store.getVersion(first!)!.docId
    const file = path.join(root, 'export.json')
    await store.close()
    ferryOk(['--data-dir', data, 'export', file])
    const again = await Store.open(data)
    await again.writeLocal((function* () {
      for (let i = 1; i <= 12_000; i++) yield { docId, value: value(i) }
    })())
    await again.close()
    const docs = JSON.parse(readFileSync(file, 'utf8')) as Doc[]
    docs[0]!.tags.m = 'added'
    writeFileSync(file, JSON.stringify(docs))
    expect(importJson(data, file)).toMatchObject({ imported: 1 })
    expect(show(data, docId).tags).toEqual({ n: '12000', m: 'added' })
  })
})
