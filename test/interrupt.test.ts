import { randomBytes } from 'node:crypto'
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { ferry, ferryOk, ferrySpawn } from './helpers/cli.js'
import { tempDir } from './helpers/tmp.js'

/** Resolves once `check` holds, looking every few milliseconds; rejects after `ms`. */
async function until(check: () => boolean, ms: number): Promise<void> {
  const end = Date.now() + ms
  while (!check()) {
    if (Date.now() > end) throw new Error('timed out waiting')
    await new Promise((resolve) => setTimeout(resolve, 2))
  }
}

describe('Ctrl-C during a long write stops it cleanly', () => {
  it('create stopped by Ctrl-C: exit 130, one sentence, and nothing of the file left on the drive', async () => {
    const root = tempDir()
    const data = path.join(root, 'data')
    ferryOk(['--data-dir', data, 'init'])
    // A recording large enough that writing it takes a while, so the signal lands while the file is written.
    const recording = path.join(root, 'recording.bin')
    writeFileSync(recording, randomBytes(400 * 1024 * 1024))
    ferryOk(['--data-dir', data, 'add', '--lat', '1', '--lon', '2', '--photo', recording])
    const drive = path.join(root, 'usb')
    mkdirSync(drive)

    const child = ferrySpawn(['--data-dir', data, 'create', path.join(drive, 'field.ferry')], ['ignore', 'pipe', 'pipe'])
    let stderr = ''
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()))
    const exited = new Promise<number | null>((resolve) => child.on('close', resolve))
    try {
      // The hidden temporary file appears once writing has begun.
      await until(() => readdirSync(drive).length > 0, 30_000)
      child.kill('SIGINT')
      expect(await exited).toBe(130)
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL')
    }
    expect(stderr).toMatch(/ferry: Stopped: .*field\.ferry was not made, and nothing of it was left on the drive\.\n$/)
    expect(readdirSync(drive)).toEqual([])
    // Nothing changed on the computer either: a create made afterwards is whole.
    const created = ferry(['--data-dir', data, 'create', path.join(drive, 'field.ferry')])
    expect(created.code).toBe(0)
    expect(ferry(['--data-dir', data, 'verify', path.join(drive, 'field.ferry')]).code).toBe(0)
  }, 120_000)
})
