// Runs the real CLI and the cp+fsync baseline as child processes and measures them: wall time in this process
// (spawn to exit, so Node's start-up is counted, as a person would feel it), and the child's peak RSS from GNU
// time (`/usr/bin/time -f %M`, kilobytes), when it is installed.
import { execFileSync, spawn } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { readFile, rm } from 'node:fs/promises'
import { performance } from 'node:perf_hooks'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

export const GNU_TIME = '/usr/bin/time'

/** Whether GNU time (not the shell keyword) is available to measure a child's peak RSS. */
export function hasGnuTime() {
  return existsSync(GNU_TIME)
}

let scratch = tmpdir()
/** Where GNU time writes its figure (a folder the caller removes at the end or on interrupt). */
export function setScratchDir(dir) {
  scratch = dir
}

/** Child processes still running, so an interrupted benchmark can stop them before removing their folders. */
export const running = new Set()

/** An error from a child process, with what a person needs to reproduce it. */
export class CommandError extends Error {
  constructor(cmd, code, stdout, stderr) {
    super(`command failed (exit ${code}): ${cmd}\n${(stderr || stdout).trim().split('\n').slice(-15).join('\n')}`)
    this.cmd = cmd
    this.code = code
    this.stdout = stdout
    this.stderr = stderr
  }
}

function quote(a) {
  return /^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`
}

/**
 * Spawns `cmd args`, collecting output. With `rss`, runs it under GNU time and returns its peak RSS in KiB.
 * Resolves { ms, code, stdout, stderr, rssKb, cpuMs, anonKb, fileKb, cmdline }; rejects with CommandError on a non-zero exit
 * unless `allowFail`.
 */
export async function measure(cmd, args, { rss = false, allowFail = false, env, cwd } = {}) {
  const cmdline = [cmd, ...args].map(quote).join(' ')
  let rssFile = null
  let file = cmd
  let argv = args
  if (rss && hasGnuTime()) {
    rssFile = join(scratch, `rss-${Math.random().toString(36).slice(2)}`)
    file = GNU_TIME
    argv = ['-f', '%M %U %S', '-o', rssFile, cmd, ...args]
  }
  const started = performance.now()
  const child = spawn(file, argv, { stdio: ['ignore', 'pipe', 'pipe'], env: env ?? process.env, cwd })
  running.add(child)
  const memory = rss ? sampleMemory(child.pid, file === GNU_TIME) : null
  const out = []
  const err = []
  child.stdout.on('data', (d) => out.push(d))
  child.stderr.on('data', (d) => err.push(d))
  const code = await new Promise((resolve, reject) => {
    child.on('error', reject)
    child.on('close', (c, signal) => resolve(c ?? `signal ${signal}`))
  })
  const ms = performance.now() - started
  running.delete(child)
  const mem = memory ? memory.stop() : null
  const stdout = Buffer.concat(out).toString('utf8')
  const stderr = Buffer.concat(err).toString('utf8')
  let rssKb = null
  let cpuMs = null // user + system CPU time: steadier than wall time when other work shares the machine
  if (rssFile) {
    const text = await readFile(rssFile, 'utf8').catch(() => '')
    await rm(rssFile, { force: true })
    // GNU time writes "Command exited with non-zero status N" before the figure when the command fails.
    const last = text.trim().split('\n').pop()
    const m = /^(\d+) ([\d.]+) ([\d.]+)$/.exec(last ?? '')
    if (m) {
      rssKb = Number(m[1])
      cpuMs = Math.round((Number(m[2]) + Number(m[3])) * 1000)
    }
  }
  if (code !== 0 && !allowFail) throw new CommandError(cmdline, code, stdout, stderr)
  return { ms, code, stdout, stderr, rssKb, cpuMs, anonKb: mem?.anonKb ?? null, fileKb: mem?.fileKb ?? null, cmdline }
}

/**
 * Samples /proc/PID/status every 20 ms (Linux): the peak of RssAnon (heap, buffers: what the process itself holds)
 * and of RssFile (file pages mapped in, which for Ferry is mostly LMDB's memory map, pages the kernel can drop).
 * GNU time's figure is their sum at the peak. With `wrapped`, PID is GNU time and the Node process is its child.
 */
function sampleMemory(pid, wrapped) {
  if (process.platform !== 'linux' || !pid) return null
  let target = wrapped ? null : pid
  let anonKb = null
  let fileKb = null
  const field = (text, name) => {
    const m = new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(text)
    return m ? Number(m[1]) : null
  }
  const sample = () => {
    try {
      if (target === null) {
        const kids = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim()
        if (!kids) return
        target = Number(kids.split(/\s+/)[0])
      }
      const status = readFileSync(`/proc/${target}/status`, 'utf8')
      const a = field(status, 'RssAnon')
      const f = field(status, 'RssFile')
      if (a !== null) anonKb = Math.max(anonKb ?? 0, a)
      if (f !== null) fileKb = Math.max(fileKb ?? 0, f)
    } catch {
      // the process has just exited, or is not started yet
    }
  }
  const timer = setInterval(sample, 20)
  return {
    stop() {
      clearInterval(timer)
      return { anonKb, fileKb }
    },
  }
}

/** The Ferry CLI of this checkout, run as `node dist/cli.js [--data-dir DIR] ARGS`. */
export function ferryRunner(cliPath, { nodeArgs = [] } = {}) {
  // A daemon or a user's FERRY_DATA_DIR must never be picked up: every call names its data folder.
  const env = { ...process.env }
  delete env.FERRY_DATA_DIR
  return (dataDir, args, opts = {}) =>
    measure(process.execPath, [...nodeArgs, ...(opts.nodeArgs ?? []), cliPath, ...(dataDir ? ['--data-dir', dataDir] : []), ...args], {
      env,
      ...opts,
    })
}

/**
 * Writes every dirty page of every filesystem back before a measured step. Without it each step pays, in its own
 * fsync, for writeback the step before it left behind (ext4 commits its journal in order), and the baseline's
 * figures swung between 1.2 and 1.9 s for the same 639 MiB copy.
 */
export function settleDisk() {
  execFileSync('sync')
}

/** Parses the one JSON object a `--json` command prints (the last line that parses, to be tolerant of logs). */
export function parseJsonOutput(stdout) {
  const text = stdout.trim()
  try {
    return JSON.parse(text)
  } catch {
    for (const line of text.split('\n').reverse()) {
      try {
        return JSON.parse(line)
      } catch {
        // keep looking
      }
    }
  }
  return null
}

/**
 * The physical limit: `cp` of SRC to a fresh DST on the same filesystem, then fsync of DST and its folder
 * (`sync FILE DIR` of coreutils fsyncs each argument). Reflinks are refused so the bytes are really copied.
 */
export async function cpFsync(src, dst) {
  await rm(dst, { force: true })
  settleDisk()
  const dir = dst.slice(0, dst.lastIndexOf('/')) || '/'
  const r = await measure('sh', ['-c', 'cp --reflink=never -- "$1" "$2" && sync -- "$2" "$3"', 'cp-fsync', src, dst, dir])
  await rm(dst, { force: true })
  return r.ms
}
