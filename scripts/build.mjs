// Builds dist/ (run by `npm run build`, `prepare` and `pretest`):
//
//   dist/ferry.cjs    the whole CLI and daemon in one CommonJS bundle (esbuild), with its source map;
//   dist/worker.cjs   the worker thread that checks the records of a large sync or verify;
//   dist/comapeo-schema.cjs  @comapeo/schema's validate and valueOf, for both of the above;
//   dist/cli.js       the entry (`bin`): runs ferry.cjs from a V8 code cache (src/launcher.ts);
//   dist/package.json {"type": "commonjs"}, so Node loads dist/cli.js with its CommonJS loader.
//
// One bundle instead of ~50 ES modules resolved, read and compiled one by one is most of what makes a command start
// fast. Only Ferry's own code and the small pure-JavaScript packages every command loads (commander, env-paths) are
// bundled, plus @comapeo/schema's validators in a bundle of their own, dist/comapeo-schema.cjs (pure JavaScript:
// ~60 ms to load as ES modules, ~10 ms bundled; see src/store/comapeo-schema.ts). Every other package stays in
// node_modules and loads as before: the native ones must (lmdb, cbor-x's cbor-extract, sharp, usb-detection,
// @node-rs/crc32 through comapeocat... find their binaries beside themselves; systray2 its tray program), and the rest
// load lazily, only in the commands that use them.
//
// The launcher runs the bundle through vm.Script, where `import()` has no loader to call. So the bundle's dynamic
// imports of packages become `__ferryImport(...)`, a function the launcher passes in that calls its own import():
// the same package, loaded by Node the same way, at the same moment. Relative dynamic imports (the daemon, the
// service installer) stay lazy inside the bundle.
import { createHash } from 'node:crypto'
import { chmodSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { build } from 'esbuild'

const ROOT = fileURLToPath(new URL('..', import.meta.url))
const SRC = path.join(ROOT, 'src')
const DIST = path.join(ROOT, 'dist')

/** Packages compiled into the bundle; every other bare import stays a require()/import() of node_modules. */
const BUNDLED = new Set(['commander', 'env-paths'])

function packageName(specifier) {
  const parts = specifier.split('/')
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]
}

/**
 * Ferry's sources as the bundle needs them:
 * - `import.meta.url` becomes the URL the module had in the unbundled layout (dist/daemon/config.js for
 *   src/daemon/config.ts), so paths relative to it (../../config/default.json) and createRequire() mean what they did;
 * - `import('pkg')` of a package becomes `__ferryImport('pkg')` (see above); `typeof import('pkg')` types are left.
 */
const ferrySources = ({ viaLauncher }) => ({
  name: 'ferry-sources',
  setup(b) {
    b.onResolve({ filter: /^[^./]/ }, (args) => {
      if (args.path.startsWith('node:') || !BUNDLED.has(packageName(args.path))) return { path: args.path, external: true }
      return undefined
    })
    b.onLoad({ filter: /\.ts$/ }, async (args) => {
      if (!args.path.startsWith(SRC + path.sep)) return undefined
      const unbundled = path.relative(SRC, args.path).replace(/\.ts$/, '.js').split(path.sep).join('/')
      let text = (await readFile(args.path, 'utf8'))
        .replace(/^#!.*\n/, '')
        .replaceAll('import.meta.url', `__ferryModuleUrl(${JSON.stringify(unbundled)})`)
      if (viaLauncher) text = text.replace(/(?<!typeof\s+)\bimport\((?=\s*['"][^'"./])/g, '__ferryImport(')
      return { contents: text, loader: 'ts' }
    })
  },
})

const common = { bundle: true, platform: 'node', target: 'node20', format: 'cjs', logLevel: 'silent', write: false }

function check(result, what) {
  const problems = [...result.errors, ...result.warnings]
  if (problems.length > 0) {
    for (const p of problems) console.error(`${what}: ${p.location ? `${p.location.file}:${p.location.line}: ` : ''}${p.text}`)
    process.exit(1)
  }
}

function outputOf(result, suffix) {
  const file = result.outputFiles.find((f) => f.path.endsWith(suffix))
  if (!file) throw new Error(`esbuild wrote no ${suffix}`)
  return file
}

rmSync(DIST, { recursive: true, force: true })
mkdirSync(DIST, { recursive: true })

// At the top of the bundle, so no module's own `require` (systray-tray.ts has one) can shadow the bundle's. The
// banner comes before esbuild's "use strict", so it repeats it: Ferry's modules were written as strict ES modules.
const banner = `"use strict";\nvar __ferryModuleUrl = (unbundled) => require('node:url').pathToFileURL(require('node:path').join(__dirname, unbundled)).href;`
const cli = await build({ ...common, entryPoints: [path.join(SRC, 'cli.ts')], outfile: path.join(DIST, 'ferry.cjs'), sourcemap: true, banner: { js: banner }, plugins: [ferrySources({ viaLauncher: true })] })
check(cli, 'ferry.cjs')
const bundle = outputOf(cli, 'ferry.cjs')
// In vm.Script an import() would throw at run time, in whatever command reached it: refuse to build such a bundle.
const leftover = /\bimport\(/.exec(bundle.text)
if (leftover) {
  const line = bundle.text.slice(0, leftover.index).split('\n').length
  console.error(`ferry.cjs:${line}: a dynamic import() the launcher cannot run; import packages by a literal name`)
  process.exit(1)
}
writeFileSync(bundle.path, bundle.contents)
writeFileSync(outputOf(cli, 'ferry.cjs.map').path, outputOf(cli, 'ferry.cjs.map').contents)

// The worker thread of a large merge (src/threads/worker-thread.ts starts it): a bundle of its own, run by Node as a
// plain CommonJS file, where import() works as usual.
const worker = await build({ ...common, entryPoints: [path.join(SRC, 'threads', 'worker-main.ts')], outfile: path.join(DIST, 'worker.cjs'), banner: { js: banner }, plugins: [ferrySources({ viaLauncher: false })] })
check(worker, 'worker.cjs')
writeFileSync(path.join(DIST, 'worker.cjs'), outputOf(worker, 'worker.cjs').contents)

// @comapeo/schema's validate and valueOf, required by src/store/comapeo-schema.ts from the bundles above.
const schema = await build({ ...common, stdin: { contents: "export { validate } from '@comapeo/schema/dist/validate.js'\nexport { valueOf } from '@comapeo/schema/dist/lib/utils.js'\n", resolveDir: ROOT, loader: 'js' }, outfile: path.join(DIST, 'comapeo-schema.cjs') })
check(schema, 'comapeo-schema.cjs')
writeFileSync(path.join(DIST, 'comapeo-schema.cjs'), outputOf(schema, 'comapeo-schema.cjs').contents)

const buildId = createHash('sha256').update(bundle.contents).digest('hex').slice(0, 16)
const launcher = await build({ ...common, entryPoints: [path.join(SRC, 'launcher.ts')], outfile: path.join(DIST, 'cli.js'), define: { FERRY_BUILD_ID: JSON.stringify(buildId) } })
check(launcher, 'cli.js')
writeFileSync(path.join(DIST, 'cli.js'), outputOf(launcher, 'cli.js').contents)
writeFileSync(path.join(DIST, 'package.json'), `${JSON.stringify({ type: 'commonjs' })}\n`)
// Executable, so `ferry` works once installed globally or linked.
chmodSync(path.join(DIST, 'cli.js'), 0o755)

if (readFileSync(path.join(DIST, 'cli.js'), 'utf8').includes('FERRY_BUILD_ID')) throw new Error('the launcher kept FERRY_BUILD_ID')
