import { execFileSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { existsSync, readdirSync, readFileSync, rmSync, statfsSync, statSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { Store } from '../../src/store/store.js'
import { makeDevices } from '../helpers/devices.js'
import { tempDir } from '../helpers/tmp.js'
import { ferryOk } from '../helpers/cli.js'
import { ferrySync, runFerry } from './lib/cli-proc.js'
import { Drives, requireOrSkip, type LoopDrive } from './lib/drives.js'
import { envCount, recordResult } from './lib/results.js'
import { addObservation, blobsIntact, fingerprint, versionIds } from './lib/world.js'

/**
 * Drive faults on real filesystems (root only): an ext4 image lazily unmounted mid-sync, an exFAT image whose FUSE
 * process is killed mid-append, a full drive and a read-only drive. After each pull the drive is mounted again and
 * the file must verify (at its old or new commit) and a final round must converge with nothing lost.
 */
const UNPLUGS = envCount('FERRY_FAULT_UNPLUGS', 5)

let drives: Drives | undefined
afterEach(() => {
  drives?.cleanup()
  drives = undefined
})

async function addOn(dataDir: string, written: Set<string>, photoBytes = 60_000): Promise<void> {
  const store = await Store.open(dataDir)
  try {
    written.add((await addObservation(store, { photos: [randomBytes(photoBytes)] })).versionId)
  } finally {
    await store.close()
  }
}

async function withStore<T>(dataDir: string, fn: (s: Store) => T): Promise<T> {
  const store = await Store.open(dataDir)
  try {
    return fn(store)
  } finally {
    await store.close()
  }
}

/** Waits (polling, bounded) until no loop device holds the image any more: a lazy unmount finishes asynchronously. */
async function untilImageFree(image: string): Promise<void> {
  const deadline = Date.now() + 30_000
  for (;;) {
    const holders = execFileSync('losetup', ['-j', image], { encoding: 'utf8' }).trim()
    if (holders === '') return
    if (Date.now() > deadline) throw new Error(`${image} is still attached: ${holders}`)
    await new Promise((r) => setTimeout(r, 50))
  }
}

function oneLine(stderr: string): boolean {
  const lines = stderr.trim().split('\n')
  return lines.length === 1 && !/\n\s+at /.test(stderr) && lines[0]!.startsWith('ferry: ')
}

type PullKind = 'lazy-unmount' | 'fuse-kill'

async function pullLoop(fs: LoopDrive['fs'], kind: PullKind): Promise<void> {
  drives = new Drives(tempDir('ferry-drives-'))
  const root = tempDir('ferry-pull-')
  const [one, two] = makeDevices(root, 2)
  const drive = drives.create(`pull${fs}`, fs, 1024 * 1024)
  const mnt = drives.mount(drive)
  const file = path.join(mnt, 'field.ferry')
  const written = new Set<string>()
  await addOn(one!, written)
  expect(ferrySync(['--data-dir', one!, 'create', file]).code).toBe(0)
  expect(ferrySync(['--data-dir', two!, 'sync', file]).code).toBe(0)
  await addOn(one!, written)
  await addOn(two!, written)
  const timed = await runFerry(['--data-dir', one!, 'sync', file])
  expect(timed.code, timed.stderr).toBe(0)
  const typical = timed.ms
  // Until the file is first touched a sync is Node starting and the database opening: measured as a command that
  // opens the data folder and then finds no file.
  const startup = (await runFerry(['--data-dir', one!, 'verify', path.join(mnt, 'none.ferry')])).ms

  const figures = { pulls: 0, pulledWhileRunning: 0, pulledBeforeStart: 0, syncsInterrupted: 0, syncsFinished: 0, oldCommit: 0, newCommit: 0, verifyFailures: 0, lostVersions: 0 }
  const problems: string[] = []
  for (let round = 0; round < UNPLUGS; round++) {
    if (!drive.mounted) drives.mount(drive)
    await addOn(one!, written, 1_000_000 + Math.floor(Math.random() * 3_000_000))
    await addOn(two!, written, 1_000_000 + Math.floor(Math.random() * 3_000_000))
    const [victim, other] = round % 2 === 0 ? [one!, two!] : [two!, one!]
    const heldBefore = await withStore(victim, versionIds)
    const pre = ferrySync(['--data-dir', other, '--json', 'verify', file])
    if (pre.code !== 0) throw new Error(`round ${round}: the file does not verify before the pull: ${pre.stderr}`)
    const commitsBefore = (JSON.parse(pre.stdout) as { commits: number }).commits
    // Pull at a random moment between the file's first use and the end of a typical sync.
    const delay = startup * 0.8 + Math.random() * Math.max(50, typical * 1.5 - startup * 0.8)
    const child = runFerry(['--data-dir', victim, 'sync', file])
    let pulled = false
    const pull = () => {
      if (pulled) return
      pulled = true
      clearInterval(watch)
      if (kind === 'lazy-unmount') drives!.pull(drive)
      else {
        const pid = drives!.fusePid(drive)
        if (pid === null) throw new Error('no exfat-fuse process found for the drive')
        process.kill(pid, 'SIGKILL')
      }
    }
    // Odd rounds: at a random moment of a typical sync. Even rounds: once the file starts to grow (the append is
    // under way), after a further random 0–40 ms — the moments a pull can hurt most, which a uniform delay rarely
    // hits because most of a short sync is Node starting up.
    const sizeBefore = statSync(file).size
    const pullAt = round % 2 === 1 ? setTimeout(pull, delay) : undefined
    let growTimer: NodeJS.Timeout | undefined
    const watch = setInterval(() => {
      if (round % 2 === 1 || pulled) return
      let size = sizeBefore
      try {
        size = statSync(file).size
      } catch {
        return
      }
      if (size !== sizeBefore) {
        clearInterval(watch)
        growTimer = setTimeout(pull, Math.random() * 40)
      }
    }, 1)
    const outcome = await child
    clearTimeout(pullAt)
    clearTimeout(growTimer)
    clearInterval(watch)
    if (pulled) figures.pulledWhileRunning++
    else pull() // the sync finished first: the drive is still pulled, as a user would after it
    figures.pulls++
    if (outcome.code === 0) figures.syncsFinished++
    else if (outcome.code === 5 && oneLine(outcome.stderr)) figures.syncsInterrupted++
    // Pulled before the sync opened the file: to Ferry the file is simply not there (exit 2, nothing touched).
    else if (outcome.code === 2 && kind === 'lazy-unmount' && /There is no file at/.test(outcome.stderr)) figures.pulledBeforeStart++
    else problems.push(`round ${round}: sync on the pulled drive exited ${outcome.code} (want 0, or 5 with one plain sentence): ${outcome.stderr.trim()}`)

    // Plug it back in.
    drives.unmount(drive)
    await untilImageFree(drive.image)
    drives.mount(drive)
    const verify = ferrySync(['--data-dir', other, '--json', 'verify', file])
    if (verify.code !== 0) {
      figures.verifyFailures++
      problems.push(`round ${round}: after the pull the file does not verify (exit ${verify.code}): ${verify.stderr.trim()}`)
    } else {
      const commits = (JSON.parse(verify.stdout) as { commits: number }).commits
      if (commits === commitsBefore) figures.oldCommit++
      else if (commits === commitsBefore + 1) figures.newCommit++
      else problems.push(`round ${round}: ${commits} commits, had ${commitsBefore}`)
    }
    const heldAfter = await withStore(victim, versionIds)
    const lost = [...heldBefore].filter((id) => !heldAfter.has(id))
    if (lost.length > 0) {
      figures.lostVersions += lost.length
      problems.push(`round ${round}: ${lost.length} versions lost on the computer`)
    }
    const normal = ferrySync(['--data-dir', other, 'sync', file])
    if (normal.code !== 0) problems.push(`round ${round}: the next sync exited ${normal.code}: ${normal.stderr.trim()}`)
    if (problems.length > 5) break
  }
  for (const dir of [one!, two!, one!]) {
    const r = ferrySync(['--data-dir', dir, 'sync', file])
    if (r.code !== 0) problems.push(`final sync exited ${r.code}: ${r.stderr.trim()}`)
  }
  const [f1, f2] = [await withStore(one!, fingerprint), await withStore(two!, fingerprint)]
  for (const dir of [one!, two!]) {
    const have = await withStore(dir, versionIds)
    const lost = [...written].filter((id) => !have.has(id))
    if (lost.length > 0) problems.push(`${path.basename(dir)} lacks ${lost.length} of ${written.size} versions written`)
    if ((await withStore(dir, blobsIntact)).length > 0) problems.push(`${path.basename(dir)} has broken photos`)
  }
  if (f1 !== f2) problems.push('the computers did not converge')
  recordResult(`drives-${kind}`, { fs, ...figures, typicalSyncMs: Math.round(typical), startupMs: Math.round(startup), versionsWritten: written.size, problems: problems.length })
  expect(problems).toEqual([])
}

describe('a drive pulled out mid-sync', () => {
  const ext4 = requireOrSkip('ext4')
  it.skipIf(ext4 !== null)(`ext4 lazily unmounted mid-sync, ${UNPLUGS} times${ext4 ? ` (skipped: ${ext4})` : ''}`, async () => {
    await pullLoop('ext4', 'lazy-unmount')
  })

  const exfat = requireOrSkip('exfat')
  it.skipIf(exfat !== null)(`exFAT whose FUSE process is killed mid-append, ${UNPLUGS} times${exfat ? ` (skipped: ${exfat})` : ''}`, async () => {
    await pullLoop('exfat', 'fuse-kill')
  })
})

describe('a full drive and a read-only drive', () => {
  const ext4 = requireOrSkip('ext4')

  it.skipIf(ext4 !== null)(`a full drive: exit 5 with a plain message, file and database intact${ext4 ? ` (skipped: ${ext4})` : ''}`, async () => {
    drives = new Drives(tempDir('ferry-drives-'))
    const root = tempDir('ferry-full-')
    const [one, two] = makeDevices(root, 2)
    const drive = drives.create('tiny', 'ext4', 4096)
    const mnt = drives.mount(drive)
    const written = new Set<string>()
    await addOn(one!, written, 20_000)

    // create: a file that fits, then one that does not.
    const file = path.join(mnt, 'field.ferry')
    expect(ferrySync(['--data-dir', one!, 'create', file]).code).toBe(0)
    expect(ferrySync(['--data-dir', two!, 'sync', file]).code).toBe(0)
    for (let i = 0; i < 3; i++) await addOn(one!, written, 1_500_000)
    const before = { file: readFileSync(file), one: await withStore(one!, fingerprint) }

    const big = ferrySync(['--data-dir', one!, 'create', path.join(mnt, 'big.ferry')])
    expect(big.code, big.stderr).toBe(5)
    expect(oneLine(big.stderr), big.stderr).toBe(true)
    expect(readdirSync(mnt).filter((n) => n !== 'lost+found')).toEqual(['field.ferry'])

    const sync = ferrySync(['--data-dir', one!, 'sync', file])
    expect(sync.code, sync.stderr).toBe(5)
    expect(oneLine(sync.stderr), sync.stderr).toBe(true)
    expect(sync.stderr).toMatch(/free|full|space/i)
    expect(readFileSync(file).equals(before.file)).toBe(true)
    expect(ferrySync(['--data-dir', two!, 'verify', file]).code).toBe(0)
    expect(await withStore(one!, fingerprint)).toBe(before.one)
    recordResult('drives-full', { fullDriveCreateExit: big.code, fullDriveSyncExit: sync.code })
  })

  it.skipIf(ext4 !== null)(`a read-only drive: exit 5 with a plain message, file and database intact${ext4 ? ` (skipped: ${ext4})` : ''}`, async () => {
    drives = new Drives(tempDir('ferry-drives-'))
    const root = tempDir('ferry-ro-')
    const [one, two] = makeDevices(root, 2)
    const drive = drives.create('locked', 'ext4', 16 * 1024)
    let mnt = drives.mount(drive)
    const written = new Set<string>()
    await addOn(one!, written)
    expect(ferrySync(['--data-dir', one!, 'create', path.join(mnt, 'field.ferry')]).code).toBe(0)
    drives.unmount(drive)
    await untilImageFree(drive.image)
    mnt = drives.mount(drive, { readOnly: true })
    const file = path.join(mnt, 'field.ferry')
    const bytes = readFileSync(file)
    await addOn(two!, written)

    const sync = ferrySync(['--data-dir', two!, 'sync', file])
    expect(sync.code, sync.stderr).toBe(5)
    expect(oneLine(sync.stderr), sync.stderr).toBe(true)
    expect(readFileSync(file).equals(bytes)).toBe(true)
    // Receiving finished before sending failed: computer 2 holds the union, and opens.
    expect([...(await withStore(one!, versionIds))].every((id) => written.has(id))).toBe(true)
    const create = ferrySync(['--data-dir', two!, 'create', path.join(mnt, 'other.ferry')])
    expect(create.code, create.stderr).toBe(5)
    expect(oneLine(create.stderr), create.stderr).toBe(true)
    expect(existsSync(path.join(mnt, 'other.ferry'))).toBe(false)
    expect(statSync(file).size).toBe(bytes.length)
    expect(ferrySync(['--data-dir', one!, 'verify', file]).code).toBe(0)
    recordResult('drives-readonly', { readOnlySyncExit: sync.code, readOnlyCreateExit: create.code })
  })
})

describe('a full disk under the data folder', () => {
  const ext4 = requireOrSkip('ext4')
  // A large write keeps its versions in a version file beside the database, a small one inside it: the disk fills
  // during one or the other. A sync receives them; an import writes them as new local versions.
  const modes = [
    { where: 'a version file', key: 'version-file', env: { FERRY_VERSION_FILES_AFTER_BYTES: '0' } },
    { where: 'the database', key: 'database', env: { FERRY_VERSION_FILES_AFTER_BYTES: String(2 ** 40) } },
  ]
  const operations = [
    { name: 'sync', args: (t: FullDisk) => ['sync', t.file] },
    { name: 'import', args: (t: FullDisk) => ['import', t.json] },
  ]
  for (const mode of modes) {
    for (const op of operations) {
      it.skipIf(ext4 !== null)(`${op.name} filling it while writing ${mode.where}: exit 5 with a plain message, data folder unchanged, no file left; the same command succeeds once there is room${ext4 ? ` (skipped: ${ext4})` : ''}`, async () => {
        const t = await fullDataDisk()
        const before = { files: filesOf(t.two), state: await withStore(t.two, fingerprint) }

        const full = ferrySync(['--data-dir', t.two, ...op.args(t)], mode.env)
        expect(full.code, full.stderr).toBe(5)
        expect(oneLine(full.stderr), full.stderr).toBe(true)
        expect(full.stderr).toMatch(/full/)
        expect(filesOf(t.two)).toEqual(before.files)
        expect(await withStore(t.two, fingerprint)).toBe(before.state)
        expect(readFileSync(t.file).equals(t.fileBytes)).toBe(true)

        rmSync(path.join(t.mnt, 'filler'))
        const again = ferrySync(['--data-dir', t.two, ...op.args(t)], mode.env)
        expect(again.code, again.stderr).toBe(0)
        if (op.name === 'sync') expect(await withStore(t.two, fingerprint)).toBe(await withStore(t.one, fingerprint))
        else expect(await withStore(t.two, (s) => s.countObservations())).toBe(OBSERVATIONS)
        recordResult(`data-disk-full-${op.name}-${mode.key}`, { exit: full.code, message: full.stderr.trim() })
      })
    }
  }
})

const OBSERVATIONS = 4000

interface FullDisk {
  one: string
  two: string
  mnt: string
  /** A sync file of computer 1's observations, and the same as an export, both on another disk. */
  file: string
  fileBytes: Buffer
  json: string
}

/** Computer 2's data folder on a small ext4 drive with 2 MB left; about 8 MB of observations waiting for it. */
async function fullDataDisk(): Promise<FullDisk> {
  drives = new Drives(tempDir('ferry-drives-'))
  const root = tempDir('ferry-datafull-')
  const [one] = makeDevices(root, 1)
  const mnt = drives.mount(drives.create('datadisk', 'ext4', 64 * 1024))
  const two = path.join(mnt, 'computer2')
  ferryOk(['--data-dir', two, 'init', '--join', path.join(root, 'team.ferryproject')])
  await withStore(one!, (s) =>
    s.exclusive(() =>
      s.writeLocal(Array.from({ length: OBSERVATIONS }, (_, i) => ({ value: { schemaName: 'observation', lat: 1, lon: 2, tags: { i: String(i), notes: randomBytes(1000).toString('hex') }, attachments: [] } }))),
    ),
  )
  const file = path.join(root, 'field.ferry')
  ferryOk(['--data-dir', one!, 'create', file])
  const json = path.join(root, 'observations.json')
  ferryOk(['--data-dir', one!, 'export', json])
  const { bavail, bsize } = statfsSync(mnt)
  writeFileSync(path.join(mnt, 'filler'), Buffer.alloc(bavail * bsize - 2 * 1024 * 1024))
  return { one: one!, two, mnt, file, fileBytes: readFileSync(file), json }
}

/** Files only: an empty versions folder made for a file that failed is no leftover. */
function filesOf(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => path.relative(dir, path.join(e.parentPath, e.name)))
    .sort()
}
