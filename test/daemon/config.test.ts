import { mkdtemp, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { defaultMediaRoots, loadSettings } from '../../src/daemon/config.js'

let configDir: string
const saved = process.env.FERRY_CONFIG_DIR

beforeEach(async () => {
  configDir = await mkdtemp(path.join(os.tmpdir(), 'ferry-cfg-'))
  process.env.FERRY_CONFIG_DIR = configDir
})
afterEach(() => {
  if (saved === undefined) delete process.env.FERRY_CONFIG_DIR
  else process.env.FERRY_CONFIG_DIR = saved
})

describe('settings', () => {
  it('starts on documented defaults with nothing configured', () => {
    const s = loadSettings({}, {})
    expect(s.inbox).toBe(path.join(os.homedir(), 'Ferry', 'Inbox'))
    expect(s.outbox).toBe(path.join(os.homedir(), 'Ferry', 'Outbox'))
    expect(s.tray).toBe(true)
    expect(s.mediaRoots).toEqual(defaultMediaRoots().map((r) => path.resolve(r)))
  })

  it('layers default < user file < environment < flags', async () => {
    await writeFile(path.join(configDir, 'config.json'), JSON.stringify({ inbox: '/from/file', outbox: '/out/file', pollMs: 500 }))
    const s = loadSettings({ inbox: '/from/flag', mediaRoot: ['/mnt/a', '/mnt/b'] }, { FERRY_INBOX: '/from/env', FERRY_OUTBOX: '/out/env', FERRY_TRAY: '0' })
    expect(s.inbox).toBe('/from/flag')
    expect(s.outbox).toBe('/out/env')
    expect(s.pollMs).toBe(500)
    expect(s.tray).toBe(false)
    expect(s.mediaRoots).toEqual(['/mnt/a', '/mnt/b'])
  })

  it('--no-tray turns the tray off', () => {
    expect(loadSettings({ tray: false }, {}).tray).toBe(false)
  })

  it('names the file and key of a bad setting', async () => {
    const file = path.join(configDir, 'config.json')
    await writeFile(file, JSON.stringify({ pollMs: 'fast' }))
    expect(() => loadSettings({}, {})).toThrow(`The settings in ${file} are not valid: "pollMs"`)
    await writeFile(file, JSON.stringify({ inboxx: '/typo' }))
    expect(() => loadSettings({}, {})).toThrow(/inboxx/)
    await writeFile(file, '{ not json')
    expect(() => loadSettings({}, {})).toThrow(/is not valid JSON/)
  })

  it('names a bad environment value', () => {
    expect(() => loadSettings({}, { FERRY_TRAY: 'maybe' })).toThrow(/FERRY_\* environment variables.*"tray"/)
  })
})
