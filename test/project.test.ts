import { mkdirSync, statSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { create as createTar } from 'tar'
import { describe, expect, it } from 'vitest'
import { ferry, ferryJson, ferryOk } from './helpers/cli.js'
import { tempDir } from './helpers/tmp.js'

interface ProjectShow {
  id: string
  name: string
  deviceId: string
  observations: number
  categories: number
}

const DEFAULT_CONFIG = new URL('../node_modules/@mapeo/default-config/dist/mapeo-default-config.comapeocat', import.meta.url).pathname

/** A .mapeosettings as mapeo-settings-builder lays it out: a tar with metadata.json, presets, icons, style. */
async function buildMapeoSettings(dir: string, metadata: Record<string, unknown>): Promise<string> {
  const src = path.join(dir, 'settings-src')
  mkdirSync(src, { recursive: true })
  writeFileSync(path.join(src, 'metadata.json'), JSON.stringify(metadata))
  writeFileSync(path.join(src, 'presets.json'), JSON.stringify({ categories: {}, fields: {}, presets: {} }))
  writeFileSync(path.join(src, 'translations.json'), '{}')
  writeFileSync(path.join(src, 'style.css'), '')
  writeFileSync(path.join(src, 'icons.svg'), '<svg xmlns="http://www.w3.org/2000/svg"/>')
  writeFileSync(path.join(src, 'VERSION'), '3.0')
  const file = path.join(dir, 'team.mapeosettings')
  await createTar({ file, cwd: src, portable: true }, ['metadata.json', 'presets.json', 'translations.json', 'style.css', 'icons.svg', 'VERSION'])
  return file
}

describe('projects', () => {
  it('two computers joining the same .mapeosettings get the same project id and different device ids', async () => {
    const root = tempDir()
    const settings = await buildMapeoSettings(root, { name: 'Amazon monitoring', version: '1.0.0', projectKey: 'ab'.repeat(32), dataset_id: 'amazon' })
    const [a, b] = [path.join(root, 'a'), path.join(root, 'b')]
    ferryOk(['--data-dir', a, 'init', '--join', settings])
    ferryOk(['--data-dir', b, 'init', '--join', settings])
    const showA = ferryJson<ProjectShow>(['--data-dir', a, 'project', 'show'])
    const showB = ferryJson<ProjectShow>(['--data-dir', b, 'project', 'show'])
    expect(showA.id).toBe(showB.id)
    expect(showA.name).toBe('Amazon monitoring')
    expect(showA.deviceId).not.toBe(showB.deviceId)
    expect(showA.id).not.toContain('ab'.repeat(32)) // the id is a hash; the key itself is never shown
  })

  it('a .mapeosettings without a project key is refused with a sentence saying why', async () => {
    const root = tempDir()
    const settings = await buildMapeoSettings(root, { name: 'Public config' })
    const result = ferry(['--data-dir', path.join(root, 'a'), 'init', '--join', settings])
    expect(result.code).toBe(2)
    expect(result.stderr).toMatch(/no project key/)
    expect(() => statSync(path.join(root, 'a'))).toThrow()
  })

  it('a .ferryproject joins the same project, and is written owner-only', () => {
    const root = tempDir()
    const [a, b] = [path.join(root, 'a'), path.join(root, 'b')]
    ferryOk(['--data-dir', a, 'init', '--name', 'Coast'])
    ferryOk(['--data-dir', a, 'project', 'export', path.join(root, 'coast.ferryproject')])
    expect(statSync(path.join(root, 'coast.ferryproject')).mode & 0o777).toBe(0o600)
    expect(statSync(a).mode & 0o777).toBe(0o700)
    ferryOk(['--data-dir', b, 'init', '--join', path.join(root, 'coast.ferryproject')])
    expect(ferryJson<ProjectShow>(['--data-dir', b, 'project', 'show'])).toMatchObject({
      id: ferryJson<ProjectShow>(['--data-dir', a, 'project', 'show']).id,
      name: 'Coast',
    })
  })

  it('imports the categories of the real CoMapeo default configuration', () => {
    const root = tempDir()
    const a = path.join(root, 'a')
    ferryOk(['--data-dir', a, 'init'])
    const imported = ferryJson<{ categories: number; fields: number; name: string }>(['--data-dir', a, 'config', 'import', DEFAULT_CONFIG])
    expect(imported.categories).toBeGreaterThan(10)
    expect(imported.name).toBe('CoMapeo Default Config')
    expect(ferryJson<ProjectShow>(['--data-dir', a, 'project', 'show']).categories).toBe(imported.categories)
  })
})
