#!/usr/bin/env node
// `npm run bench [-- --quick]`: measures the real Ferry CLI against cp+fsync on generated field data and writes
// docs/PERFORMANCE.md and docs/performance-chart.svg. Progress goes to stderr; the table (or, with --json, one
// JSON object: use `npm run --silent bench -- --json` to keep npm's banner off stdout) to stdout.
// See docs/PERFORMANCE.md "Method" for what each figure means.
//
//   --quick            the first two cases only
//   --case KEY         run only this case (repeatable): 1k-100MB, 10k-500MB, 100k-100MB, 1k-2GB
//   --reps N           repetitions per figure (default 3; the figures are medians)
//   --dir DIR          work folder (default: the OS temp folder); data folders and generated data live there
//   --file-dir DIR     where the sync files and the cp+fsync copies go (default: --dir), e.g. a mounted USB drive
//   --photos KIND      jpeg (default: decodable JPEGs padded to 1 MB, so Ferry makes previews) or random bytes
//   --profile          also record `node --cpu-prof` of one create and one import in every case run
//   --no-docs          do not rewrite docs/PERFORMANCE.md and the chart
//   --keep             keep the generated data folders
//   --cli PATH         the CLI to drive (default: dist/cli.js of this checkout, built by `npm run build`)
//   --json             print one JSON object instead of the table
//   --render FILE      only rewrite the docs from a saved `--json` result (no measuring)
import { existsSync, rmSync } from 'node:fs'
import { cp, mkdir, mkdtemp, readFile, rm, stat, statfs, symlink, writeFile } from 'node:fs/promises'
import { execFileSync } from 'node:child_process'
import { loadavg, tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { generateMedia, writeObservations } from './bench/generate.mjs'
import { describeMachine } from './bench/machine.mjs'
import { summariseProfileDir } from './bench/profile.mjs'
import { chartSvg, markdown, readPrevious, textTable, withHistory } from './bench/report.mjs'
import { CommandError, cpFsync, ferryRunner, hasGnuTime, measure, parseJsonOutput, running, setScratchDir, settleDisk } from './bench/run.mjs'

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..')
const DOC = join(ROOT, 'docs', 'PERFORMANCE.md')
const CHART = join(ROOT, 'docs', 'performance-chart.svg')
const MiB = 1024 * 1024
const GiB = 1024 * MiB

const CASES = [
  { key: '1k-100MB', name: '1k obs + 100×1 MB photos', observations: 1000, media: { count: 100, size: MiB, type: 'photo' } },
  { key: '10k-500MB', name: '10k obs + 500×1 MB photos', observations: 10000, media: { count: 500, size: MiB, type: 'photo' } },
  { key: '100k-100MB', name: '100k obs + 100×1 MB photos', observations: 100000, media: { count: 100, size: MiB, type: 'photo' } },
  { key: '1k-2GB', name: '1k obs + 2×1 GB videos', observations: 1000, media: { count: 2, size: GiB, type: 'video' } },
]

const { values: opts } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    json: { type: 'boolean', default: false },
    case: { type: 'string', multiple: true },
    reps: { type: 'string', default: '3' },
    dir: { type: 'string' },
    'file-dir': { type: 'string' },
    profile: { type: 'boolean', default: false },
    photos: { type: 'string', default: 'jpeg' },
    'no-docs': { type: 'boolean', default: false },
    keep: { type: 'boolean', default: false },
    cli: { type: 'string' },
    render: { type: 'string' },
    help: { type: 'boolean', short: 'h', default: false },
  },
})

if (opts.help) {
  process.stdout.write((await readFile(fileURLToPath(import.meta.url), 'utf8')).split('\n').filter((l) => l.startsWith('//')).map((l) => l.slice(3)).join('\n') + '\n')
  process.exit(0)
}

const log = (msg) => process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${msg}\n`)
const median = (xs) => {
  const s = xs.filter((x) => x != null).sort((a, b) => a - b)
  if (!s.length) return null
  const m = s.length >> 1
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2
}
const round = (x, d = 1) => (x == null ? null : Math.round(x * 10 ** d) / 10 ** d)
const peakMb = (kbs) => {
  const v = kbs.filter((x) => x != null)
  return v.length ? Math.round(Math.max(...v) / 1024) : null
}
const perOpMb = (byOp) => Object.fromEntries(Object.entries(byOp).map(([k, v]) => [k, peakMb(v)]))
const fileSize = async (f) => (await stat(f)).size

const reps = Math.max(1, Number.parseInt(opts.reps, 10) || 3)
let selected = opts.quick ? CASES.slice(0, 2) : CASES
if (opts.case?.length) {
  const unknown = opts.case.filter((k) => !CASES.some((c) => c.key === k))
  if (unknown.length) {
    log(`unknown case ${unknown.join(', ')}; the cases are ${CASES.map((c) => c.key).join(', ')}`)
    process.exit(2)
  }
  selected = CASES.filter((c) => opts.case.includes(c.key))
}

if (opts.render) {
  const saved = JSON.parse(await readFile(opts.render, 'utf8'))
  const prev = readPrevious(existsSync(DOC) ? await readFile(DOC, 'utf8') : null)
  delete saved.problems
  const withPast = withHistory(saved, prev.results)
  await writeFile(DOC, markdown(withPast, { keep: prev.keep }))
  await writeFile(CHART, chartSvg(withPast))
  log(`wrote ${DOC} and ${CHART} from ${opts.render}`)
  process.exit(0)
}

const BUILT = opts.cli ? resolve(opts.cli) : join(ROOT, 'dist', 'cli.js')
if (!existsSync(BUILT)) {
  log(`${BUILT} does not exist: run \`npm run build\` first.`)
  process.exit(2)
}
if (!hasGnuTime()) log('GNU time (/usr/bin/time) is not installed: peak RSS will not be measured (apt-get install time).')

const workRoot = resolve(opts.dir ?? tmpdir())
await mkdir(workRoot, { recursive: true })
const fileRoot = opts['file-dir'] ? resolve(opts['file-dir']) : workRoot
await mkdir(fileRoot, { recursive: true })
// Folders to remove if the run is interrupted (Ctrl-C): generated data can be gigabytes.
const cleanup = new Set()
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, async () => {
    for (const child of running) child.kill('SIGKILL')
    await new Promise((r) => setTimeout(r, 200))
    if (!opts.keep) {
      for (const d of cleanup) {
        try {
          rmSync(d, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 })
        } catch (e) {
          log(`could not remove ${d}: ${e.message}`)
        }
      }
    }
    log(`interrupted${opts.keep ? '' : '; removed the generated data'}`)
    process.exit(130)
  })
}
// A rebuild of dist/ during a long run must not change what is measured half-way: run a snapshot of it.
const snapshot = opts.cli ? null : await snapshotDist()
if (snapshot) cleanup.add(snapshot)
const scratch = await mkdtemp(join(tmpdir(), 'ferry-bench-scratch-'))
cleanup.add(scratch)
setScratchDir(scratch)
const CLI = snapshot ? join(snapshot, 'dist', 'cli.js') : BUILT
const ferry = ferryRunner(CLI)
const machine = { ...describeMachine(fileRoot), work_dir: workRoot }
const problems = []

/** Copies dist/ (and package.json, with node_modules linked) to a temporary folder; returns that folder. */
async function snapshotDist() {
  const dir = await mkdtemp(join(tmpdir(), 'ferry-bench-cli-'))
  await cp(join(ROOT, 'dist'), join(dir, 'dist'), { recursive: true })
  await cp(join(ROOT, 'package.json'), join(dir, 'package.json'))
  // Ferry reads some defaults from config/ beside dist/.
  if (existsSync(join(ROOT, 'config'))) await cp(join(ROOT, 'config'), join(dir, 'config'), { recursive: true })
  await symlink(join(ROOT, 'node_modules'), join(dir, 'node_modules'), 'dir')
  return dir
}

function gitDescribe() {
  try {
    const head = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).trim()
    const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no', '--', 'src'], { cwd: ROOT, encoding: 'utf8' }).trim()
    return dirty ? `${head} + uncommitted changes in src/` : head
  } catch {
    return null
  }
}

/** Disk the case needs at its peak: media in the source folder, both devices, the sync file and the cp copy. */
function diskNeeded(c) {
  const media = c.media.count * c.media.size
  const obs = c.observations * 2048
  return media * 5 + obs * 12 + 512 * MiB
}

async function freeBytes(dir) {
  const s = await statfs(dir)
  return s.bavail * s.bsize
}

/** Runs a Ferry command and records what it cost; on failure remembers the exact command and output. */
async function timed(dataDir, args, opts2 = {}) {
  settleDisk()
  try {
    return await ferry(dataDir, args, { rss: true, ...opts2 })
  } catch (e) {
    if (e instanceof CommandError) problems.push({ command: e.cmd, code: e.code, stdout: e.stdout.trim(), stderr: e.stderr.trim() })
    throw e
  }
}

async function newDevice(dir, projectFile) {
  await timed(dir, ['init', '--join', projectFile], { rss: false })
}

async function runCase(c, { profile }) {
  const result = {
    name: c.name,
    key: c.key,
    observations: c.observations,
    media_bytes: c.media.count * c.media.size,
    measured_at: new Date().toISOString(),
    // Other work on the machine makes single figures swing: the 1-minute load average at the start and the end.
    load_avg: [round(loadavg()[0], 2)],
  }
  const need = diskNeeded(c)
  const free = await freeBytes(workRoot)
  if (free < need) {
    result.skipped = `needs about ${(need / GiB).toFixed(1)} GiB free in ${workRoot}, ${(free / GiB).toFixed(1)} GiB available (use --dir)`
    log(`${c.key}: skipped — ${result.skipped}`)
    return result
  }
  if (fileRoot !== workRoot) {
    const fileNeed = 2 * (c.media.count * c.media.size + c.observations * 2048) + 64 * MiB
    const fileFree = await freeBytes(fileRoot)
    if (fileFree < fileNeed) {
      result.skipped = `needs about ${(fileNeed / GiB).toFixed(1)} GiB free in ${fileRoot} for the sync file and its copy, ${(fileFree / GiB).toFixed(1)} GiB available`
      log(`${c.key}: skipped — ${result.skipped}`)
      return result
    }
  }
  const dir = await mkdtemp(join(workRoot, `ferry-bench-${c.key}-`))
  const filesDir = fileRoot === workRoot ? join(dir, 'files') : await mkdtemp(join(fileRoot, `ferry-bench-files-${c.key}-`))
  cleanup.add(dir)
  cleanup.add(filesDir)
  log(`${c.key}: working in ${dir}${filesDir.startsWith(dir) ? '' : `, sync files in ${filesDir}`}`)
  try {
    // --- data
    const mediaDir = join(dir, 'media')
    let lastPct = -1
    const media = await generateMedia(mediaDir, {
      ...c.media,
      label: c.key,
      jpeg: opts.photos === 'jpeg',
      onProgress: (i, n) => {
        const pct = Math.floor((i / n) * 10) * 10
        if (pct !== lastPct) log(`${c.key}: generating media ${i}/${n}`)
        lastPct = pct
      },
    })
    const obsFile = join(dir, 'obs.json')
    const obsBytes = await writeObservations(obsFile, { label: c.key, count: c.observations, media })
    log(`${c.key}: ${c.observations} observations (${(obsBytes / MiB).toFixed(1)} MiB JSON), ${media.length} media files`)

    // --- device 1 with the data, and the project file other devices join with
    const d1 = join(dir, 'device1')
    await timed(d1, ['init', '--name', 'Bench'], { rss: false })
    log(`${c.key}: importing into device 1…`)
    const imp = await timed(d1, ['import', obsFile, '--media', mediaDir])
    result.setup_import_ms = round(imp.ms)
    result.setup_import_rss_mb = imp.rssKb == null ? null : Math.round(imp.rssKb / 1024)
    log(`${c.key}: imported in ${(imp.ms / 1000).toFixed(1)} s`)
    const projectFile = join(dir, 'bench.ferryproject')
    await timed(d1, ['project', 'export', projectFile], { rss: false })

    const create = []
    const imports = []
    const noops = []
    const cps = []
    const rss = { create: [], import: [], noop: [], delta: [] }
    const anon = { create: [], import: [], noop: [], delta: [] }
    const mapped = { create: [], import: [], noop: [], delta: [] }
    const reported = { create: [], import: [], noop: [], delta: [] }
    const cpu = { create: [], import: [], noop: [], delta: [] }
    let noopBytes = 0
    let noopModified = false
    let lastFile = null
    let lastDevice2 = null
    await mkdir(filesDir, { recursive: true })
    const cpDst = join(filesDir, 'cp-copy.bin')

    for (let r = 1; r <= reps; r++) {
      // create, then the baseline on the same bytes
      const file = join(filesDir, `rep${r}.ferry`)
      const cr = await timed(d1, ['--json', 'create', file])
      create.push(cr.ms)
      rss.create.push(cr.rssKb)
      cpu.create.push(cr.cpuMs)
      anon.create.push(cr.anonKb)
      mapped.create.push(cr.fileKb)
      reported.create.push(parseJsonOutput(cr.stdout)?.ms ?? null)
      const size = await fileSize(file)
      result.file_bytes = size
      const cp1 = await cpFsync(file, cpDst)
      cps.push(cp1)
      log(`${c.key}: rep ${r}/${reps} create ${Math.round(cr.ms)} ms (${(size / MiB).toFixed(1)} MiB file) · cp+fsync ${Math.round(cp1)} ms`)

      // import into an empty device, then the baseline again
      const d2 = join(dir, `device2-rep${r}`)
      await newDevice(d2, projectFile)
      const im = await timed(d2, ['--json', 'sync', file])
      imports.push(im.ms)
      rss.import.push(im.rssKb)
      cpu.import.push(im.cpuMs)
      anon.import.push(im.anonKb)
      mapped.import.push(im.fileKb)
      const imJson = parseJsonOutput(im.stdout)
      reported.import.push(imJson?.ms ?? null)
      if (imJson && r === 1) result.import_received = imJson.received
      const cp2 = await cpFsync(file, cpDst)
      cps.push(cp2)

      // no-change sync: the device that just synced syncs the same file again
      const before = await stat(file)
      const no = await timed(d2, ['--json', 'sync', file])
      const after = await stat(file)
      noops.push(no.ms)
      rss.noop.push(no.rssKb)
      cpu.noop.push(no.cpuMs)
      anon.noop.push(no.anonKb)
      mapped.noop.push(no.fileKb)
      reported.noop.push(parseJsonOutput(no.stdout)?.ms ?? null)
      noopBytes = Math.max(noopBytes, after.size - before.size)
      if (after.mtimeMs !== before.mtimeMs || after.size !== before.size) noopModified = true
      log(`${c.key}: rep ${r}/${reps} import ${Math.round(im.ms)} ms · cp+fsync ${Math.round(cp2)} ms · no-change sync ${Math.round(no.ms)} ms, ${after.size - before.size} B`)

      if (lastFile) await rm(lastFile, { force: true })
      if (lastDevice2) await rm(lastDevice2, { recursive: true, force: true })
      lastFile = file
      lastDevice2 = d2
    }
    if (lastDevice2) await rm(lastDevice2, { recursive: true, force: true })

    if (profile) result.profile = await profileCase(c, { dir, d1, projectFile, filesDir })

    // --- 1% change: device 1 gets 1% new observations (and photos), then syncs the last file
    const settle = await timed(d1, ['--json', 'sync', lastFile], { rss: false })
    const settleJson = parseJsonOutput(settle.stdout)
    if (settleJson && (settleJson.sent?.versions || settleJson.received?.versions)) {
      log(`${c.key}: note: device 1's first sync of the file exchanged ${JSON.stringify({ received: settleJson.received, sent: settleJson.sent })}`)
    }
    const deltaCount = Math.max(1, Math.round(c.observations / 100))
    const deltaMedia = Math.round(c.media.count / 100)
    const deltas = []
    const deltaBytes = []
    const payloads = []
    for (let r = 1; r <= reps; r++) {
      const dmDir = join(dir, `delta-media-${r}`)
      const dMedia = await generateMedia(dmDir, { count: deltaMedia, size: c.media.size, type: c.media.type, label: `${c.key}-delta${r}`, jpeg: opts.photos === 'jpeg' })
      const dFile = join(dir, `delta-${r}.json`)
      const jsonBytes = await writeObservations(dFile, { label: c.key, start: c.observations + (r - 1) * deltaCount, count: deltaCount, media: dMedia, seed: 7 })
      await timed(d1, ['import', dFile, ...(dMedia.length ? ['--media', dmDir] : [])], { rss: false })
      const before = await fileSize(lastFile)
      const ds = await timed(d1, ['--json', 'sync', lastFile])
      const grown = (await fileSize(lastFile)) - before
      const payload = jsonBytes + dMedia.reduce((a, m) => a + m.size, 0)
      deltas.push(ds.ms)
      deltaBytes.push(grown)
      payloads.push(payload)
      rss.delta.push(ds.rssKb)
      cpu.delta.push(ds.cpuMs)
      anon.delta.push(ds.anonKb)
      mapped.delta.push(ds.fileKb)
      reported.delta.push(parseJsonOutput(ds.stdout)?.ms ?? null)
      log(`${c.key}: rep ${r}/${reps} 1% sync (${deltaCount} obs, ${dMedia.length} media) ${Math.round(ds.ms)} ms, wrote ${grown} B for a ${payload} B payload`)
      await rm(dmDir, { recursive: true, force: true })
    }

    const cp = median(cps)
    const allRss = Object.values(rss).flat().filter((x) => x != null)
    Object.assign(result, {
      create_ms: round(median(create)),
      import_ms: round(median(imports)),
      noop_ms: round(median(noops)),
      noop_bytes_written: noopBytes,
      noop_file_modified: noopModified,
      delta_ms: round(median(deltas)),
      delta_bytes_written: Math.round(median(deltaBytes)),
      delta_payload_bytes: Math.round(median(payloads)),
      cp_fsync_ms: round(cp),
      create_ratio: round(median(create) / cp, 2),
      import_ratio: round(median(imports) / cp, 2),
      // Ferry's own `ms` (from --json) leaves out Node's start-up and module loading.
      create_ratio_in_process: median(reported.create) == null ? null : round(median(reported.create) / cp, 2),
      import_ratio_in_process: median(reported.import) == null ? null : round(median(reported.import) / cp, 2),
      peak_rss_mb: allRss.length ? Math.round(Math.max(...allRss) / 1024) : null,
      // GNU time's peak counts LMDB's memory-mapped pages too; the sampled split says how much is the process's own.
      peak_anon_mb: peakMb(Object.values(anon).flat()),
      peak_mapped_mb: peakMb(Object.values(mapped).flat()),
      rss_mb: perOpMb(rss),
      anon_mb: perOpMb(anon),
      mapped_mb: perOpMb(mapped),
      cpu_ms: Object.fromEntries(Object.entries(cpu).map(([k, v]) => [k, round(median(v), 0)])),
      reported_ms: Object.fromEntries(Object.entries(reported).map(([k, v]) => [k, round(median(v))])),
      samples_ms: { create: create.map((x) => round(x)), import: imports.map((x) => round(x)), noop: noops.map((x) => round(x)), delta: deltas.map((x) => round(x)), cp_fsync: cps.map((x) => round(x)) },
    })
  } catch (e) {
    result.error = e instanceof Error ? e.message : String(e)
    log(`${c.key}: FAILED — ${result.error}`)
  } finally {
    result.load_avg.push(round(loadavg()[0], 2))
    if (opts.keep) log(`${c.key}: kept ${dir}${filesDir.startsWith(dir) ? '' : ` and ${filesDir}`}`)
    else {
      await rm(dir, { recursive: true, force: true })
      await rm(filesDir, { recursive: true, force: true })
    }
    cleanup.delete(dir)
    cleanup.delete(filesDir)
  }
  return result
}

/** One extra create and import under `node --cpu-prof`, summarised by self time. */
async function profileCase(c, { dir, d1, projectFile, filesDir }) {
  const out = {}
  for (const op of ['create', 'import']) {
    const profDir = join(dir, `prof-${op}`)
    await mkdir(profDir, { recursive: true })
    const file = join(filesDir, `profile-${op}.ferry`)
    const nodeArgs = ['--cpu-prof', `--cpu-prof-dir=${profDir}`]
    try {
      if (op === 'create') {
        await timed(d1, ['--json', 'create', file], { rss: false, nodeArgs })
      } else {
        await timed(d1, ['--json', 'create', file], { rss: false })
        const d2 = join(dir, 'device2-profile')
        await newDevice(d2, projectFile)
        await timed(d2, ['--json', 'sync', file], { rss: false, nodeArgs })
        await rm(d2, { recursive: true, force: true })
      }
      const summary = await summariseProfileDir(profDir, 15)
      out[op] = summary ? { case: c.name, ...summary, file: undefined } : { error: 'no .cpuprofile was written' }
      if (summary) log(`${c.key}: profile of ${op}: ${summary.groups.slice(0, 5).map((g) => `${g.name} ${g.share}%`).join(', ')}`)
    } catch (e) {
      out[op] = { error: e instanceof Error ? e.message.split('\n')[0] : String(e) }
    } finally {
      await rm(file, { force: true })
    }
  }
  return out
}

const started = new Date()
// The fixed cost every CLI call pays before Ferry's own code runs: an empty Node process.
{
  const t = []
  for (let i = 0; i < 5; i++) t.push((await measure(process.execPath, ['-e', '0'])).ms)
  machine.node_startup_ms = round(median(t))
}
log(`machine: ${machine.cpu}, ${machine.cores} cores, ${machine.ram_gb} GiB, Node ${machine.node}, ${machine.filesystem.type}`)
log(`cases: ${selected.map((c) => c.key).join(', ')}; ${reps} repetitions each`)
const cases = []
for (const c of selected) cases.push(await runCase(c, { profile: opts.profile }))

// Profiles by case key: { create, import } summaries.
const profile = Object.fromEntries(cases.filter((c) => c.profile).map((c) => [c.key, c.profile]))
for (const c of cases) delete c.profile
const argv = process.argv.slice(2).filter((a) => a !== '--json')
const results = {
  machine,
  date: started.toISOString(),
  command: `npm run bench${argv.length ? ` -- ${argv.join(' ')}` : ''}`,
  ferry: gitDescribe(),
  reps,
  photos: opts.photos === 'jpeg' ? 'jpeg' : 'random',
  cases,
  ...(Object.keys(profile).length ? { profile } : {}),
  ...(problems.length ? { problems } : {}),
}

if (!opts['no-docs']) {
  const existing = existsSync(DOC) ? await readFile(DOC, 'utf8') : null
  const prev = readPrevious(existing)
  // Cases not run this time keep their last measured figures (each row carries its own date).
  const merged = { ...results, cases: [...cases] }
  if (prev.results?.cases) {
    for (const old of prev.results.cases) {
      if (!merged.cases.some((c) => c.key === old.key) && !old.skipped && !old.error) merged.cases.push(old)
    }
    merged.cases.sort((a, b) => CASES.findIndex((c) => c.key === a.key) - CASES.findIndex((c) => c.key === b.key))
  }
  // Profiles of cases not profiled this time are kept too (an old single-case shape is dropped).
  const oldProfiles = prev.results?.profile && !prev.results.profile.create ? prev.results.profile : {}
  const keptProfiles = Object.fromEntries(Object.entries(oldProfiles).filter(([k]) => merged.cases.some((c) => c.key === k) && !(k in profile)))
  merged.profile = { ...keptProfiles, ...profile }
  if (!Object.keys(merged.profile).length) delete merged.profile
  delete merged.problems
  await mkdir(dirname(DOC), { recursive: true })
  await writeFile(DOC, markdown(withHistory(merged, prev.results), { keep: prev.keep }))
  await writeFile(CHART, chartSvg(merged))
  log(`wrote ${DOC} and ${CHART}`)
}

if (snapshot) await rm(snapshot, { recursive: true, force: true })
await rm(scratch, { recursive: true, force: true })

if (problems.length) {
  log('Ferry commands that failed:')
  for (const p of problems) log(`  $ ${p.command}\n    exit ${p.code}: ${(p.stderr || p.stdout).split('\n').slice(0, 5).join('\n    ')}`)
}

if (opts.json) process.stdout.write(JSON.stringify(results, null, 2) + '\n')
else process.stdout.write('\n' + textTable(cases) + '\n')
process.exit(cases.some((c) => c.error) ? 1 : 0)
