import { spawnSync } from 'node:child_process'
import { mkdtemp, readFile, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { acquireDaemonLock, LOCK_NAME } from '../../src/daemon/lock.js'

describe('daemon lock', () => {
  it('allows one daemon per data folder and names the running one', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'ferry-lock-'))
    const lock = await acquireDaemonLock(dir)
    expect((await readFile(path.join(dir, LOCK_NAME), 'utf8')).trim()).toBe(String(process.pid))
    // Another process holding it: simulated by a live PID that is not ours (our parent).
    await writeFile(path.join(dir, LOCK_NAME), `${process.ppid}\n`)
    await expect(acquireDaemonLock(dir)).rejects.toMatchObject({ kind: 'busy', message: expect.stringContaining(`process ${process.ppid}`) })
    await writeFile(path.join(dir, LOCK_NAME), `${process.pid}\n`)
    await lock.release()
    await expect(readFile(path.join(dir, LOCK_NAME))).rejects.toThrow()
  })

  it('takes over a stale lock left by a dead process', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'ferry-lock-'))
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']).stdout.toString()
    await writeFile(path.join(dir, LOCK_NAME), `${dead}\n`)
    const lock = await acquireDaemonLock(dir)
    expect((await readFile(path.join(dir, LOCK_NAME), 'utf8')).trim()).toBe(String(process.pid))
    await lock.release()
  })
})
