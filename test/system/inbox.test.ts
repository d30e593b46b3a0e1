import { open, readFile, rm, stat } from 'node:fs/promises'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ferry, ferryJson, ferryOk } from './harness/cli.js'
import { startDaemon, type RunningDaemon } from './harness/daemon.js'
import { Processes } from './harness/processes.js'
import { makeTeam, seenBy, type Team } from './harness/project.js'
import { until } from './harness/until.js'

// Needs only the built CLI (chokidar on a temp folder); runs headless.
describe('inbox folder', () => {
  const procs = new Processes()
  let team: Team
  let daemon: RunningDaemon
  let env: NodeJS.ProcessEnv

  beforeAll(async () => {
    team = await makeTeam()
    env = { ...team.env }
    delete env.DISPLAY
    delete env.DBUS_SESSION_BUS_ADDRESS
    daemon = await startDaemon(procs, { dataDir: team.home, env, inbox: team.inbox })
  })

  afterAll(async () => {
    await daemon?.stop()
    await procs.stopAll()
    if (team) await rm(team.dir, { recursive: true, force: true })
  })

  it('a file copied in slowly, in pieces with pauses, is offered only once complete, then rewritten in place', async () => {
    const source = path.join(team.dir, 'from-mate.ferry')
    await ferryOk(['--data-dir', team.mate, 'create', source], env)
    const bytes = await readFile(source)
    const target = path.join(team.inbox, 'from-mate.ferry')
    const out = await open(target, 'w')
    const pieces = 4
    const piece = Math.ceil(bytes.length / pieces)
    const checksBefore = () => daemon.output().split('is still arriving in the inbox').length - 1
    try {
      for (let i = 0; i < pieces - 1; i++) {
        await out.write(bytes.subarray(i * piece, (i + 1) * piece))
        await out.sync()
        // A pause longer than the daemon's stability window: it looks, finds the file incomplete, and waits.
        const seen = checksBefore()
        await until(async () => checksBefore() > seen || (await daemon.status()).pending.length > 0, 'the daemon to look at the partial file')
        expect((await daemon.status()).pending).toEqual([])
      }
      await out.write(bytes.subarray((pieces - 1) * piece))
      await out.sync()
    } finally {
      await out.close()
    }
    const prompt = await until(async () => (await daemon.status()).pending[0], 'the inbox prompt')
    expect(prompt).toMatchObject({ path: target, drive: null, project: 'River monitors' })

    const sizeBefore = (await stat(target)).size
    const report = await ferryJson<{ received: { versions: number }; sent: { versions: number } }>(['--data-dir', team.home, 'accept', prompt.id], env)
    expect(report).toMatchObject({ received: { versions: 1 }, sent: { versions: 1 } })
    expect(await seenBy(team.home, env)).toEqual(['home', 'mate'])
    // Rewritten in place: the same file now carries this computer's data back.
    expect((await stat(target)).size).toBeGreaterThan(sizeBefore)
    expect((await ferry(['--data-dir', team.mate, 'verify', target], env)).code).toBe(0)
    await ferryOk(['--data-dir', team.mate, 'sync', target], env)
    expect(await seenBy(team.mate, env)).toEqual(['home', 'mate'])
    // Its own rewrite is not offered again.
    expect((await daemon.status()).pending).toEqual([])

    // `ferry sync` while the daemon runs goes through the daemon's queue.
    await ferryOk(['--data-dir', team.mate, 'add', '--lat', '1', '--lon', '1', '--tag', 'seen-by=mate-later'], env)
    await ferryOk(['--data-dir', team.mate, 'sync', target], env)
    const jobsBefore = (await daemon.status()).jobs.length
    await ferryOk(['--data-dir', team.home, 'sync', target], env)
    const jobs = (await daemon.status()).jobs
    expect(jobs.length).toBe(jobsBefore + 1)
    expect(jobs[0]).toMatchObject({ kind: 'sync', path: target, state: 'done' })
    expect(await seenBy(team.home, env)).toEqual(['home', 'mate', 'mate-later'])
  })
})
