// Summarises a V8 .cpuprofile (from `node --cpu-prof`): self time per function and per package, so the
// performance doc can say what dominated without opening a profiler UI.
import { readdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'

function where(url) {
  if (!url) return ''
  if (url.startsWith('node:')) return url
  const nm = url.lastIndexOf('/node_modules/')
  if (nm >= 0) {
    const rest = url.slice(nm + 14).split('/')
    const pkg = rest[0].startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0]
    return `${pkg}/${rest.slice(rest[0].startsWith('@') ? 2 : 1).join('/')}`
  }
  const dist = url.lastIndexOf('/dist/')
  if (dist >= 0) return `dist/${url.slice(dist + 6)}`
  return url.replace(/^file:\/\//, '')
}

function group(url, name) {
  if (!url) return name.startsWith('(') ? name : '(native)'
  if (url.startsWith('node:')) {
    const parts = url.slice(5).split('/')
    const area = parts[0] === 'internal' ? parts[1] : parts[0]
    if (area === 'modules' || area === 'bootstrap' || area === 'main' || area === 'process') return 'node: module loading and start-up'
    return `node: ${area === 'streams' ? 'stream' : area}`
  }
  const nm = url.lastIndexOf('/node_modules/')
  if (nm >= 0) {
    const rest = url.slice(nm + 14).split('/')
    return rest[0].startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0]
  }
  const dist = url.lastIndexOf('/dist/')
  if (dist >= 0) return 'ferry ' + url.slice(dist + 6).split('/').slice(0, -1).join('/') || 'ferry'
  return url
}

/** Self time (ms) per function and per group, largest first. */
export function summariseProfile(profile, top = 12) {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]))
  const self = new Map()
  const { samples = [], timeDeltas = [] } = profile
  for (let i = 0; i < samples.length; i++) {
    const dt = timeDeltas[i + 1] ?? 0 // a sample's time is the gap to the next one
    self.set(samples[i], (self.get(samples[i]) ?? 0) + dt)
  }
  const fns = new Map()
  const groups = new Map()
  let total = 0
  for (const [id, us] of self) {
    const node = byId.get(id)
    if (!node) continue
    const { functionName, url, lineNumber } = node.callFrame
    const name = functionName || '(anonymous)'
    const key = url ? `${name} ${where(url)}:${lineNumber + 1}` : name
    fns.set(key, (fns.get(key) ?? 0) + us)
    const g = group(url, name)
    groups.set(g, (groups.get(g) ?? 0) + us)
    total += us
  }
  const rank = (m) =>
    [...m.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([name, us]) => ({ name, ms: Math.round(us / 100) / 10, share: total ? Math.round((us / total) * 1000) / 10 : 0 }))
  return { total_ms: Math.round(total / 1000), functions: rank(fns), groups: rank(groups) }
}

/** Reads the newest .cpuprofile in DIR and summarises it. */
export async function summariseProfileDir(dir, top) {
  const files = (await readdir(dir)).filter((f) => f.endsWith('.cpuprofile')).sort()
  if (!files.length) return null
  const profile = JSON.parse(await readFile(join(dir, files[files.length - 1]), 'utf8'))
  return { file: join(dir, files[files.length - 1]), ...summariseProfile(profile, top) }
}
