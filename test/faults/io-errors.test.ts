import { appendFileSync, cpSync, existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { FerryError } from '../../src/errors.js'
import { FaultyDisk, type CallRecord, type Fault } from '../../src/fs/faulty-disk.js'
import { nodeDisk } from '../../src/fs/node-disk.js'
import { createSyncFile, syncWithFile } from '../../src/merge/merge.js'
import { verifySyncFile } from '../../src/merge/verify.js'
import { Store } from '../../src/store/store.js'
import { tempDir } from '../helpers/tmp.js'
import { addObservation, blobsIntact, fingerprint, makeStores, smallPhoto, versionIds } from './lib/world.js'
import { recordResult } from './lib/results.js'

/**
 * I/O errors injected at every call of the merge that writes or makes durable (through the Disk interface, as
 * syncthing's errorfs does): one run per call site, found by counting the calls of a clean run first. Each call site
 * is tried three ways: the call fails, a write lands half and then fails (a torn write), and the disk stops
 * answering from that call on (a pulled drive). After each: the error is a plain FerryError, the sync file verifies
 * at its old or its new commit, the data folder opens, and a final clean round converges to the union of every
 * version ever written (checked version by version) with every photo intact.
 */

interface Template {
  root: string
  a: string
  b: string
  file: string
  /** Every versionId written on any device. */
  written: Set<string>
  commitsBefore: number
}

/** A has a file it shares with B; both then add new observations with photos, so A's next sync both receives and sends. */
async function makeTemplate(): Promise<Template> {
  const root = tempDir('ferry-io-')
  const [a, b] = await makeStores(root, 2)
  await addObservation(a!, { photos: [smallPhoto(3000)] })
  await addObservation(b!, { photos: [smallPhoto(2500)] })
  const file = path.join(root, 'usb', 'field.ferry')
  mkdirSync(path.dirname(file))
  await createSyncFile(a!, file)
  await syncWithFile(b!, file)
  await syncWithFile(a!, file)
  // New on both sides: B's goes into the file, A's stays for A's faulted sync to send.
  await addObservation(b!, { photos: [smallPhoto(4000)] })
  await syncWithFile(b!, file)
  await addObservation(a!, { photos: [smallPhoto(1800), smallPhoto(1200)] })
  await addObservation(a!, {})
  const written = new Set([...versionIds(a!), ...versionIds(b!)])
  // The file ends with the zeros of an interrupted write, so A's sync must cut them first (a truncate call site).
  appendFileSync(file, Buffer.alloc(50))
  const commitsBefore = (await verifySyncFile(a!, file)).commits
  await a!.close()
  await b!.close()
  return { root, a: a!.dataDir, b: b!.dataDir, file, written, commitsBefore }
}

/** A fresh copy of the template for one run. */
function copyOf(t: Template, name: string): Template {
  const root = path.join(path.dirname(t.root), `${path.basename(t.root)}-${name}`)
  cpSync(t.root, root, { recursive: true })
  const moved = (p: string) => path.join(root, path.relative(t.root, p))
  return { ...t, root, a: moved(t.a), b: moved(t.b), file: moved(t.file) }
}

type Operation = 'sync' | 'create'

const openFds = () => (process.platform === 'linux' ? readdirSync('/proc/self/fd').length : 0)

async function runFaulted(t: Template, op: Operation, fault: Fault | undefined): Promise<{ calls: CallRecord[]; error: unknown; fired: CallRecord | undefined; target: string; leakedFds: number }> {
  const fdsBefore = openFds()
  const disk = new FaultyDisk(nodeDisk, fault)
  const store = await Store.open(t.a, { disk })
  const target = op === 'sync' ? t.file : path.join(path.dirname(t.file), 'new.ferry')
  let error: unknown
  try {
    if (op === 'sync') await syncWithFile(store, target)
    else await createSyncFile(store, target)
  } catch (err) {
    error = err
  } finally {
    await store.close()
  }
  return { calls: [...disk.calls], error, fired: disk.fired, target, leakedFds: openFds() - fdsBefore }
}

/** The checks after every fault. Returns a description of anything wrong (empty when all is well). */
async function checkAfter(t: Template, op: Operation, target: string, error: unknown, sticky: boolean): Promise<string[]> {
  const problems: string[] = []
  if (error !== undefined && !(error instanceof FerryError)) problems.push(`not a FerryError: ${String((error as Error)?.stack ?? error)}`)
  if (error instanceof FerryError && error.exitCode !== 5) problems.push(`exit ${error.exitCode} instead of 5: ${error.message}`)
  const a = await Store.open(t.a) // the data folder opens
  const b = await Store.open(t.b)
  try {
    if (op === 'sync') {
      const report = await verifySyncFile(a, t.file).catch((err: unknown) => err as Error)
      if (report instanceof Error) problems.push(`file does not verify: ${report.message}`)
      else if (report.commits !== t.commitsBefore && report.commits !== t.commitsBefore + 1) problems.push(`file has ${report.commits} commits`)
    } else if (existsSync(target)) {
      // create writes under a temporary name and renames: the final name exists only when complete.
      const report = await verifySyncFile(a, target).catch((err: unknown) => err as Error)
      if (report instanceof Error) problems.push(`created file exists but does not verify: ${report.message}`)
      if (error !== undefined && !(report instanceof Error) && report.commits !== 1) problems.push('created file has no commit')
    }
    const leftovers = readdirSync(path.dirname(t.file)).filter((n) => n.includes('ferry-tmp'))
    if (error !== undefined && leftovers.length > 0 && op === 'create' && !sticky) {
      // A failed create removes its temporary file (unless the drive stopped answering altogether).
      problems.push(`temporary file left behind: ${leftovers.join(', ')}`)
    }
    // Final clean round: B, A, B with the shared file.
    try {
      await syncWithFile(b, t.file)
      await syncWithFile(a, t.file)
      await syncWithFile(b, t.file)
    } catch (err) {
      problems.push(`final clean sync round failed: ${(err as Error).message}`)
    }
    for (const [name, s] of [['A', a], ['B', b]] as const) {
      const held = versionIds(s)
      const lost = [...t.written].filter((id) => !held.has(id))
      if (lost.length > 0) problems.push(`${name} lacks ${lost.length} versions: ${lost.slice(0, 3).join(', ')}`)
      const bad = blobsIntact(s)
      if (bad.length > 0) problems.push(`${name} has ${bad.length} broken photos`)
    }
    if (fingerprint(a) !== fingerprint(b)) problems.push('A and B did not converge (versions, blobs or export differ)')
    const final = await verifySyncFile(a, t.file).catch((err: unknown) => err)
    if (final instanceof Error) problems.push(`file does not verify after the final round: ${final.message}`)
  } finally {
    await a.close()
    await b.close()
  }
  return problems
}

describe('I/O errors injected at every write and fsync of the merge', () => {
  const totals = { callSites: 0, faultsInjected: 0, runs: 0, runsFailingChecks: 0, brokenFiles: 0, lostVersions: 0, crashes: 0, wrongExitCode: 0, leakedFds: 0, failures: [] as string[] }

  for (const op of ['sync', 'create'] as const) {
    it(`${op}: every call site, failing, torn and sticky`, async () => {
      const template = await makeTemplate()
      const clean = await runFaulted(copyOf(template, `${op}-clean`), op, undefined)
      expect(clean.error).toBeUndefined()
      expect(clean.leakedFds).toBe(0)
      // Every operation the issue names must have been exercised by a clean run.
      const ops = new Set(clean.calls.map((c) => c.op))
      for (const needed of ['open', 'write', 'sync', 'rename', 'syncDir', ...(op === 'sync' ? ['truncate'] : [])]) expect(ops).toContain(needed)
      if (op === 'sync') expect(readFileSync(template.file).length).toBeGreaterThan(0)

      const failures: string[] = []
      let run = 0
      for (const site of clean.calls) {
        const variants: Array<[string, Fault]> = [
          ['fails', { op: site.op as Fault['op'], at: site.n }],
          ['sticky', { op: site.op as Fault['op'], at: site.n, sticky: true }],
        ]
        if (site.op === 'write') variants.push(['torn', { op: 'write', at: site.n, partialBytes: 7 }], ['enospc', { op: 'write', at: site.n, code: 'ENOSPC' }])
        for (const [how, fault] of variants) {
          const t = copyOf(template, `${op}-${run++}`)
          const result = await runFaulted(t, op, fault)
          totals.runs++
          if (result.fired) totals.faultsInjected++
          const problems = await checkAfter(t, op, result.target, result.error, fault.sticky === true)
          if (result.leakedFds > 0) problems.push(`leaked ${result.leakedFds} open file descriptor(s)`)
          if (problems.some((p) => p.startsWith('not a FerryError'))) totals.crashes++
          if (problems.some((p) => p.includes('does not verify') || p.includes('final clean sync'))) totals.brokenFiles++
          if (problems.some((p) => p.includes('lacks'))) totals.lostVersions++
          if (problems.some((p) => p.startsWith('exit '))) totals.wrongExitCode++
          if (result.leakedFds > 0) totals.leakedFds++
          if (problems.length > 0) {
            totals.runsFailingChecks++
            totals.failures.push(`${op} ${site.op} #${site.n} ${how}: ${problems[0]!.slice(0, 160)}`)
          }
          if (problems.length > 0) failures.push(`${op} ${site.op} #${site.n} (${path.basename(site.path)}) ${how}: ${problems.join('; ')}`)
        }
      }
      totals.callSites += clean.calls.length
      recordResult('io-errors', { ...totals })
      if (failures.length > 0) console.log(failures.join('\n'))
      expect(failures).toEqual([])
    })
  }
})
