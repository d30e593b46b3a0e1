import { describe, expect, it } from 'vitest'
import { FerryError } from '../../src/errors.js'
import { JobQueue, type JobView } from '../../src/daemon/jobs.js'
import type { SyncReport } from '../../src/merge/types.js'
import { report } from './fakes.js'

function deferred() {
  let resolve!: () => void
  const promise = new Promise<void>((r) => (resolve = r))
  return { promise, resolve }
}

function makeQueue(run: (job: JobView, signal: AbortSignal) => Promise<SyncReport>) {
  const log: string[] = []
  const queue = new JobQueue((job, signal) => run(job, signal), {
    started: (j) => log.push(`start ${j.path}`),
    progress: () => undefined,
    finished: (j) => log.push(`done ${j.path}`),
    failed: (j, m) => log.push(`fail ${j.path}: ${m}`),
  })
  return { queue, log }
}

describe('JobQueue', () => {
  it('runs one job at a time, in order', async () => {
    const gate = deferred()
    let running = 0
    let maxRunning = 0
    const { queue, log } = makeQueue(async (job) => {
      maxRunning = Math.max(maxRunning, ++running)
      if (job.path === '/a') await gate.promise
      running--
      return report(job.path)
    })
    const a = queue.enqueue('sync', '/a', null)
    const b = queue.enqueue('sync', '/b', null)
    expect(queue.jobs().map((j) => j.state)).toEqual(['running', 'queued'])
    gate.resolve()
    await Promise.all([a.done, b.done])
    expect(maxRunning).toBe(1)
    expect(log).toEqual(['start /a', 'done /a', 'start /b', 'done /b'])
  })

  it('gives the same job for a file already queued or running', async () => {
    const gate = deferred()
    const { queue } = makeQueue(async (job) => (await gate.promise, report(job.path)))
    const first = queue.enqueue('sync', '/a', null)
    const second = queue.enqueue('sync', '/a', null)
    expect(second.view.id).toBe(first.view.id)
    gate.resolve()
    await first.done
  })

  it('keeps going after a failed job and reports it in plain words', async () => {
    const { queue, log } = makeQueue(async (job) => {
      if (job.path === '/bad') throw new FerryError('damaged', 'The file /bad is damaged.')
      if (job.path === '/bug') throw new TypeError('x is undefined')
      return report(job.path)
    })
    await expect(queue.enqueue('sync', '/bad', null).done).rejects.toThrow('The file /bad is damaged.')
    await expect(queue.enqueue('sync', '/bug', null).done).rejects.toThrow(TypeError)
    await expect(queue.enqueue('sync', '/good', null).done).resolves.toMatchObject({ file: '/good' })
    expect(log).toContain('fail /bad: The file /bad is damaged.')
    expect(log.find((l) => l.startsWith('fail /bug'))).toMatch(/unexpected problem/)
    expect(queue.jobs().find((j) => j.path === '/bug')?.error).not.toMatch(/undefined/)
  })

  it('aborts the running job and fails queued ones on a removed drive, with the reason given', async () => {
    const { queue } = makeQueue(
      (job, signal) => new Promise((_r, reject) => signal.addEventListener('abort', () => reject(new Error(`aborted ${job.path}`)))),
    )
    const running = queue.enqueue('sync', '/media/K/a.ferry', 'K')
    const queued = queue.enqueue('sync', '/media/K/b.ferry', 'K')
    const reason = new FerryError('drive-removed', 'K was removed during the sync.')
    queue.abortWhere((j) => j.path.startsWith('/media/K/'), reason)
    await expect(running.done).rejects.toThrow('K was removed during the sync.')
    await expect(queued.done).rejects.toMatchObject({ kind: 'drive-removed' })
    expect(queue.jobs().every((j) => j.state === 'failed')).toBe(true)
  })

  it('close() aborts the running job, drops queued ones and refuses new ones', async () => {
    const { queue } = makeQueue((_job, signal) => new Promise((_r, reject) => signal.addEventListener('abort', () => reject(new Error('aborted')))))
    const running = queue.enqueue('sync', '/a', null)
    const queued = queue.enqueue('sync', '/b', null)
    await queue.close()
    await expect(running.done).rejects.toMatchObject({ kind: 'busy' })
    await expect(queued.done).rejects.toMatchObject({ kind: 'busy' })
    expect(() => queue.enqueue('sync', '/c', null)).toThrow(/stopping/)
  })
})
