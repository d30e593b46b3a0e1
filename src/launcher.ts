#!/usr/bin/env node
/**
 * The `ferry` command's entry, dist/cli.js. The CLI itself is the bundle beside it, dist/ferry.cjs (both made by
 * scripts/build.mjs; this file is only ever bundled as CommonJS, hence __dirname and the CommonJS loader below).
 *
 * Node 20 has no compile cache, and compiling is a large part of a short command: this runs the bundle, and the
 * CommonJS packages it loads as it starts (lmdb, msgpackr, cbor-x and their helpers), from V8 code caches kept in one
 * file in the per-user cache folder. The cache only ever saves time: missing, unreadable, from another build or
 * another Node, or rejected by V8 (other flags), the code is compiled as usual and the file is rewritten when the
 * command exits. Nothing about it can fail a command: every error reading or writing it is ignored.
 * FERRY_CODE_CACHE=0 turns it off; FERRY_CACHE_DIR moves it.
 */
import { createHash } from 'node:crypto'
import { mkdirSync, readdirSync, readFileSync, renameSync, statSync, unlinkSync, writeFileSync } from 'node:fs'
import Module, { createRequire } from 'node:module'
import path from 'node:path'
import vm from 'node:vm'
import { cacheDir } from './paths.js'

/** Set by the build: a hash of dist/ferry.cjs. */
declare const FERRY_BUILD_ID: string

const BUNDLE = path.join(__dirname, 'ferry.cjs')
const MAGIC = Buffer.from('FERRY-V8-CACHE-3')
/** Beyond this many commands, a new one no longer has the file rewritten. */
const MAX_COMMANDS = 24
/** Cache files kept in the folder (other builds, Node versions, flags): the most recently written ones. */
const KEEP_FILES = 8
/** A temporary file this old was left by a process that died while writing it. */
const STALE_TEMP_MS = 10 * 60 * 1000

type Wrapper = (this: unknown, ...args: unknown[]) => unknown

/**
 * The cached data of every script compiled through it, read from and written to one file. Keys name the code
 * exactly (the bundle's content hash; a package file's path and content hash), so V8 only ever gets cached data
 * made from the very same source.
 *
 * Cached data is made when a command exits, so it holds the functions that command ran. The first time another
 * command runs, the file is made again with its functions added (V8 compiles the rest lazily, which costs a sync a few
 * milliseconds). The daemon never writes it: its own functions would only make every command's cache bigger.
 */
class CodeCache {
  private readonly stored: CacheFile
  private readonly compiled = new Map<string, vm.Script>()
  private stale: boolean

  constructor(
    private readonly file: string | undefined,
    private readonly command: string,
  ) {
    this.stored = file === undefined ? { commands: [], entries: new Map() } : readCacheFile(file)
    this.stale = !this.stored.commands.includes(command) && this.stored.commands.length < MAX_COMMANDS
  }

  /** Compiles `source` (a function expression) and returns the function. */
  compile(key: string, source: string, filename: string): Wrapper {
    const cachedData = this.stored.entries.get(key)
    const script = new vm.Script(source, { filename, cachedData })
    if (cachedData === undefined || script.cachedDataRejected === true) this.stale = true
    this.compiled.set(key, script)
    return script.runInThisContext() as Wrapper
  }

  /** Rewrites the file when something was compiled without usable cached data, or by a command new to it. */
  save(): void {
    if (this.file === undefined || !this.stale || this.command === 'daemon') return
    try {
      const entries = new Map<string, Buffer>()
      const fresh = new Set([...this.compiled.keys()].map(nameOfKey))
      // Entries this process did not compile (another command's packages) are kept; older versions of those it did are not.
      for (const [key, data] of this.stored.entries) if (!fresh.has(nameOfKey(key))) entries.set(key, data)
      // Made after the command ran, these hold the functions it compiled lazily too (and those it got from the cache).
      for (const [key, script] of this.compiled) entries.set(key, script.createCachedData())
      const commands = this.stored.commands.includes(this.command) ? this.stored.commands : [...this.stored.commands, this.command]
      writeCacheFile(this.file, { commands, entries })
    } catch {
      // The cache only ever saves time.
    }
  }
}

/** A key is `name\nversion`: at most one version of each name is kept. */
function nameOfKey(key: string): string {
  return key.slice(0, key.lastIndexOf('\n'))
}

interface CacheFile {
  /** The commands whose runs made it. */
  commands: string[]
  entries: Map<string, Buffer>
}

interface Header {
  commands: string[]
  entries: Array<[key: string, byteLength: number]>
  /** SHA-256 of the data. V8 checks that cached data fits the source and the flags, not that it is intact. */
  sha256: string
}

// File layout: MAGIC, the header's length (4 bytes, little-endian), the header (JSON), the entries' data in order.
function readCacheFile(file: string): CacheFile {
  const none: CacheFile = { commands: [], entries: new Map() }
  try {
    const bytes = readFileSync(file)
    if (!bytes.subarray(0, MAGIC.length).equals(MAGIC)) return none
    const start = MAGIC.length + 4 + bytes.readUInt32LE(MAGIC.length)
    const header = JSON.parse(bytes.toString('utf8', MAGIC.length + 4, start)) as Header
    if (createHash('sha256').update(bytes.subarray(start)).digest('hex') !== header.sha256) return none
    const entries = new Map<string, Buffer>()
    let offset = start
    for (const [key, length] of header.entries) {
      entries.set(key, bytes.subarray(offset, offset + length))
      offset += length
    }
    return offset === bytes.length && Array.isArray(header.commands) ? { commands: header.commands, entries } : none
  } catch {
    // No cache yet, or an unreadable one: compile as usual.
    return none
  }
}

function writeCacheFile(file: string, { commands, entries }: CacheFile): void {
  const dir = path.dirname(file)
  const temp = `${file}.${process.pid}.tmp`
  try {
    const data = Buffer.concat([...entries.values()])
    const header: Header = { commands, entries: [...entries].map(([key, bytes]) => [key, bytes.length]), sha256: createHash('sha256').update(data).digest('hex') }
    const headerBytes = Buffer.from(JSON.stringify(header))
    const length = Buffer.alloc(4)
    length.writeUInt32LE(headerBytes.length)
    mkdirSync(dir, { recursive: true, mode: 0o700 })
    writeFileSync(temp, Buffer.concat([MAGIC, length, headerBytes, data]), { mode: 0o600 })
    // Atomic: a reader sees the old file or the new one, never half of one.
    renameSync(temp, file)
    pruneOldFiles(dir)
  } catch {
    try {
      unlinkSync(temp)
    } catch {
      // Never written.
    }
  }
}

function pruneOldFiles(dir: string): void {
  const files = readdirSync(dir)
    .filter((name) => name.startsWith('cli-'))
    .map((name) => ({ name, file: path.join(dir, name), written: statSync(path.join(dir, name)).mtimeMs }))
  const caches = files.filter((f) => f.name.endsWith('.v8cache')).sort((a, b) => b.written - a.written)
  for (const { file } of caches.slice(KEEP_FILES)) unlinkSync(file)
  // A process killed while writing leaves its temporary file behind.
  for (const { name, file, written } of files) if (name.endsWith('.tmp') && Date.now() - written > STALE_TEMP_MS) unlinkSync(file)
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('base64')
}

function cacheFile(): string | undefined {
  if (process.env.FERRY_CODE_CACHE === '0') return undefined
  try {
    // V8 rejects cached data made under other flags: each set of flags gets its own file, rather than one file
    // rewritten at every switch (a profiling run, then a plain one...).
    const flags = [...process.execArgv, process.env.NODE_OPTIONS ?? ''].join(' ').trim()
    const variant = flags === '' ? '' : `-${createHash('sha256').update(flags).digest('hex').slice(0, 8)}`
    return path.join(cacheDir(), `cli-${FERRY_BUILD_ID}-${process.version}-${process.arch}${variant}.v8cache`)
  } catch {
    return undefined
  }
}

interface ModuleInternals {
  prototype: { _compile(this: Module, content: string, filename: string, format?: string): unknown }
  _resolveFilename(request: string, parent: Module, isMain: boolean, options?: { paths?: string[] }): string
  _resolveLookupPaths(request: string, parent: Module): string[] | null
  _extensions: NodeJS.RequireExtensions
  _cache: NodeJS.Dict<NodeJS.Module>
}

/**
 * CommonJS files from node_modules are compiled through the cache (lmdb and cbor-x load when a command first needs
 * them, so this lasts the whole command). Anything this does not handle exactly as Node would (an ES module,
 * `import()` inside, a syntax error) goes to Node's own loader. Returns the function that puts Node's loader back.
 */
function cachePackages(cache: CodeCache): () => void {
  const internals = Module as unknown as ModuleInternals
  const original = internals.prototype._compile
  const nodeModules = `${path.sep}node_modules${path.sep}`
  internals.prototype._compile = function (content, filename, format) {
    if ((format !== undefined && format !== 'commonjs') || !filename.includes(nodeModules) || content.includes('import(')) {
      return original.call(this, content, filename, format)
    }
    let wrapper: Wrapper
    try {
      const key = `${filename}\n${sha256(content)}`
      wrapper = cache.compile(key, `(function (exports, require, module, __filename, __dirname) { ${content}\n})`, filename)
    } catch {
      return original.call(this, content, filename, format)
    }
    return wrapper.call(this.exports, this.exports, requireFor(this, internals), this, filename, path.dirname(filename))
  }
  return () => {
    internals.prototype._compile = original
  }
}

const launcherMain = require.main

/** The require() Node gives a module (makeRequireFunction in lib/internal/modules/helpers.js). */
function requireFor(mod: Module, internals: ModuleInternals): NodeJS.Require {
  const require = ((id: string) => mod.require(id)) as NodeJS.Require
  const resolve = ((request: string, options?: { paths?: string[] }) => internals._resolveFilename(request, mod, false, options)) as NodeJS.RequireResolve
  resolve.paths = (request: string) => internals._resolveLookupPaths(request, mod)
  require.resolve = resolve
  require.main = launcherMain
  require.extensions = internals._extensions
  require.cache = internals._cache
  return require
}

/**
 * The command a run is for, near enough: the first plain word among the arguments (`sync` in
 * `ferry --json sync FILE`; a folder named `data` after `--data-dir` counts as one too, which only costs one rewrite).
 */
function commandOf(args: string[]): string {
  return args.find((arg) => /^[a-z]+$/.test(arg)) ?? ''
}

function launch(): void {
  const file = cacheFile()
  const command = commandOf(process.argv.slice(2))
  const cache = new CodeCache(file, command)
  if (file !== undefined) process.once('exit', () => cache.save())
  const source = readFileSync(BUNDLE, 'utf8')
  // The bundle's dynamic imports of packages call __ferryImport (see scripts/build.mjs): Node's import(), from here.
  const ferryImport = (specifier: string): Promise<unknown> => import(specifier)
  // The build id names the file; the hash catches a bundle changed since (V8 itself only checks the source's length).
  const run = cache.compile(`ferry.cjs\n${sha256(source)}`, `(function (exports, require, module, __filename, __dirname, __ferryImport) { ${source}\n})`, BUNDLE)
  const restore = file === undefined ? () => undefined : cachePackages(cache)
  try {
    const bundleModule = { exports: {} }
    run.call(bundleModule.exports, bundleModule.exports, createRequire(BUNDLE), bundleModule, BUNDLE, __dirname, ferryImport)
  } finally {
    // The daemon runs for days and loads its own packages long after starting: it gets Node's loader back.
    if (command === 'daemon') restore()
  }
}

launch()
