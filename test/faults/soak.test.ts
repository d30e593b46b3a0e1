import { execFileSync, spawn, type ChildProcess } from 'node:child_process'
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { requestDaemon } from '../../src/daemon/client.js'
import type { StatusView } from '../../src/daemon/protocol.js'
import { createSyncFile, syncWithFile } from '../../src/merge/merge.js'
import { Store } from '../../src/store/store.js'
import { makeDevices } from '../helpers/devices.js'
import { tempDir } from '../helpers/tmp.js'
import { CLI, ferryEnv } from './lib/cli-proc.js'
import { Drives, requireOrSkip } from './lib/drives.js'
import { envCount, recordResult } from './lib/results.js'
import { addObservation, versionIds } from './lib/world.js'

/**
 * Long run of the real daemon: SOAK_CYCLES mount/unmount cycles of a drive it syncs automatically ("Always for this
 * drive") and SOAK_CYCLES inbox drops accepted through the control socket, each with new data to sync. Open file
 * descriptors, memory and child processes of the daemon are sampled after a warm-up and at the end; they must stay
 * flat (no leak per cycle), and every version written must have reached the daemon's data folder.
 */
const CYCLES = envCount('FERRY_SOAK_CYCLES', 10)
const WARM_UP = Math.min(5, Math.max(1, Math.floor(CYCLES / 10)))
/** Also sampled every tenth of the run, so the figures show a trend, not just two points. */
const EVERY = Math.max(1, Math.floor(CYCLES / 10))

interface Sample {
  cycle: number
  fds: number
  rssMb: number
  children: number
}

function sample(pid: number, cycle: number): Sample {
  const fds = readdirSync(`/proc/${pid}/fd`).length
  const rss = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
  let children = 0
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8')
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1])
      if (ppid === pid) children++
    } catch {
      // exited while we looked
    }
  }
  return { cycle, fds, rssMb: Math.round((Number(rss?.[1] ?? 0) / 1024) * 10) / 10, children }
}

async function until<T>(what: string, fn: () => Promise<T | undefined | null | false>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await fn()
    if (value) return value
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 20))
  }
}

let daemon: ChildProcess | undefined
let drives: Drives | undefined
afterEach(async () => {
  if (daemon?.pid !== undefined && daemon.exitCode === null && daemon.signalCode === null) {
    const gone = new Promise((r) => daemon!.once('exit', r))
    process.kill(daemon.pid, 'SIGTERM')
    const timer = setTimeout(() => daemon?.pid !== undefined && daemon.exitCode === null && process.kill(daemon.pid, 'SIGKILL'), 15_000)
    await gone
    clearTimeout(timer)
  }
  daemon = undefined
  drives?.cleanup()
  drives = undefined
})

async function startDaemon(dataDir: string, inbox: string, mediaRoot: string): Promise<{ pid: number; status: () => Promise<StatusView>; log: () => string }> {
  const env = ferryEnv({ FERRY_POLL_MS: '100' })
  delete env.DISPLAY
  delete env.WAYLAND_DISPLAY
  delete env.DBUS_SESSION_BUS_ADDRESS
  daemon = spawn(process.execPath, [CLI, '--data-dir', dataDir, 'daemon', '--no-tray', '--inbox', inbox, '--media-root', mediaRoot], { env, stdio: ['ignore', 'pipe', 'pipe'] })
  let log = ''
  daemon.stdout!.on('data', (d: Buffer) => (log = (log + d.toString()).slice(-20_000)))
  daemon.stderr!.on('data', (d: Buffer) => (log = (log + d.toString()).slice(-20_000)))
  const status = async () => (await requestDaemon(dataDir, { cmd: 'status' })) as StatusView
  await until('the daemon to answer status', async () => {
    if (daemon!.exitCode !== null) throw new Error(`the daemon exited early: ${log}`)
    return status().then(
      (s) => s.running,
      () => false,
    )
  })
  return { pid: daemon.pid!, status, log: () => log }
}

describe('soak: the daemon through many drive cycles and inbox drops', () => {
  const mounts = requireOrSkip('ext4')

  it(`${CYCLES} inbox drops and ${mounts ? `no drive cycles (skipped: ${mounts})` : `${CYCLES} drive mount/unmount cycles`}: fds, memory and children flat, nothing lost`, async () => {
    const root = tempDir('ferry-soak-')
    const [one, two] = makeDevices(root, 2)
    const inbox = path.join(root, 'inbox')
    const mediaRoot = path.join(root, 'media')
    const staging = path.join(root, 'staging')
    for (const d of [inbox, mediaRoot, staging]) mkdirSync(d, { recursive: true })
    const written = new Set<string>()
    const second = await Store.open(two!)
    const samples: Sample[] = []
    const figures: Record<string, unknown> = { cycles: CYCLES }
    try {
      // A drive the daemon's computer said "Always" to, with a sync file on it.
      let drive: ReturnType<Drives['create']> | undefined
      if (!mounts) {
        drives = new Drives(tempDir('ferry-soak-drives-'))
        drive = drives.create('SOAKSTICK', 'ext4', 64 * 1024)
        const uuid = execFileSync('blkid', ['-s', 'UUID', '-o', 'value', drive.image], { encoding: 'utf8' }).trim()
        writeFileSync(path.join(one!, 'always-drives.json'), `${JSON.stringify({ drives: [uuid] })}\n`)
        drive.mountPoint = path.join(staging, 'SOAKSTICK')
        drives.mount(drive)
        written.add((await addObservation(second, {})).versionId)
        await createSyncFile(second, path.join(drive.mountPoint, 'field.ferry'))
        drives.unmount(drive)
      }
      const d = await startDaemon(one!, inbox, mediaRoot)

      const lastSyncOf = async (file: string, after: string | undefined) =>
        until(`the daemon to sync ${path.basename(file)} (${JSON.stringify(await d.status().catch(() => null))} ${d.log().slice(-1500)})`, async () => {
          const s = await d.status()
          return s.lastSync && s.lastSync.file === file && s.lastSync.at !== after && s.jobs.every((j) => j.state !== 'queued' && j.state !== 'running') ? s.lastSync : undefined
        })

      // Inbox drops: a new file each time, from a computer with one new observation.
      for (let i = 0; i < CYCLES; i++) {
        written.add((await addObservation(second, { photos: i % 5 === 0 ? [Buffer.alloc(5000, i)] : [] })).versionId)
        const made = path.join(staging, `drop-${i}.ferry`)
        await createSyncFile(second, made)
        const dropped = path.join(inbox, `drop-${i}.ferry`)
        const before = (await d.status()).lastSync?.at
        renameSync(made, dropped)
        const prompt = await until(`a prompt for drop ${i}`, async () => (await d.status()).pending.find((p) => p.path === dropped))
        await requestDaemon(one!, { cmd: 'accept', id: prompt.id })
        await lastSyncOf(dropped, before)
        // The file went back with the daemon's data; the second computer takes it, then it is cleared away.
        await syncWithFile(second, dropped)
        rmSync(dropped)
        if (i + 1 === WARM_UP || ((i + 1) % EVERY === 0 && i + 1 < CYCLES)) samples.push(sample(d.pid, i + 1))
      }
      const afterDrops = sample(d.pid, CYCLES)
      samples.push(afterDrops)

      // Drive cycles: the second computer adds and syncs on the drive, then it is plugged in where the daemon looks.
      if (drive) {
        const plugged = path.join(mediaRoot, 'SOAKSTICK')
        for (let i = 0; i < CYCLES; i++) {
          drive.mountPoint = path.join(staging, 'SOAKSTICK')
          drives!.mount(drive)
          written.add((await addObservation(second, {})).versionId)
          await syncWithFile(second, path.join(drive.mountPoint, 'field.ferry'))
          drives!.unmount(drive)
          drive.mountPoint = plugged
          const file = path.join(plugged, 'field.ferry')
          const before = (await d.status()).lastSync?.at
          drives!.mount(drive)
          await lastSyncOf(file, before)
          drives!.unmount(drive)
          await until('the daemon to see the drive go', async () => (await d.status()).drives.length === 0)
          if ((i + 1) % EVERY === 0 && i + 1 < CYCLES) samples.push(sample(d.pid, CYCLES + i + 1))
        }
        samples.push(sample(d.pid, 2 * CYCLES))
      }

      const start = samples[0]!
      const end = samples.at(-1)!
      Object.assign(figures, { inboxDrops: CYCLES, driveCycles: drive ? CYCLES : 0, driveCyclesSkipped: mounts, samples, start, end })
      // Nothing lost: the daemon's computer holds every version written on the other one.
      const reader = await Store.open(one!)
      const held = versionIds(reader)
      await reader.close()
      const lost = [...written].filter((id) => !held.has(id))
      figures.lostVersions = lost.length
      recordResult('soak', figures)
      expect(lost).toEqual([])
      // Flat: no descriptor or child process left behind per cycle; memory within a fixed margin of the warmed-up
      // figure (V8's heap breathes; a leak per cycle would exceed it many times over at the local counts).
      expect(end.fds, `fds ${start.fds} → ${end.fds}`).toBeLessThanOrEqual(start.fds + 3)
      expect(end.children, `children ${start.children} → ${end.children}`).toBeLessThanOrEqual(start.children)
      expect(end.rssMb, `RSS ${start.rssMb} → ${end.rssMb} MB`).toBeLessThan(start.rssMb * 1.5 + 40)
    } finally {
      await second.close()
    }
  })
})
