import { spawn, spawnSync } from 'node:child_process'
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
    // Another daemon holding it: a live process whose command line is `… daemon`, as a running one's is.
    const other = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60_000)', 'daemon'], { stdio: 'ignore' })
    try {
      await until(async () => (await readFile(`/proc/${other.pid}/cmdline`, 'utf8').catch(() => '')).includes('daemon'))
      await writeFile(path.join(dir, LOCK_NAME), `${other.pid}\n`)
      await expect(acquireDaemonLock(dir)).rejects.toMatchObject({ kind: 'busy', message: expect.stringContaining(`process ${other.pid}`) })
    } finally {
      other.kill('SIGKILL')
    }
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

  it('takes over a lock whose PID now belongs to some other program (a crash, then a reboot)', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'ferry-lock-'))
    const stranger = spawn('sleep', ['60'], { stdio: 'ignore' })
    try {
      await writeFile(path.join(dir, LOCK_NAME), `${stranger.pid}\n`)
      const lock = await acquireDaemonLock(dir)
      expect((await readFile(path.join(dir, LOCK_NAME), 'utf8')).trim()).toBe(String(process.pid))
      await lock.release()
    } finally {
      stranger.kill('SIGKILL')
    }
  })
})

async function until(check: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 500 && !(await check()); i++) await new Promise((resolve) => setTimeout(resolve, 10))
}
