import { execFileSync, spawn, spawnSync } from 'node:child_process'
import { closeSync, openSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { jsonExportParts, geoJsonExportParts } from '../src/documents/export-format.js'
import { writeTextFile } from '../src/cli/text-out.js'
import { toComapeoDoc, type Version } from '../src/store/version.js'
import { testStores } from './helpers/stores.js'
import { tempDir } from './helpers/tmp.js'
import { CLI, ferry, ferryOk, ferrySpawn, testEnv } from './helpers/cli.js'
import { makeDevices } from './helpers/devices.js'

/**
 * Exports and `list` are written one document at a time (a project of 100,000 observations took over 1 GB when
 * they were built whole). The bytes must stay exactly what JSON.stringify of the whole array gives, so exports of
 * the same data stay byte-identical across devices and versions of Ferry.
 */
const { devices } = testStores('export', 'River monitors')

async function versionsOf(n: number): Promise<Version[]> {
  const [a] = await devices(1)
  const odd = { note: 'line one\nline two "quoted" \\ back', unicode: 'Tapajós 🐟', nested: ['a', 'b'], empty: '' }
  await a!.writeLocal(Array.from({ length: n }, (_, i) => ({ value: { schemaName: 'observation', lat: i % 2 ? -3.1 : 0, lon: 60.25, tags: i % 3 ? odd : {}, attachments: [] } })))
  return [...a!.currentVersions()]
}

describe('export layout, one document at a time', () => {
  it('is byte for byte JSON.stringify of the whole array, for none, one and many documents', async () => {
    for (const n of [0, 1, 7]) {
      const versions = await versionsOf(n)
      expect([...jsonExportParts(versions)].join('')).toBe(`${JSON.stringify(versions.map(toComapeoDoc), null, 2)}\n`)
    }
  })

  it('GeoJSON is byte for byte JSON.stringify of the whole collection', async () => {
    for (const n of [0, 1, 7]) {
      const versions = await versionsOf(n)
      const features = versions.map((v) => {
        const { lat, lon, tags } = v.value as { lat?: number; lon?: number; tags?: Record<string, unknown> }
        return { type: 'Feature', id: v.docId, geometry: typeof lat === 'number' && typeof lon === 'number' ? { type: 'Point', coordinates: [lon, lat] } : null, properties: { ...tags, createdAt: v.createdAt, updatedAt: v.updatedAt } }
      })
      expect([...geoJsonExportParts(versions)].join('')).toBe(`${JSON.stringify({ type: 'FeatureCollection', features }, null, 2)}\n`)
    }
  })
})

describe('writeTextFile', () => {
  it('replaces the file only once the whole text is written, and leaves no temporary file', async () => {
    const dir = tempDir()
    const file = path.join(dir, 'out.json')
    writeFileSync(file, 'the previous export\n')
    const failing = (function* () {
      yield 'part of a new export'
      throw new Error('the disk failed half way')
    })()
    await expect(writeTextFile(file, failing)).rejects.toThrow(/half way/)
    expect(readFileSync(file, 'utf8')).toBe('the previous export\n')
    expect(readdirSync(dir)).toEqual(['out.json'])

    await writeTextFile(file, ['a', 'b'.repeat(3_000_000), 'c'])
    expect(readFileSync(file, 'utf8')).toBe(`a${'b'.repeat(3_000_000)}c`)
    expect(readdirSync(dir)).toEqual(['out.json'])
  })

  it('writes straight into something that is not a regular file (a pipe), leaving it in place', async () => {
    const dir = tempDir()
    const fifo = path.join(dir, 'pipe')
    execFileSync('mkfifo', [fifo])
    // A reader on the other end (a pipe's writer waits for one), stopped by PID whatever happens.
    const reader = spawn('cat', [fifo], { stdio: ['ignore', 'pipe', 'ignore'] })
    try {
      const received: Buffer[] = []
      reader.stdout.on('data', (d: Buffer) => received.push(d))
      const exited = new Promise((resolve) => reader.on('exit', resolve))
      await writeTextFile(fifo, ['through ', 'the pipe'])
      await exited
      expect(Buffer.concat(received).toString()).toBe('through the pipe')
      expect(statSync(fifo).isFIFO()).toBe(true)
      expect(readdirSync(dir)).toEqual(['pipe'])
    } finally {
      if (reader.exitCode === null) reader.kill('SIGKILL')
    }
  })
})

describe('ferry list and export', () => {
  it('print the same documents in the same order: list --json is export’s documents on one line', () => {
    const root = tempDir()
    const [one] = makeDevices(root, 1)
    for (let i = 0; i < 5; i++) ferryOk(['--data-dir', one!, 'add', '--lat', String(i), '--lon', '2', '--tag', `n=${i}`])
    const file = path.join(root, 'all.json')
    ferryOk(['--data-dir', one!, 'export', file])
    const exported = JSON.parse(readFileSync(file, 'utf8')) as unknown[]
    expect(ferryOk(['--data-dir', one!, '--json', 'list'])).toBe(`${JSON.stringify(exported)}\n`)
    const lines = ferryOk(['--data-dir', one!, 'list']).trimEnd().split('\n')
    expect(lines).toHaveLength(5)
    expect(lines.map((l) => l.split('  ')[0])).toEqual(exported.map((d) => (d as { docId: string }).docId))
  })

  it('export - writes the documents to standard output and the summary to stderr, and makes no file', () => {
    const root = tempDir()
    const [one] = makeDevices(root, 1)
    for (let i = 0; i < 3; i++) ferryOk(['--data-dir', one!, 'add', '--lat', String(i), '--lon', '2'])
    const file = path.join(root, 'all.json')
    ferryOk(['--data-dir', one!, 'export', file])
    for (const json of [false, true]) {
      const result = ferry(['--data-dir', one!, ...(json ? ['--json'] : []), 'export', '-'], { cwd: root })
      expect(result.code).toBe(0)
      expect(result.stdout).toBe(readFileSync(file, 'utf8'))
      expect(result.stderr).toBe(json ? '{"file":"-","observations":3,"media":0}\n' : 'Exported 3 observations to standard output.\n')
    }
    expect(readdirSync(root)).not.toContain('-')
  })

  it('a reader that stops early (ferry list | head) ends nothing badly: exit 0, no error printed', async () => {
    const root = tempDir()
    const [one] = makeDevices(root, 1)
    ferryOk(['--data-dir', one!, 'add', '--lat', '1', '--lon', '2'])
    for (const args of [['--help'], ['--data-dir', one!, 'list'], ['--data-dir', one!, 'export', '-']]) {
      // The read end is closed before the child writes anything, so its first write fails with EPIPE.
      const child = ferrySpawn(args, ['ignore', 'pipe', 'pipe'])
      child.stdout!.destroy()
      let stderr = ''
      child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()))
      try {
        const code = await new Promise((resolve) => child.on('close', resolve))
        expect({ args, code, stderr: stderr.replace(/^Exported .*\n$/, '') }).toEqual({ args, code: 0, stderr: '' })
      } finally {
        if (child.exitCode === null) child.kill('SIGKILL')
      }
    }
  })

  it('output that cannot be written (a full disk under > file) → exit 5 with one plain sentence, not a crash', () => {
    const root = tempDir()
    const [one] = makeDevices(root, 1)
    ferryOk(['--data-dir', one!, 'add', '--lat', '1', '--lon', '2'])
    const full = openSync('/dev/full', 'w')
    try {
      for (const args of [['list'], ['export', '-'], ['--json', 'project', 'show'], ['--help'], ['sync', '--help'], ['--version']]) {
        const result = spawnSync(process.execPath, [CLI, '--data-dir', one!, ...args], { stdio: ['ignore', full, 'pipe'], encoding: 'utf8', env: testEnv() })
        expect({ args, code: result.status, stderr: result.stderr }).toEqual({ args, code: 5, stderr: 'ferry: Writing the output failed (ENOSPC). Nothing was lost: check where the output goes (a full disk?) and run the command again.\n' })
      }
    } finally {
      closeSync(full)
    }
  })
})
