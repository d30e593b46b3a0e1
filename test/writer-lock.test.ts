import { spawnSync } from 'node:child_process'
import { readdirSync, readFileSync, statSync, unlinkSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { acquireWriterLock, breakStaleLock } from '../src/store/writer-lock.js'
import { tempDir } from './helpers/tmp.js'

const lockContent = (pid: number) => JSON.stringify({ pid, host: os.hostname(), purpose: 'sync', since: new Date().toISOString() })
/** The PID of a process that has exited. */
const deadPid = () => spawnSync(process.execPath, ['-e', '0']).pid!
const inodeOf = (file: string) => {
  const { ino, dev } = statSync(file)
  return { ino, dev }
}

describe('the writer lock', () => {
  it('takes over a lock whose process is gone, and refuses one whose process lives', () => {
    const dir = tempDir()
    const lock = path.join(dir, 'writer.lock')
    writeFileSync(lock, lockContent(deadPid()))
    const held = acquireWriterLock(dir, 'sync')
    expect(JSON.parse(readFileSync(lock, 'utf8')).pid).toBe(process.pid)
    expect(() => acquireWriterLock(dir, 'edit')).toThrow(/a sync is already running/)
    held.release()
    expect(readdirSync(dir)).toEqual([])
  })

  it('breaking a stale lock removes that lock only: a live one taken in the meantime stays, whole', () => {
    // Two processes judged the same dead lock; the faster broke it and took the lock. The slower now breaks "it".
    const dir = tempDir()
    const lock = path.join(dir, 'writer.lock')
    writeFileSync(lock, lockContent(deadPid()))
    const judged = readFileSync(lock, 'utf8')
    unlinkSync(lock)
    const faster = acquireWriterLock(dir, 'sync')
    const live = { content: readFileSync(lock, 'utf8'), inode: inodeOf(lock) }

    breakStaleLock(lock, judged)
    expect(readFileSync(lock, 'utf8')).toBe(live.content)
    expect(inodeOf(lock)).toEqual(live.inode)
    expect(readdirSync(dir)).toEqual(['writer.lock'])
    expect(() => acquireWriterLock(dir, 'edit')).toThrow(/busy|already running/)
    faster.release()
  })

  it('breaking the lock judged stale removes it and leaves nothing beside it', () => {
    const dir = tempDir()
    const lock = path.join(dir, 'writer.lock')
    writeFileSync(lock, lockContent(deadPid()))
    breakStaleLock(lock, readFileSync(lock, 'utf8'))
    expect(readdirSync(dir)).toEqual([])
  })
})
