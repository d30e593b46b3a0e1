import fc from 'fast-check'
import { closeSync, openSync, utimesSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { JsonLayoutError, scanJsonLayout, SpanParser, type JsonLayout } from '../src/documents/json-elements.js'
import { planImport } from '../src/documents/import-parse.js'
import { FerryError } from '../src/errors.js'
import { comapeoSchema } from '../src/store/comapeo-schema.js'
import { testStores } from './helpers/stores.js'
import { tempDir } from './helpers/tmp.js'

/**
 * `ferry import` reads its file one document at a time (json-elements.ts): the documents it finds must be exactly
 * what JSON.parse of the whole file gives, and anything JSON.parse refuses must be refused.
 */
function withFile<T>(text: string | Buffer, use: (fd: number, size: number, file: string) => T): T {
  const file = path.join(tempDir(), 'in.json')
  writeFileSync(file, text)
  const fd = openSync(file, 'r')
  try {
    return use(fd, Buffer.byteLength(text), file)
  } finally {
    closeSync(fd)
  }
}

function elementsOf(fd: number, layout: JsonLayout): unknown[] {
  const parser = new SpanParser(fd)
  const out: unknown[] = []
  for (let i = 0; i < layout.spans.length; i += 2) out.push(parser.parse(layout.spans[i]!, layout.spans[i + 1]!))
  return out
}

/** What the scan makes of `text`: the documents and other members, or 'refused' when the file is not valid JSON. */
function scanned(text: string): { root: string; elements: unknown[]; members: Record<string, unknown> } | 'refused' {
  return withFile(text, (fd, size) => {
    try {
      const layout = scanJsonLayout(fd, size)
      return { root: layout.root, elements: elementsOf(fd, layout), members: layout.members }
    } catch (err) {
      if (err instanceof JsonLayoutError || err instanceof SyntaxError) return 'refused'
      throw err
    }
  })
}

describe('import files read one document at a time', () => {
  it('finds exactly the elements JSON.parse finds, whatever the values and the spacing', () => {
    const spacing = fc.constantFrom(undefined, 0, 1, 2, '\t', ' \r\n ')
    fc.assert(
      fc.property(fc.array(fc.jsonValue()), spacing, (docs, space) => {
        const text = JSON.stringify(docs, null, space as never)
        expect(scanned(text)).toEqual({ root: 'array', elements: JSON.parse(text), members: {} })
      }),
      { numRuns: 300 },
    )
  })

  it('finds the features of a FeatureCollection wherever the member is, and parses its other members', () => {
    fc.assert(
      fc.property(fc.array(fc.jsonValue(), { maxLength: 5 }), fc.dictionary(fc.string().filter((k) => k !== 'features'), fc.jsonValue(), { maxKeys: 4 }), fc.boolean(), (features, others, featuresFirst) => {
        const collection = featuresFirst ? { features, ...others } : { ...others, features }
        const text = JSON.stringify(collection, null, 1)
        const { features: expected, ...members } = JSON.parse(text) as { features: unknown[] } // -0 becomes 0
        expect(scanned(text)).toEqual({ root: 'object', elements: expected, members })
      }),
      { numRuns: 200 },
    )
  })

  it('reads strings holding brackets, quotes, backslashes and non-ASCII text, after a byte-order mark; a member named __proto__ stays a member', () => {
    const docs = [{ a: '] } [ {', b: 'quote " inside', c: 'ends with a backslash \\', d: 'Tapajós 🐟 ]' }, ['\\"', '[', '{'], 'x']
    expect(scanned(`\uFEFF ${JSON.stringify(docs)} \n`)).toEqual({ root: 'array', elements: docs, members: {} })
    const proto = '{"__proto__": {"polluted": true}, "type": "FeatureCollection", "features": []}'
    const result = scanned(proto) as { members: Record<string, unknown> }
    const { features: _features, ...members } = JSON.parse(proto) as Record<string, unknown>
    expect(result.members).toEqual(members)
    expect(Object.keys(result.members)).toEqual(['__proto__', 'type'])
    expect(Object.getPrototypeOf(result.members)).toBe(Object.prototype)
  })

  it('refuses what JSON.parse refuses: cut short, a missing or extra comma, something after the end', () => {
    const bad = ['[', '[{"a": 1}', '[{"a": 1} {"b": 2}]', '[{"a": 1},]', '[,{"a": 1}]', '[{"a": 1}] x', '[{"a": "unclosed}]', '[{"a": 1]}', '{"type": "FeatureCollection", "features": [1, 2}', '{"features" [1]}', '[1 2]', '[tru]', '']
    for (const text of bad) {
      expect(() => JSON.parse(text), text).toThrow()
      expect(scanned(text), text).toBe('refused')
    }
  })

  it('reports a file that is not JSON, or not an array or a FeatureCollection, in one sentence naming it', async () => {
    const schema = await comapeoSchema()
    const cases: Array<[string, RegExp]> = [
      ['[{"docId": ', /in\.json is not valid JSON \(.*\)\. Nothing was imported\./],
      ['[{"docId": "a"} {"docId": "b"}]', /in\.json is not valid JSON \(an array element is not followed by , or \] at byte 16\)\. Nothing was imported\./],
      ['[{"docId": "a",}]', /in\.json is not valid JSON \(.*, in document 1\)\. Nothing was imported\./],
      ['"just a string"', /in\.json is neither a JSON array of observations nor a GeoJSON FeatureCollection/],
      ['{"type": "Feature", "features": []}', /neither a JSON array/],
      ['{"type": "FeatureCollection", "bbox": [1,}, "features": []}', /in\.json is not valid JSON \(.*\)\. Nothing was imported\./],
      ['{"\\q": 1, "features": []}', /in\.json is not valid JSON/],
      // A key given twice keeps its last value, as JSON.parse does: these features are 7, not an array.
      ['{"type": "FeatureCollection", "features": [{"type": "Feature", "geometry": null, "properties": {}}], "features": 7}', /neither a JSON array/],
    ]
    for (const [text, message] of cases) {
      const error = withFile(text, (fd, size, file) => {
        try {
          planImport(fd, file, schema)
        } catch (err) {
          return err
        }
        return undefined
      })
      expect(error, text).toBeInstanceOf(FerryError)
      expect((error as FerryError).message, text).toMatch(message)
    }
  })
})

describe('an import file that changes between its check and its writing', () => {
  const { devices } = testStores('import-change', 'Import')
  const doc = (docId: string, lat: number) => ({ docId, schemaName: 'observation', createdAt: '2024-01-01T00:00:00.000Z', updatedAt: '2024-01-01T00:00:00.000Z', links: [], deleted: false, lat, lon: 2, tags: {}, attachments: [] })
  const a = 'a'.repeat(64)
  const b = 'b'.repeat(64)
  const good = JSON.stringify([doc(a, 1), doc(b, 30)])

  /**
   * Plans an import of `good`, rewrites the file with `changed` (the same length), optionally puts its modification
   * time back, then writes: it must fail with `message` and write nothing.
   */
  async function importAfterChange(changed: string, keepTime: boolean, message: RegExp): Promise<void> {
    const [store] = await devices(1)
    const schema = await comapeoSchema()
    const file = path.join(tempDir(), 'in.json')
    writeFileSync(file, good)
    const time = new Date('2024-06-01T00:00:00Z') // whole seconds: put back exactly
    utimesSync(file, time, time)
    const fd = openSync(file, 'r')
    try {
      const plan = planImport(fd, file, schema)
      expect(plan.count).toBe(2)
      expect(changed).toHaveLength(good.length)
      writeFileSync(file, changed)
      if (keepTime) utimesSync(file, time, time)
      await expect(store!.writeLocal(plan.changes())).rejects.toThrow(message)
      expect(store!.countObservations()).toBe(0)
      expect([...store!.currentVersions()]).toEqual([])
    } finally {
      closeSync(fd)
    }
  }

  it('a file rewritten after the check is refused inside the write transaction: nothing is written', async () => {
    await importAfterChange(good.replace('"lat":30,', '"lat":31,'), false, /in\.json changed while it was being imported\. Nothing was imported/)
  })

  it('every document is checked again as it is written, even if the file kept its size and time', async () => {
    // The second document becomes invalid (a latitude of 99)…
    await importAfterChange(good.replace('"lat":30,', '"lat":99,'), true, /Document 2 .* is not a valid observation: lat/)
    // …or takes the first one's docId, which would otherwise make it an edit of the first.
    await importAfterChange(good.replace(`"docId":"${b}"`, `"docId":"${a}"`), true, /holds document a+ twice/)
  })
})
