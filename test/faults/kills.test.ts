import { randomBytes } from 'node:crypto'
import { mkdirSync, statSync } from 'node:fs'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { Store } from '../../src/store/store.js'
import { tempDir } from '../helpers/tmp.js'
import { ferryOk } from '../helpers/cli.js'
import { makeDevices } from '../helpers/devices.js'
import { ferrySync, runFerry } from './lib/cli-proc.js'
import { envCount, recordResult } from './lib/results.js'
import { addObservation, blobsIntact, fingerprint, versionIds } from './lib/world.js'

/**
 * SIGKILL of the real `ferry sync` at random moments. Each round both computers get new observations with small
 * photos; one computer's sync is killed after a random delay in [0, a typical sync's duration], measured first.
 * After every kill: `ferry verify` on the file exits 0, both data folders open and still hold everything they held
 * before. At the end a final round of syncs converges with every versionId ever written on both computers.
 */
const KILLS = envCount('FERRY_FAULT_KILLS', 30)

async function addOn(dataDir: string, written: Set<string>, bigPhoto = false): Promise<void> {
  const store = await Store.open(dataDir)
  try {
    const photos = Array.from({ length: 1 + Math.floor(Math.random() * 2) }, () => randomBytes(20_000 + Math.floor(Math.random() * 80_000)))
    // A photo bigger than one write batch (4 MiB), so the append takes several writes a kill can fall between.
    if (bigPhoto) photos.push(randomBytes(5 * 1024 * 1024 + Math.floor(Math.random() * 1024 * 1024)))
    const { versionId } = await addObservation(store, { photos })
    written.add(versionId)
  } finally {
    await store.close()
  }
}

async function held(dataDir: string): Promise<Set<string>> {
  const store = await Store.open(dataDir)
  try {
    return versionIds(store)
  } finally {
    await store.close()
  }
}

describe('SIGKILL of ferry sync at random moments', () => {
  it(`survives ${KILLS} kills with nothing lost`, async () => {
    const root = tempDir('ferry-kills-')
    const [one, two] = makeDevices(root, 2)
    const usb = path.join(root, 'usb')
    mkdirSync(usb)
    const file = path.join(usb, 'field.ferry')
    const written = new Set<string>()
    await addOn(one!, written)
    ferryOk(['--data-dir', one!, 'create', file])
    ferryOk(['--data-dir', two!, 'sync', file])

    // A typical sync's duration, new data on both sides, measured on this machine.
    const durations: number[] = []
    for (let i = 0; i < 3; i++) {
      await addOn(one!, written)
      await addOn(two!, written)
      const r = await runFerry(['--data-dir', i % 2 ? one! : two!, 'sync', file])
      expect(r.code, r.stderr).toBe(0)
      durations.push(r.ms)
    }
    const typical = durations.sort((a, b) => a - b)[1]!

    const figures = { kills: 0, killsDuringAppend: 0, killedMidSync: 0, finishedBeforeKill: 0, tornTails: 0, fileGrewWithoutCommit: 0, stuckDataFolders: 0, verifyFailures: 0, openFailures: 0, lostVersions: 0, typicalSyncMs: Math.round(typical) }
    const problems: string[] = []
    const notes: string[] = []
    for (let round = 0; round < KILLS; round++) {
      const targeted = round % 3 === 2
      const [victim, other] = round % 2 === 0 ? [one!, two!] : [two!, one!]
      try {
        await addOn(one!, written, targeted && victim === one)
        await addOn(two!, written, targeted && victim === two)
      } catch (err) {
        figures.stuckDataFolders++
        problems.push(`round ${round}: adding an observation after the previous kill failed: ${(err as Error).message}`)
        break
      }
      const heldBefore = await held(victim)
      const sizeBefore = statSync(file).size
      const commitsBefore = (JSON.parse(ferrySync(['--data-dir', other, '--json', 'verify', file]).stdout) as { commits: number }).commits
      // Most rounds: a random moment of a typical sync. Every third round: the killed computer has a 5–6 MB photo to
      // send and is killed once the file starts to grow plus 0–20 ms — the moment a kill can tear the append, which
      // a uniform delay rarely hits because most of a short sync is Node starting up.
      // Every other round checks the records it receives on a worker thread, as a large sync does. Three rounds in
      // five write every version received to a version file (as a receive past 1 MiB does), so kills land there too.
      const env = { FERRY_WORKER_THREADS: String(round % 4 < 2 ? 1 : 0), ...(round % 5 < 3 ? { FERRY_VERSION_FILES_AFTER_BYTES: '0' } : {}) }
      const outcome = await runFerry(['--data-dir', victim, 'sync', file], targeted ? { killWhenGrows: file, killAfterMs: Math.random() * 20, env } : { killAfterMs: Math.random() * typical, env })
      if (targeted) figures.killsDuringAppend++
      figures.kills++
      if (outcome.killed) figures.killedMidSync++
      else if (outcome.code === 0) figures.finishedBeforeKill++
      else problems.push(`round ${round}: sync exited ${outcome.code} without being killed: ${outcome.stderr}`)

      const verify = ferrySync(['--data-dir', other, '--json', 'verify', file])
      if (statSync(file).size !== sizeBefore && verify.code === 0 && (JSON.parse(verify.stdout) as { commits: number }).commits === commitsBefore) {
        figures.fileGrewWithoutCommit++
        if (notes.length < 5) notes.push(`round ${round}: ${sizeBefore} → ${statSync(file).size} bytes, ${verify.stdout.trim()}`)
      }
      if (verify.code !== 0) {
        figures.verifyFailures++
        problems.push(`round ${round}: verify exited ${verify.code} after a kill (file ${sizeBefore} → ${statSync(file).size} bytes): ${verify.stderr.trim()}`)
      } else if ((JSON.parse(verify.stdout) as { tail: { state: string } }).tail.state === 'torn') figures.tornTails++
      try {
        const after = await held(victim)
        const lost = [...heldBefore].filter((id) => !after.has(id))
        if (lost.length > 0) {
          figures.lostVersions += lost.length
          problems.push(`round ${round}: the killed computer lost ${lost.length} versions`)
        }
      } catch (err) {
        figures.openFailures++
        problems.push(`round ${round}: the data folder does not open after a kill: ${(err as Error).message}`)
      }
      // The other computer syncs normally, so data keeps flowing both ways between kills.
      const normal = ferrySync(['--data-dir', other, 'sync', file])
      if (normal.code !== 0) problems.push(`round ${round}: a normal sync after the kill exited ${normal.code}: ${normal.stderr.trim()}`)
      if (problems.length > 5) break
    }

    // Final round: converge.
    for (const dir of [one!, two!, one!]) {
      const r = ferrySync(['--data-dir', dir, 'sync', file])
      if (r.code !== 0) problems.push(`final sync exited ${r.code}: ${r.stderr.trim()}`)
    }
    const s1 = await Store.open(one!)
    const s2 = await Store.open(two!)
    try {
      for (const [name, s] of [['computer1', s1], ['computer2', s2]] as const) {
        const have = versionIds(s)
        const lost = [...written].filter((id) => !have.has(id))
        if (lost.length > 0) {
          figures.lostVersions += lost.length
          problems.push(`${name} lacks ${lost.length} of the ${written.size} versions written`)
        }
        if (blobsIntact(s).length > 0) problems.push(`${name} has broken photos`)
      }
      if (fingerprint(s1) !== fingerprint(s2)) problems.push('the two computers did not converge')
    } finally {
      await s1.close()
      await s2.close()
    }
    const final = ferrySync(['--data-dir', one!, 'verify', file])
    if (final.code !== 0) problems.push(`final verify exited ${final.code}: ${final.stderr.trim()}`)
    recordResult('kills', { ...figures, versionsWritten: written.size, problems: problems.length, problemList: problems, notes })
    if (problems.length > 0) console.log(problems.join('\n'))
    expect(problems).toEqual([])
    expect(figures.kills).toBe(KILLS)
  })
})
