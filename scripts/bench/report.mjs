// Turns benchmark results into a readable table, docs/PERFORMANCE.md and docs/performance-chart.svg.
// The chart is written by hand (no dependency): time against data size for Ferry create/import and cp+fsync.

export const TARGETS = {
  ratio: 1.5,
  noopMs: 100,
  deltaSlackBytes: 64 * 1024,
  deltaFactor: 4,
  rssMb: 200,
}

export const MAPEO_REFERENCE = [
  { name: '1,000 observations + 100 MB photos', create_s: 3.0, import_s: 3.7, rss_mb: null },
  { name: '10,000 observations + 100 MB photos', create_s: 5.1, import_s: 8.2, rss_mb: null },
  { name: '50,000 observations + 10 MB photos', create_s: 10.6, import_s: 13.2, rss_mb: 300 },
]

/** cp + fsync of 100 MB on the machine of the Mapeo figures (the brief). */
const MAPEO_CP_100MB_S = 0.47

const MB = 1024 * 1024

export function fmtBytes(n) {
  if (n == null) return '–'
  if (n < 1024) return `${n} B`
  if (n < MB) return `${(n / 1024).toFixed(1)} KiB`
  if (n < 1024 * MB) return `${(n / MB).toFixed(1)} MiB`
  return `${(n / MB / 1024).toFixed(2)} GiB`
}

export function fmtMs(ms) {
  if (ms == null) return '–'
  if (ms < 10) return `${ms.toFixed(1)} ms`
  if (ms < 10000) return `${Math.round(ms)} ms`
  return `${(ms / 1000).toFixed(1)} s`
}

const fmtRatio = (r) => (r == null ? '–' : `${r.toFixed(2)}×`)

/** Which step had the peak RSS, and how much of that step's memory was the process's own (sampled). */
function rssSplit(c) {
  const step = c.rss_mb && Object.entries(c.rss_mb).sort((a, b) => (b[1] ?? 0) - (a[1] ?? 0))[0]?.[0]
  const own = step && c.anon_mb?.[step]
  return own == null ? '' : `, in ${step}: ${own} MB the process's own, the rest mapped files (the database, Node itself)`
}

/** Create and import (medians) over the fastest cp+fsync sample of the case. */
function fastestRatios(c) {
  const fastest = c.samples_ms?.cp_fsync?.length ? Math.min(...c.samples_ms.cp_fsync) : null
  if (!fastest) return '–'
  return `${fmtRatio(c.create_ms / fastest)} / ${fmtRatio(c.import_ms / fastest)} (cp+fsync ${fmtMs(fastest)})`
}

/** Each target for one case: { key, label, ok (true/false/null when not measured), detail }. */
export function checkTargets(c) {
  const t = []
  const add = (key, label, value, ok, detail) => t.push({ key, label, ok: value == null ? null : ok, detail })
  add('create_ratio', `create ≤ ${TARGETS.ratio}× cp+fsync`, c.create_ratio, c.create_ratio <= TARGETS.ratio, fmtRatio(c.create_ratio))
  add('import_ratio', `import ≤ ${TARGETS.ratio}× cp+fsync`, c.import_ratio, c.import_ratio <= TARGETS.ratio, fmtRatio(c.import_ratio))
  add('noop_bytes', 'no-change sync writes 0 bytes', c.noop_bytes_written, c.noop_bytes_written === 0 && !c.noop_file_modified,
    `${c.noop_bytes_written} B${c.noop_file_modified ? ', file modified' : ''}`)
  add('noop_ms', `no-change sync < ${TARGETS.noopMs} ms`, c.noop_ms, c.noop_ms < TARGETS.noopMs, fmtMs(c.noop_ms))
  const limit = c.delta_payload_bytes == null ? null : TARGETS.deltaFactor * c.delta_payload_bytes + TARGETS.deltaSlackBytes
  add('delta_bytes', '1% change writes ≤ 4× payload + 64 KiB', c.delta_bytes_written, c.delta_bytes_written <= limit,
    `${fmtBytes(c.delta_bytes_written)} ≤ ${fmtBytes(limit)}`)
  add('rss', `peak RSS ≤ ${TARGETS.rssMb} MB`, c.peak_rss_mb, c.peak_rss_mb <= TARGETS.rssMb, c.peak_rss_mb == null ? '–' : `${c.peak_rss_mb} MB`)
  return t
}

const mark = (ok) => (ok === true ? '✓' : ok === false ? '✗' : '')

function rows(cases) {
  return cases.map((c) => {
    if (c.skipped || c.error) {
      return { name: c.name, cells: null, note: c.skipped ? `skipped: ${c.skipped}` : `failed: ${c.error.split('\n')[0]}` }
    }
    const t = Object.fromEntries(checkTargets(c).map((x) => [x.key, x.ok]))
    return {
      name: c.name,
      cells: [
        fmtBytes(c.file_bytes),
        `${fmtMs(c.create_ms)} (${fmtRatio(c.create_ratio)}) ${mark(t.create_ratio)}`,
        `${fmtMs(c.import_ms)} (${fmtRatio(c.import_ratio)}) ${mark(t.import_ratio)}`,
        c.samples_ms?.cp_fsync?.length ? `${fmtMs(c.cp_fsync_ms)} (${fmtMs(Math.min(...c.samples_ms.cp_fsync))}–${fmtMs(Math.max(...c.samples_ms.cp_fsync))})` : fmtMs(c.cp_fsync_ms),
        `${fmtMs(c.noop_ms)} ${mark(t.noop_ms)} / ${c.noop_bytes_written} B ${mark(t.noop_bytes)}`,
        `${fmtMs(c.delta_ms)} / ${fmtBytes(c.delta_bytes_written)} ${mark(t.delta_bytes)}`,
        fmtBytes(c.delta_payload_bytes),
        `${c.peak_rss_mb ?? '–'} MB ${mark(t.rss)}`,
      ],
    }
  })
}

const HEADERS = ['case', 'sync file', 'create (ratio)', 'import (ratio)', 'cp+fsync (min–max)', 'no-change sync / written', '1% sync / written', '1% payload', 'peak RSS']

/** A plain-text table for the terminal. */
export function textTable(cases) {
  const body = rows(cases).map((r) => (r.cells ? [r.name, ...r.cells] : [r.name, r.note]))
  const widths = HEADERS.map((h, i) => Math.max(h.length, ...body.filter((r) => r.length > 2).map((r) => (r[i] ?? '').length)))
  const line = (cells) => cells.map((c, i) => c.padEnd(widths[i])).join('  ')
  const out = [line(HEADERS), widths.map((w) => '-'.repeat(w)).join('  ')]
  for (const r of body) out.push(r.length > 2 ? line(r) : `${r[0].padEnd(widths[0])}  ${r[1]}`)
  out.push('', `✓/✗: targets (ratio ≤ ${TARGETS.ratio}; no-change 0 B and < ${TARGETS.noopMs} ms; 1% written ≤ 4× payload + 64 KiB; RSS ≤ ${TARGETS.rssMb} MB)`)
  return out.join('\n')
}

function loadLine(results) {
  const loads = results.cases.flatMap((c) => c.load_avg ?? [])
  if (!loads.length) return 'not recorded'
  const busy = Math.max(...loads) > results.machine.cores
  return `1-minute load average ${Math.min(...loads)}–${Math.max(...loads)} during the cases on ${results.machine.cores} cores` +
    (busy ? ' — other work shared the machine, so single figures swing widely (every sample is in the JSON at the end of this file)' : '')
}

function mdTable(headers, body) {
  const esc = (s) => String(s).replace(/\|/g, '\\|')
  return [`| ${headers.map(esc).join(' | ')} |`, `|${headers.map(() => '---').join('|')}|`, ...body.map((r) => `| ${r.map(esc).join(' | ')} |`)].join('\n')
}

function targetsSection(cases) {
  const lines = []
  for (const c of cases) {
    if (c.skipped) {
      lines.push(`- **${c.name}**: not measured (${c.skipped}).`)
      continue
    }
    if (c.error) {
      lines.push(`- **${c.name}**: the run failed: \`${c.error.split('\n')[0]}\``)
      continue
    }
    const t = checkTargets(c)
    const met = t.filter((x) => x.ok === true).map((x) => `${x.label} (${x.detail})`)
    const missed = t.filter((x) => x.ok === false).map((x) => `${x.label} (${x.detail}${x.key === 'rss' ? rssSplit(c) : ''})`)
    lines.push(`- **${c.name}**: ${missed.length ? `missed — ${missed.join('; ')}` : 'all targets met'}` +
      (met.length && missed.length ? `. Met: ${met.join('; ')}.` : '.'))
  }
  return lines.join('\n')
}

function profileSection(profile, cases) {
  const keys = profile ? Object.keys(profile).filter((k) => !['create', 'import'].includes(k)) : []
  if (!keys.length) return '_No profile yet (`npm run bench -- --profile` records one per case)._'
  keys.sort((a, b) => cases.findIndex((c) => c.key === a) - cases.findIndex((c) => c.key === b))
  const parts = []
  for (const key of keys) {
    const name = cases.find((c) => c.key === key)?.name ?? key
    for (const [op, p] of Object.entries(profile[key])) {
      if (!p || p.error) {
        parts.push(`**${name}, ${op}**: ${p?.error ?? 'no profile'}`, '')
        continue
      }
      parts.push(`**${name}, ${op}** (${p.total_ms} ms sampled; self time):`, '',
        mdTable(['package / area', 'ms', 'share', 'function', 'ms', 'share'],
          Array.from({ length: 8 }, (_, i) => {
            const g = p.groups[i]
            const f = p.functions[i]
            return [g?.name ?? '', g?.ms ?? '', g ? `${g.share}%` : '', f ? `\`${f.name}\`` : '', f?.ms ?? '', f ? `${f.share}%` : '']
          })), '')
    }
  }
  return parts.join('\n')
}

/** The one case with the same data as a Mapeo figure, compared both in seconds and against each machine's cp+fsync. */
function mapeoComparison(measured) {
  const c = measured.find((x) => x.key === '1k-100MB')
  if (!c) return ''
  const ref = MAPEO_REFERENCE[0]
  const x = (a, b) => `${(a / b).toFixed(1)}×`
  return `
Same data (1,000 observations + 100 MB of photos): Mapeo ${ref.create_s} s / ${ref.import_s} s, Ferry ${fmtMs(c.create_ms)} / ${fmtMs(c.import_ms)}
wall — ${x(ref.create_s * 1000, c.create_ms)} and ${x(ref.import_s * 1000, c.import_ms)} faster. The machines differ: Mapeo's took 0.47 s to cp+fsync
100 MB, this one ${fmtMs(c.cp_fsync_ms)} for ${fmtBytes(c.file_bytes)}. Against each machine's own cp+fsync, Mapeo's create and import were
${x(ref.create_s, MAPEO_CP_100MB_S)} and ${x(ref.import_s, MAPEO_CP_100MB_S)}, Ferry's ${fmtRatio(c.create_ratio)} and ${fmtRatio(c.import_ratio)}.
`
}

const KEEP_START = '<!-- bench:keep:start -->'
const KEEP_END = '<!-- bench:keep:end -->'
const RESULTS_RE = /<!-- bench-results\n([\s\S]*?)\n-->/

/** The hand-written "What dominated" text and the previous results kept in an existing PERFORMANCE.md. */
export function readPrevious(markdown) {
  if (!markdown) return { keep: null, results: null }
  const s = markdown.indexOf(KEEP_START)
  const e = markdown.indexOf(KEEP_END)
  const keep = s >= 0 && e > s ? markdown.slice(s + KEEP_START.length, e).trim() : null
  let results = null
  const m = RESULTS_RE.exec(markdown)
  if (m) {
    try {
      results = JSON.parse(m[1])
    } catch {
      results = null
    }
  }
  return { keep, results }
}

const DEFAULT_KEEP = `_Fill in from \`npm run bench -- --profile\` (the profile tables below) and \`node --cpu-prof\`:
what the create and import spent their time on, and what was changed because of it._`

/** One line of the run history: the figures that show progress, per case, for one run. */
function historyEntry(results) {
  return {
    date: results.date,
    ferry: results.ferry ?? null,
    node_startup_ms: results.machine?.node_startup_ms ?? null,
    cases: Object.fromEntries(
      results.cases
        .filter((c) => !c.skipped && !c.error && (!c.measured_at || c.measured_at >= results.date))
        .map((c) => [c.key, {
          create_ms: c.create_ms, import_ms: c.import_ms, cp_fsync_ms: c.cp_fsync_ms, noop_ms: c.noop_ms,
          create_in_process_ms: c.reported_ms?.create ?? null, import_in_process_ms: c.reported_ms?.import ?? null,
          create_cpu_ms: c.cpu_ms?.create ?? null, import_cpu_ms: c.cpu_ms?.import ?? null,
          peak_rss_mb: c.peak_rss_mb,
        }]),
    ),
  }
}

/** The previous history with this run added (once: a re-render of the same run does not add it again). */
export function withHistory(results, previous) {
  const history = [...(previous?.history ?? [])]
  if (!history.some((h) => h.date === results.date)) history.push(historyEntry(results))
  history.sort((a, b) => a.date.localeCompare(b.date))
  return { ...results, history }
}

function historySection(results) {
  const history = results.history ?? []
  if (history.length < 2) return '_Only one run so far._'
  const keys = [...new Set(history.flatMap((h) => Object.keys(h.cases)))]
  keys.sort((a, b) => results.cases.findIndex((c) => c.key === a) - results.cases.findIndex((c) => c.key === b))
  const name = (k) => results.cases.find((c) => c.key === k)?.name ?? k
  const cell = (c) => (c ? `${fmtMs(c.create_in_process_ms)} / ${fmtMs(c.import_in_process_ms)}${c.create_cpu_ms != null ? ` (CPU ${fmtMs(c.create_cpu_ms)} / ${fmtMs(c.import_cpu_ms)})` : ''}` : '–')
  return mdTable(['run (UTC)', 'Ferry', ...keys.map(name)],
    history.map((h) => [h.date.slice(0, 16).replace('T', ' '), h.ferry ? `\`${h.ferry}\`` : '–', ...keys.map((k) => cell(h.cases[k]))]))
}

/** The whole docs/PERFORMANCE.md. */
export function markdown(results, { keep, chartFile = 'performance-chart.svg' }) {
  const m = results.machine
  const measured = results.cases.filter((c) => !c.skipped && !c.error)
  const body = rows(results.cases).map((r) => (r.cells ? [r.name, ...r.cells] : [r.name, r.note, '', '', '', '', '', '', '']))
  const dates = [...new Set(results.cases.map((c) => c.measured_at?.slice(0, 10)).filter(Boolean))]
  return `# Performance

Measured by \`npm run bench\` (\`scripts/bench.mjs\`), which drives the real CLI (\`node dist/cli.js\`) as child
processes on generated field data. This file and \`${chartFile}\` are rewritten by every run; the
"What dominated" section between the \`bench:keep\` markers is kept.

- **Date**: ${results.date}${dates.length > 1 ? ` (cases measured on ${dates.join(', ')}; each row keeps the date of its own run)` : ''}
- **Command**: \`${results.command}\`
- **Machine**: ${m.cpu}, ${m.cores} cores, ${m.ram_gb} GiB RAM, ${m.os}
- **Node**: ${m.node}
- **Filesystem**: ${m.filesystem.type}${m.filesystem.source ? ` on ${m.filesystem.source}` : ''} (sync files and the cp+fsync copies in \`${m.filesystem.dir}\`${m.work_dir && m.work_dir !== m.filesystem.dir ? `; data folders in \`${m.work_dir}\`` : ', with the data folders'})
- **Repetitions**: median of ${results.reps} per figure; Ferry and the baseline alternate within each repetition, each step after a \`sync\` so none pays for the writeback of the one before
- **Load**: ${loadLine(results)}

## Results

${mdTable(HEADERS, body)}

Times are wall-clock, from spawning \`node dist/cli.js …\` to its exit (Node's start-up included, as a person feels it).
Ratios are Ferry's time over \`cp\` + fsync of the same number of bytes (the sync file itself) on the same filesystem.
✓/✗ mark the targets: create and import ≤ ${TARGETS.ratio}× cp+fsync; a no-change sync writes 0 bytes and takes
< ${TARGETS.noopMs} ms; a 1% change writes ≤ 4× its payload + 64 KiB; peak RSS ≤ ${TARGETS.rssMb} MB.

Ferry's own \`ms\` from its \`--json\` output leaves out Node's start-up and module loading (an empty \`node -e 0\`
takes ${m.node_startup_ms ?? '–'} ms here). CPU is the process's user + system time (GNU time), all threads, start-up
included: it moves less than wall time with the machine's load. The ratios above use the median cp+fsync; where the
disk's speed jumps between runs, the fastest cp+fsync of the run is the stricter yardstick, shown here too.

${mdTable(['case', 'create / import against the fastest cp+fsync', 'create (in-process ratio)', 'import (in-process ratio)', 'CPU create / import', 'no-change sync', '1% sync', 'peak RSS create / import / no-change / 1%', 'of which own (RssAnon) / mapped files (RssFile)'],
    measured.map((c) => [c.name,
      fastestRatios(c),
      `${fmtMs(c.reported_ms?.create)} (${fmtRatio(c.create_ratio_in_process)})`,
      `${fmtMs(c.reported_ms?.import)} (${fmtRatio(c.import_ratio_in_process)})`,
      c.cpu_ms ? `${fmtMs(c.cpu_ms.create)} / ${fmtMs(c.cpu_ms.import)}` : '–',
      fmtMs(c.reported_ms?.noop), fmtMs(c.reported_ms?.delta),
      c.rss_mb ? `${c.rss_mb.create} / ${c.rss_mb.import} / ${c.rss_mb.noop} / ${c.rss_mb.delta} MB` : '–',
      c.anon_mb ? `${c.anon_mb.create} / ${c.anon_mb.import} / ${c.anon_mb.noop} / ${c.anon_mb.delta} MB own; up to ${c.peak_mapped_mb} MB mapped` : '–']))}

Peak RSS is GNU time's maximum resident set size. It counts the pages of LMDB's memory-mapped database the process
touched (file pages the kernel can drop at any time) as well as the process's own memory; the last column splits
them by sampling \`/proc/PID/status\` every 20 ms (so a short peak can be missed).

![Time against data size](${chartFile})

## Targets

${targetsSection(results.cases)}

## Compared with Mapeo

Mapeo's own sync-file library (osm-p2p-syncfile) on a 2-core machine, from the issue:

${mdTable(['data', 'create', 'import', 'RSS'], MAPEO_REFERENCE.map((r) => [r.name, `${r.create_s} s`, `${r.import_s} s`, r.rss_mb ? `${r.rss_mb} MB` : '–']))}
${measured.length ? `
Ferry on this machine: ${measured.map((c) => `${c.name} — create ${fmtMs(c.create_ms)}, import ${fmtMs(c.import_ms)}`).join('; ')}.
` : ''}${mapeoComparison(measured)}
## What dominated

${KEEP_START}
${keep ?? DEFAULT_KEEP}
${KEEP_END}

### Runs so far

Create / import, in-process (Ferry's own \`ms\`), and their CPU time where recorded; both are less sensitive than wall
time to the load of the moment:

${historySection(results)}

### Profiles (\`npm run bench -- --profile\`: one create and one import per case under \`node --cpu-prof\`, self time)

${profileSection(results.profile, results.cases)}

## Method

- Data: CoMapeo observation documents (64-hex docId, ISO createdAt/updatedAt, lat/lon, eight tags, metadata with
  position, last saved position and position provider, photo attachments with EXIF by SHA-256), written as one JSON
  array and imported with \`ferry import obs.json --media DIR\` into a data folder made by \`ferry init\`. ${results.photos === 'jpeg'
    ? `Photos are
  1 MiB each: a 1600×1200 JPEG of smooth random colour (~400 KB, each different) padded with random bytes, so Ferry
  decodes them and makes its preview and thumbnail as for real photos (those variants travel in the sync file too)`
    : `Photos are
  1 MiB of random bytes each (Ferry cannot decode them, so no previews are made)`}; the videos are 1 GiB each of random
  bytes, streamed to disk, never held in memory.
- \`create\`: \`ferry --json create FILE\` into a fresh file, each repetition.
- \`import\`: a fresh device joined with \`ferry init --join P.ferryproject\`, then \`ferry --json sync FILE\`.
- no-change sync: the same device syncs the same file again; bytes written = size after − size before (and the
  file's mtime must not change).
- 1% change: 1% new observations (and 1% new photos) imported on the first device, then \`ferry sync FILE\`;
  bytes written = growth of the file; payload = their JSON plus photo bytes.
- cp+fsync: \`cp --reflink=never FILE DST && sync DST DIR\` on the same filesystem, alternating with each Ferry step.
- Peak RSS: GNU time's maximum resident set size of each Ferry process (\`apt-get install time\`); the table shows
  the largest over create, import, no-change and 1% syncs.
- Options: \`--quick\` (first two cases), \`--case KEY\`, \`--reps N\`, \`--dir DIR\` (data folders),
  \`--file-dir DIR\` (sync files and the cp+fsync copies, e.g. on a mounted USB drive), \`--profile\`, \`--json\`
  (use \`npm run --silent bench -- --json\` so npm's banner stays off stdout), \`--render FILE\` (rewrite this
  file from a saved \`--json\` result). Cases not run keep their last figures here, each with its own date.

<!-- bench-results
${JSON.stringify(results)}
-->
`
}

/** Log-axis bounds and 1-2-5 ticks covering [lo, hi], ending on the nearest 1-2-5 values around the data. */
function logAxis(lo, hi) {
  const all = []
  for (let e = Math.floor(Math.log10(lo)) - 1; e <= Math.ceil(Math.log10(hi)) + 1; e++) for (const m of [1, 2, 5]) all.push(m * 10 ** e)
  const min = Math.max(...all.filter((v) => v <= lo * 1.0001))
  const max = Math.min(...all.filter((v) => v >= hi / 1.0001))
  const ticks = all.filter((v) => v >= min / 1.0001 && v <= max * 1.0001)
  return { min, max: max > min ? max : min * 2, ticks }
}

const fmtTick = (v) => (v >= 1 ? String(+v.toFixed(0)) : String(+v.toPrecision(1)))

const escXml = (s) => String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')

/** An SVG line chart: seconds against sync-file size, for create, import and cp+fsync. */
export function chartSvg(results) {
  const cases = results.cases.filter((c) => !c.skipped && !c.error && c.file_bytes).sort((a, b) => a.file_bytes - b.file_bytes)
  const W = 820
  const H = 440
  const L = 70
  const R = 270
  const T = 50
  const B = 60
  const pw = W - L - R
  const ph = H - T - B
  const series = [
    { key: 'create_ms', label: 'Ferry create', color: '#1f77b4' },
    { key: 'import_ms', label: 'Ferry import (into an empty device)', color: '#d62728' },
    { key: 'cp_fsync_ms', label: 'cp + fsync (physical limit)', color: '#7f7f7f', dash: '6 4' },
    { key: 'limit_ms', label: `${TARGETS.ratio}× cp + fsync (target)`, color: '#2ca02c', dash: '2 4' },
  ]
  const pts = cases.map((c) => ({ x: c.file_bytes / MB, create_ms: c.create_ms, import_ms: c.import_ms, cp_fsync_ms: c.cp_fsync_ms, limit_ms: c.cp_fsync_ms * TARGETS.ratio, name: c.name }))
  // Log-log: the cases span 100 MB to 2 GB and 0.1 s to tens of seconds; proportional growth is a 45° line.
  const xs = pts.map((p) => p.x)
  const ys = pts.flatMap((p) => [p.create_ms, p.import_ms, p.cp_fsync_ms, p.limit_ms]).filter((v) => v > 0).map((v) => v / 1000)
  const xa = xs.length ? logAxis(Math.min(...xs), Math.max(...xs)) : logAxis(10, 1000)
  const ya = ys.length ? logAxis(Math.min(...ys), Math.max(...ys)) : logAxis(0.1, 10)
  const lx = (v) => (Math.log10(v) - Math.log10(xa.min)) / (Math.log10(xa.max) - Math.log10(xa.min))
  const ly = (v) => (Math.log10(v) - Math.log10(ya.min)) / (Math.log10(ya.max) - Math.log10(ya.min))
  const sx = (x) => L + lx(x) * pw
  const sy = (s) => T + ph - ly(Math.max(s, ya.min)) * ph
  const out = []
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`)
  out.push(`<rect width="${W}" height="${H}" fill="#ffffff"/>`)
  out.push(`<text x="${L}" y="24" font-size="15" font-weight="bold">Ferry create / import vs cp + fsync</text>`)
  out.push(`<text x="${L}" y="40" fill="#555">${escXml(`${results.machine.cpu}, ${results.machine.cores} cores, ${results.machine.filesystem.type} · ${results.date.slice(0, 10)}`)}</text>`)
  for (const yv of ya.ticks) {
    out.push(`<line x1="${L}" x2="${L + pw}" y1="${sy(yv).toFixed(1)}" y2="${sy(yv).toFixed(1)}" stroke="#e5e5e5"/>`)
    out.push(`<text x="${L - 8}" y="${(sy(yv) + 4).toFixed(1)}" text-anchor="end">${fmtTick(yv)}</text>`)
  }
  for (const xv of xa.ticks) {
    out.push(`<line x1="${sx(xv).toFixed(1)}" x2="${sx(xv).toFixed(1)}" y1="${T}" y2="${T + ph}" stroke="#f0f0f0"/>`)
    out.push(`<text x="${sx(xv).toFixed(1)}" y="${T + ph + 18}" text-anchor="middle">${fmtTick(xv)}</text>`)
  }
  out.push(`<line x1="${L}" x2="${L + pw}" y1="${T + ph}" y2="${T + ph}" stroke="#333"/><line x1="${L}" x2="${L}" y1="${T}" y2="${T + ph}" stroke="#333"/>`)
  out.push(`<text x="${L + pw / 2}" y="${H - 18}" text-anchor="middle">sync file size (MiB, log scale)</text>`)
  out.push(`<text transform="translate(20 ${T + ph / 2}) rotate(-90)" text-anchor="middle">wall time (s, log scale)</text>`)
  series.forEach((s, i) => {
    const p = pts.filter((q) => q[s.key] != null)
    if (p.length) {
      out.push(`<polyline fill="none" stroke="${s.color}" stroke-width="2"${s.dash ? ` stroke-dasharray="${s.dash}"` : ''} points="${p.map((q) => `${sx(q.x).toFixed(1)},${sy(q[s.key] / 1000).toFixed(1)}`).join(' ')}"/>`)
      for (const q of p) {
        out.push(`<circle cx="${sx(q.x).toFixed(1)}" cy="${sy(q[s.key] / 1000).toFixed(1)}" r="3.5" fill="${s.color}"><title>${escXml(`${q.name}: ${s.label} ${fmtMs(q[s.key])}`)}</title></circle>`)
      }
    }
    const legendY = T + 10 + i * 22
    out.push(`<line x1="${L + pw + 16}" x2="${L + pw + 40}" y1="${legendY}" y2="${legendY}" stroke="${s.color}" stroke-width="2"${s.dash ? ` stroke-dasharray="${s.dash}"` : ''}/>`)
    out.push(`<text x="${L + pw + 46}" y="${legendY + 4}" font-size="11">${escXml(s.label)}</text>`)
  })
  const ny = T + 10 + series.length * 22 + 10
  cases.forEach((c, i) => {
    out.push(`<text x="${L + pw + 16}" y="${ny + i * 16}" font-size="10" fill="#555">${escXml(`${fmtBytes(c.file_bytes)}: ${c.name}`)}</text>`)
  })
  if (!pts.length) out.push(`<text x="${L + pw / 2}" y="${T + ph / 2}" text-anchor="middle" fill="#999">no measured cases yet</text>`)
  out.push('</svg>')
  return out.join('\n') + '\n'
}
