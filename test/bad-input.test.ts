import { execFileSync, spawn, spawnSync } from 'node:child_process'
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { hostname } from 'node:os'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { CLI, ferry, ferryOk, testEnv } from './helpers/cli.js'
import { tempDir } from './helpers/tmp.js'

/** One plain sentence on stderr: no stack trace, no "Error:" dump, a single line. */
function expectPlainSentence(stderr: string): void {
  const lines = stderr.trim().split('\n')
  expect(lines).toHaveLength(1)
  expect(lines[0]).toMatch(/^ferry: \S.*[.)]$/)
  expect(stderr).not.toMatch(/\n\s+at /)
}

function setup() {
  const root = tempDir()
  const data = path.join(root, 'data')
  ferryOk(['--data-dir', data, 'init'])
  ferryOk(['--data-dir', data, 'add', '--lat', '1', '--lon', '2', '--tag', 'type=before'])
  const exportNow = () => {
    ferryOk(['--data-dir', data, 'export', path.join(root, 'now.json')])
    return ferryOk(['--data-dir', data, '--json', 'list'])
  }
  return { root, data, before: exportNow(), exportNow }
}

const validDoc = {
  docId: 'f'.repeat(64),
  schemaName: 'observation',
  createdAt: '2024-01-01T00:00:00.000Z',
  updatedAt: '2024-01-01T00:00:00.000Z',
  links: [],
  deleted: false,
  lat: 1,
  lon: 2,
  tags: {},
  attachments: [],
}

describe('bad input: exit code, one plain sentence, nothing written', () => {
  const cases: Array<[string, string, RegExp]> = [
    ['malformed JSON', '[{"docId": ', /not valid JSON/],
    ['a non-array', '{"hello": "world"}', /neither a JSON array/],
    ['a document failing the schema', JSON.stringify([validDoc, { ...validDoc, docId: 'e'.repeat(64), tags: 'not an object' }]), /Document 2 .*eeeeeeee.*tags/],
    ['a document of another schema', JSON.stringify([{ ...validDoc, schemaName: 'preset' }]), /not an observation/],
  ]
  for (const [what, content, message] of cases) {
    it(`import of ${what} → exit 2`, () => {
      const { root, data, before, exportNow } = setup()
      writeFileSync(path.join(root, 'bad.json'), content)
      const result = ferry(['--data-dir', data, 'import', path.join(root, 'bad.json')])
      expect(result.code).toBe(2)
      expect(result.stderr).toMatch(message)
      expectPlainSentence(result.stderr)
      expect(exportNow()).toBe(before)
    })
  }

  it('an unreadable photo → exit 2, no observation added', () => {
    const { root, data, before, exportNow } = setup()
    // (Tests run as root in CI, where file permissions cannot make a file unreadable: a missing file and a folder
    // stand in for the photo that cannot be read.)
    for (const photo of [path.join(root, 'nope.jpg'), root]) {
      const result = ferry(['--data-dir', data, 'add', '--lat', '1', '--lon', '2', '--photo', photo])
      expect(result.code).toBe(2)
      expect(result.stderr).toMatch(/Cannot read the photo/)
      expectPlainSentence(result.stderr)
    }
    expect(exportNow()).toBe(before)
  })

  it('a missing data folder → exit 2 saying to run init', () => {
    const root = tempDir()
    const result = ferry(['--data-dir', path.join(root, 'nothing-here'), 'list'])
    expect(result.code).toBe(2)
    expect(result.stderr).toMatch(/ferry init/)
    expectPlainSentence(result.stderr)
  })

  it('bad coordinates and a bad tag → exit 2', () => {
    const { data, before, exportNow } = setup()
    for (const args of [
      ['add', '--lat', '91', '--lon', '0'],
      ['add', '--lat', 'north', '--lon', '0'],
      ['add', '--lat', '1', '--lon', '2', '--tag', 'novalue'],
    ]) {
      const result = ferry(['--data-dir', data, ...args])
      expect(result.code).toBe(2)
      expectPlainSentence(result.stderr)
    }
    expect(exportNow()).toBe(before)
  })

  it('a second writer is refused with "busy" while the first holds the data folder', async () => {
    const { data, before, exportNow } = setup()
    // A live process holds the writer lock, as a sync in progress does: the lock file names it (writer-lock.ts).
    // (A sync of a pipe used to stand in for a slow sync; a pipe is now refused before it is read.)
    const holder = spawn('sleep', ['60'], { stdio: 'ignore' })
    try {
      writeFileSync(path.join(data, 'writer.lock'), JSON.stringify({ pid: holder.pid, host: hostname(), purpose: 'sync', since: new Date().toISOString() }))
      const second = ferry(['--data-dir', data, 'add', '--lat', '3', '--lon', '4'])
      expect(second.code).toBe(2)
      expect(second.stderr).toMatch(new RegExp(`a sync is already running \\(process ${holder.pid}\\)`))
      expectPlainSentence(second.stderr)
      expect(exportNow()).toBe(before)
      // Once that process is gone, its lock is taken over: the next writer goes ahead.
      holder.kill('SIGKILL')
      await new Promise((resolve) => holder.on('exit', resolve))
      expect(ferry(['--data-dir', data, 'add', '--lat', '3', '--lon', '4']).code).toBe(0)
    } finally {
      holder.kill('SIGKILL')
    }
  })

  it('an unknown command or option → exit 2 with a hint', () => {
    const result = ferry(['frobnicate'])
    expect(result.code).toBe(2)
    expect(result.stderr).toMatch(/unknown command/)
  })

  it('a folder where a sync file belongs → exit 2 naming it, with an example name, nothing written', () => {
    const { root, data, before, exportNow } = setup()
    const folder = path.join(root, 'usb')
    mkdirSync(folder)
    for (const args of [['sync', folder], ['sync', '--salvage', folder], ['verify', folder], ['create', folder]]) {
      const result = ferry(['--data-dir', data, ...args])
      expect({ args, code: result.code }).toEqual({ args, code: 2 })
      expectPlainSentence(result.stderr)
      expect(result.stderr).toContain(`${folder} is a folder`)
      expect(result.stderr).toContain(path.join(folder, 'field.ferry'))
    }
    expect(readdirSync(folder)).toEqual([])
    expect(exportNow()).toBe(before)
  })

  it('--media naming a file rather than a folder → exit 2 for import and export, nothing written', () => {
    const { root, data, before, exportNow } = setup()
    const notAFolder = path.join(root, 'photo.jpg')
    writeFileSync(notAFolder, 'not a folder')
    writeFileSync(path.join(root, 'in.json'), JSON.stringify([validDoc]))
    for (const args of [['import', path.join(root, 'in.json'), '--media', notAFolder], ['export', path.join(root, 'out.json'), '--media', notAFolder]]) {
      const result = ferry(['--data-dir', data, ...args])
      expect({ args, code: result.code }).toEqual({ args, code: 2 })
      expectPlainSentence(result.stderr)
      expect(result.stderr).toContain(`--media ${notAFolder} is a file, not a folder`)
    }
    expect(readdirSync(root).sort()).toEqual(['data', 'in.json', 'now.json', 'photo.jpg'])
    expect(exportNow()).toBe(before)
  })

  it('import of a folder → exit 2 saying so; import from a pipe (/dev/stdin) works, read twice from a private copy', () => {
    const { root, data, before, exportNow } = setup()
    const folder = path.join(root, 'exports')
    mkdirSync(folder)
    const result = ferry(['--data-dir', data, 'import', folder])
    expect(result.code).toBe(2)
    expectPlainSentence(result.stderr)
    expect(result.stderr).toContain(`${folder} is a folder`)
    expect(exportNow()).toBe(before)

    // Through a shell's pipe, as a user would (`cat docs.json | ferry import /dev/stdin`).
    const json = path.join(root, 'docs.json')
    writeFileSync(json, JSON.stringify([validDoc]))
    const piped = spawnSync('sh', ['-c', 'cat "$1" | "$2" "$3" --data-dir "$4" --json import /dev/stdin', 'sh', json, process.execPath, CLI, data], { encoding: 'utf8', env: testEnv() })
    expect({ code: piped.status, stderr: piped.stderr }).toEqual({ code: 0, stderr: '' })
    expect(JSON.parse(piped.stdout)).toMatchObject({ imported: 1 })
    expect(JSON.parse(ferryOk(['--data-dir', data, '--json', 'show', validDoc.docId])).docId).toBe(validDoc.docId)
  })

  it('a project file given where a sync file belongs → exit 2 saying what it is and how to join, nothing changed', () => {
    const { root, data, before, exportNow } = setup()
    const projectFile = path.join(root, 'team.ferryproject')
    ferryOk(['--data-dir', data, 'project', 'export', projectFile])
    const bytes = readFileSync(projectFile)
    for (const args of [['sync', projectFile], ['verify', projectFile]]) {
      const result = ferry(['--data-dir', data, ...args])
      expect({ args, code: result.code }).toEqual({ args, code: 2 })
      expectPlainSentence(result.stderr)
      expect(result.stderr).toContain('team.ferryproject is a project file, not a sync file. To join its project, give it to `ferry init --join`')
    }
    expect(readFileSync(projectFile).equals(bytes)).toBe(true)
    expect(exportNow()).toBe(before)
  })

  it('help, asked for any way, prints the commands on stdout and exits 0', () => {
    const top = ferry(['--help'])
    expect(top).toMatchObject({ code: 0, stderr: '' })
    expect(top.stdout).toMatch(/Usage: ferry/)
    expect(ferry(['help'])).toEqual(top)
    const sync = ferry(['sync', '--help'])
    expect(sync).toMatchObject({ code: 0, stderr: '' })
    expect(sync.stdout).toMatch(/Usage: ferry sync/)
    expect(ferry(['help', 'sync'])).toEqual(sync)
  })

  it('an empty --data-dir → exit 2, and no project made in the current folder', () => {
    const here = tempDir()
    const result = ferry(['--data-dir', '', 'init'], { cwd: here })
    expect(result.code).toBe(2)
    expect(result.stderr).toMatch(/--data-dir is empty/)
    expectPlainSentence(result.stderr)
    expect(readdirSync(here)).toEqual([])
  })

  it('--version prints the version from package.json', () => {
    const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }
    for (const flag of ['--version', '-V']) expect(ferry([flag])).toEqual({ code: 0, stdout: `${version}\n`, stderr: '' })
  })

  it('export refuses to replace anything but an earlier export, and names a missing folder, a folder, no name', () => {
    const { root, data, before, exportNow } = setup()
    const syncFile = path.join(root, 'field.ferry')
    ferryOk(['--data-dir', data, 'create', syncFile])
    const syncBytes = readFileSync(syncFile)
    const database = path.join(data, 'ferry.mdb')
    const databaseBytes = readFileSync(database)
    const refused: Array<[string, RegExp]> = [
      [syncFile, /field\.ferry already exists and is not an earlier export/],
      [database, /is inside Ferry's data folder/],
      [path.join(root, 'no-such-folder', 'out.json'), /The folder .*no-such-folder does not exist/],
      [root, /is a folder\. Give a file name, such as .*observations\.json/],
      ['', /Give a file name/],
      [path.join(root, `${'x'.repeat(240)}.json`), /is too long/],
    ]
    for (const [target, message] of refused) {
      const result = ferry(['--data-dir', data, 'export', target])
      expect({ target, code: result.code }).toEqual({ target, code: 2 })
      expect(result.stderr).toMatch(message)
      expectPlainSentence(result.stderr)
    }
    expect(readFileSync(syncFile).equals(syncBytes)).toBe(true)
    expect(readFileSync(database).equals(databaseBytes)).toBe(true)
    expect(ferry(['--data-dir', data, 'verify', syncFile]).code).toBe(0)
    // An earlier export is replaced, whole.
    expect(exportNow()).toBe(before)
    expect(exportNow()).toBe(before)
  })

  it('project export to a missing folder or a folder → exit 2, nothing written', () => {
    const { root, data } = setup()
    for (const [target, message] of [
      [path.join(root, 'no-such-folder', 'team.ferryproject'), /The folder .*no-such-folder does not exist/],
      [root, /is a folder/],
    ] as const) {
      const result = ferry(['--data-dir', data, 'project', 'export', target])
      expect(result.code).toBe(2)
      expect(result.stderr).toMatch(message)
      expectPlainSentence(result.stderr)
    }
  })

  it('a project file whose key does not match its id, or from a newer Ferry, is refused: exit 2, nothing joined', () => {
    const { root, data } = setup()
    const invite = path.join(root, 'team.ferryproject')
    ferryOk(['--data-dir', data, 'project', 'export', invite])
    const body = JSON.parse(readFileSync(invite, 'utf8')) as { projectKey: string; version: number }
    const typo = path.join(root, 'typo.ferryproject')
    writeFileSync(typo, JSON.stringify({ ...body, projectKey: `${body.projectKey.slice(0, -1)}${body.projectKey.endsWith('0') ? '1' : '0'}` }))
    const newer = path.join(root, 'newer.ferryproject')
    writeFileSync(newer, JSON.stringify({ ...body, version: 2 }))
    for (const [file, message] of [
      [typo, /typo\.ferryproject is damaged: its project key does not match its project id/],
      [newer, /made by a newer Ferry/],
    ] as const) {
      const joiner = path.join(root, `joiner-${path.basename(file)}`)
      const result = ferry(['--data-dir', joiner, 'init', '--join', file])
      expect(result.code).toBe(2)
      expect(result.stderr).toMatch(message)
      expectPlainSentence(result.stderr)
      expect(readdirSync(root)).not.toContain(path.basename(joiner))
    }
    expect(ferry(['--data-dir', path.join(root, 'joiner'), 'init', '--join', invite]).code).toBe(0)
  })

  it('edit with nothing to change: no options → exit 2; the same values → no new version', () => {
    const { data, before, exportNow } = setup()
    const [doc] = JSON.parse(ferryOk(['--data-dir', data, '--json', 'list'])) as Array<{ docId: string; versionId: string }>
    const none = ferry(['--data-dir', data, 'edit', doc!.docId])
    expect(none.code).toBe(2)
    expect(none.stderr).toMatch(/Nothing to change/)
    expectPlainSentence(none.stderr)
    for (const change of [['--tag', 'type=before'], ['--tag', 'absent='], ['--lat', '1', '--lon', '2']]) {
      const same = JSON.parse(ferryOk(['--data-dir', data, '--json', 'edit', doc!.docId, ...change])) as { versionId: string }
      expect(same.versionId).toBe(doc!.versionId)
    }
    expect(exportNow()).toBe(before)
    const changed = JSON.parse(ferryOk(['--data-dir', data, '--json', 'edit', doc!.docId, '--tag', 'type=after'])) as { versionId: string }
    expect(changed.versionId).not.toBe(doc!.versionId)
  })

  it('a sync file cut short before its first commit (an interrupted copy) → exit 4 for verify and sync, file untouched', () => {
    const { root, data, before, exportNow } = setup()
    const other = path.join(root, 'other')
    ferryOk(['--data-dir', data, 'project', 'export', path.join(root, 'team.ferryproject')])
    ferryOk(['--data-dir', other, 'init', '--join', path.join(root, 'team.ferryproject')])
    ferryOk(['--data-dir', other, 'add', '--lat', '3', '--lon', '4'])
    const file = path.join(root, 'copied.ferry')
    ferryOk(['--data-dir', other, 'create', file])
    const whole = readFileSync(file)
    const cut = whole.subarray(0, Math.floor(whole.length / 2))
    writeFileSync(file, cut)
    for (const command of ['verify', 'sync']) {
      const result = ferry(['--data-dir', data, command, file])
      expect({ command, code: result.code }).toEqual({ command, code: 4 })
      expect(result.stderr).toMatch(/copied\.ferry is cut short: it ends before its first commit/)
      expectPlainSentence(result.stderr)
    }
    expect(readFileSync(file).equals(cut)).toBe(true)
    expect(exportNow()).toBe(before)
  })

  it('a sync file whose header names another project by damage → exit 4 (not "another project"), and salvage reads it', () => {
    const { root, data } = setup()
    const file = path.join(root, 'field.ferry')
    ferryOk(['--data-dir', data, 'create', file])
    const bytes = readFileSync(file)
    bytes[40]! ^= 0xff // inside the project id (bytes 12–43)
    writeFileSync(file, bytes)
    for (const command of ['verify', 'sync']) {
      const result = ferry(['--data-dir', data, command, file])
      expect({ command, code: result.code }).toEqual({ command, code: 4 })
      expect(result.stderr).toMatch(/field\.ferry is a file of this project whose header is damaged/)
      expectPlainSentence(result.stderr)
    }
    expect(readFileSync(file).equals(bytes)).toBe(true)
    const invite = path.join(root, 'team.ferryproject')
    ferryOk(['--data-dir', data, 'project', 'export', invite])
    const joiner = path.join(root, 'joiner')
    ferryOk(['--data-dir', joiner, 'init', '--join', invite])
    expect(ferryOk(['--data-dir', joiner, 'sync', '--salvage', file])).toMatch(/Salvaged from .*: 1 record/)
  })

  it('an init that never finished (an empty database) says to run init again, and init then works', () => {
    const data = path.join(tempDir(), 'data')
    mkdirSync(data)
    writeFileSync(path.join(data, 'ferry.mdb'), '')
    const list = ferry(['--data-dir', data, 'list'])
    expect(list.code).toBe(2)
    expect(list.stderr).toMatch(/never finished setting up\. Run `ferry init` again/)
    ferryOk(['--data-dir', data, 'init', '--name', 'Again'])
    expect(JSON.parse(ferryOk(['--data-dir', data, '--json', 'project', 'show']))).toMatchObject({ name: 'Again', observations: 0 })
    // Now it does hold a project: a second init (or a join) says which, and how to make room for another.
    const again = ferry(['--data-dir', data, 'init'])
    expect(again.code).toBe(2)
    expect(again.stderr).toMatch(/already holds the project “Again” \(0 observations\)\. To start or join another one here, stop Ferry's daemon if it runs, move that folder away/)
  })

  it('odd values are refused, not taken as something else: hex coordinates, a __proto__ tag, blank or multi-line names, - for a file only a path can be', () => {
    const { root, data, before, exportNow } = setup()
    const refused: Array<[string[], RegExp]> = [
      [['add', '--lat', '0x10', '--lon', '2'], /--lat 0x10 is not a valid latitude/],
      [['add', '--lat', '1', '--lon', '2', '--tag', '__proto__=x'], /The tag name __proto__ cannot be used/],
      [['create', '-'], /A sync file cannot go to standard output/],
      [['project', 'export', '-'], /A project file cannot go to standard output/],
    ]
    for (const [args, message] of refused) {
      const result = ferry(['--data-dir', data, ...args])
      expect({ args, code: result.code }).toEqual({ args, code: 2 })
      expect(result.stderr).toMatch(message)
      expectPlainSentence(result.stderr)
    }
    expect(readdirSync(root).filter((f) => f === '-')).toEqual([])
    expect(exportNow()).toBe(before)
    for (const [name, message] of [['  ', /--name is empty/], ['River\nmonitoring', /--name holds control characters/]] as const) {
      const fresh = path.join(root, 'fresh')
      const result = ferry(['--data-dir', fresh, 'init', '--name', name])
      expect(result.code).toBe(2)
      expect(result.stderr).toMatch(message)
      expect(readdirSync(root)).not.toContain('fresh')
    }
    // Scientific and signed decimals are decimal degrees.
    expect(ferry(['--data-dir', data, 'add', '--lat', '1e1', '--lon', '-.5']).code).toBe(0)
  })

  it('import - reads standard input, as export - writes standard output', () => {
    const { data } = setup()
    const other = path.join(tempDir(), 'other')
    ferryOk(['--data-dir', other, 'init'])
    const docs = ferryOk(['--data-dir', data, 'export', '-'])
    const result = ferry(['--data-dir', other, '--json', 'import', '-'], { input: docs })
    expect(result.code).toBe(0)
    expect(JSON.parse(result.stdout)).toMatchObject({ imported: 1 })
    // The same documents, now versions of the importing device.
    const content = (text: string) => (JSON.parse(text) as Array<Record<string, unknown>>).map(({ docId, lat, lon, tags }) => ({ docId, lat, lon, tags }))
    expect(content(ferryOk(['--data-dir', other, 'export', '-']))).toEqual(content(docs))
  })

  it('an id too short to look up says how many characters to give; an upper-case copy of an id still finds it', () => {
    const { data } = setup()
    const [doc] = JSON.parse(ferryOk(['--data-dir', data, '--json', 'list'])) as Array<{ docId: string }>
    const short = ferry(['--data-dir', data, 'show', doc!.docId.slice(0, 4)])
    expect(short.code).toBe(2)
    expect(short.stderr).toMatch(/Give at least 6 characters of the observation's id/)
    expectPlainSentence(short.stderr)
    expect(JSON.parse(ferryOk(['--data-dir', data, 'show', doc!.docId.slice(0, 10).toUpperCase()]))).toMatchObject({ docId: doc!.docId })
  })

  it('an empty file or one that is not Ferry\'s: exit 4 without suggesting salvage, which could read nothing', () => {
    const { root, data } = setup()
    const empty = path.join(root, 'empty.ferry')
    writeFileSync(empty, '')
    const text = path.join(root, 'notes.ferry')
    writeFileSync(text, 'some notes, not a sync file\n'.repeat(10))
    for (const file of [empty, text]) {
      for (const command of ['verify', 'sync']) {
        const result = ferry(['--data-dir', data, command, file])
        expect(result.code).toBe(4)
        expect(result.stderr).not.toMatch(/salvage/)
        expectPlainSentence(result.stderr)
      }
    }
  })

  it('a pipe given as a sync file → exit 2 at once, instead of waiting forever for a writer', () => {
    const { root, data } = setup()
    const pipe = path.join(root, 'pipe.ferry')
    execFileSync('mkfifo', [pipe])
    for (const args of [['sync', pipe], ['verify', pipe], ['sync', '--salvage', pipe]]) {
      const result = spawnSync(process.execPath, [CLI, '--data-dir', data, ...args], { encoding: 'utf8', env: testEnv(), timeout: 30_000 })
      expect({ args, code: result.status }).toEqual({ args, code: 2 })
      expect(result.stderr).toMatch(/pipe\.ferry is a pipe, not a sync file/)
      expectPlainSentence(result.stderr)
    }
  })

  it('init where no data folder can be (a file, a path through a file, a name too long) or --join of a folder → exit 2', () => {
    const root = tempDir()
    const file = path.join(root, 'a-file')
    writeFileSync(file, 'not a folder')
    const cases: Array<[string[], RegExp]> = [
      [['--data-dir', file, 'init'], /a-file is a file, not a folder/],
      [['--data-dir', path.join(file, 'data'), 'init'], /part of that path is a file/],
      [['--data-dir', path.join(root, 'x'.repeat(300)), 'init'], /is too long\. Choose a shorter/],
      [['--data-dir', path.join(root, 'joiner'), 'init', '--join', root], /is a folder\. Give the project file itself/],
    ]
    for (const [args, message] of cases) {
      const result = ferry(args)
      expect({ args: args.slice(-2), code: result.code }).toEqual({ args: args.slice(-2), code: 2 })
      expect(result.stderr).toMatch(message)
      expectPlainSentence(result.stderr)
    }
    expect(readFileSync(file, 'utf8')).toBe('not a folder')
  })

  it('the same photo given twice (even under two names) is attached once', () => {
    const root = tempDir()
    const data = path.join(root, 'data')
    ferryOk(['--data-dir', data, 'init'])
    const photo = path.join(root, 'a.bin')
    writeFileSync(photo, 'the same bytes')
    const copy = path.join(root, 'b.bin')
    writeFileSync(copy, 'the same bytes')
    const docId = ferryOk(['--data-dir', data, 'add', '--lat', '1', '--lon', '2', '--photo', photo, '--photo', photo, '--photo', copy]).trim()
    const doc = JSON.parse(ferryOk(['--data-dir', data, 'show', docId])) as { attachments: unknown[] }
    expect(doc.attachments).toHaveLength(1)
  })

  it('a database that is not one (garbage in ferry.mdb): exit 5 with a plain sentence for init and list, not a crash', () => {
    const data = path.join(tempDir(), 'data')
    mkdirSync(data)
    const garbage = Buffer.alloc(100_000, 0x5a)
    writeFileSync(path.join(data, 'ferry.mdb'), garbage)
    for (const args of [['init'], ['list']]) {
      const result = ferry(['--data-dir', data, ...args])
      expect({ args, code: result.code }).toEqual({ args, code: 5 })
      expect(result.stderr).toMatch(/The database in .* \(ferry\.mdb\) is not one Ferry can read/)
      expectPlainSentence(result.stderr)
    }
    expect(readFileSync(path.join(data, 'ferry.mdb')).equals(garbage)).toBe(true)
  })

  it('a path through a file, or a header-only sync file: exit 2 and exit 4, not "unexpected" or "intact"', () => {
    const { root, data } = setup()
    const file = path.join(root, 'a-file')
    writeFileSync(file, 'x')
    for (const command of ['sync', 'verify']) {
      const result = ferry(['--data-dir', data, command, path.join(file, 'field.ferry')])
      expect({ command, code: result.code }).toEqual({ command, code: 2 })
      expect(result.stderr).toMatch(/a part of that path is a file, not a folder/)
    }
    const whole = path.join(root, 'whole.ferry')
    ferryOk(['--data-dir', data, 'create', whole])
    const headerOnly = path.join(root, 'header-only.ferry')
    writeFileSync(headerOnly, readFileSync(whole).subarray(0, 64))
    for (const command of ['verify', 'sync']) {
      const result = ferry(['--data-dir', data, command, headerOnly])
      expect({ command, code: result.code }).toEqual({ command, code: 4 })
      expect(result.stderr).toMatch(/is cut short: it ends before its first commit/)
    }
    expect(readFileSync(headerOnly).length).toBe(64)
  })

  it('export replaces its own earlier export even when an observation mentions "ferry-project"', () => {
    const { root, data } = setup()
    ferryOk(['--data-dir', data, 'add', '--lat', '1', '--lon', '1', '--tag', 'source=ferry-project'])
    const out = path.join(root, 'out.json')
    ferryOk(['--data-dir', data, 'export', out])
    expect(ferry(['--data-dir', data, 'export', out]).code).toBe(0)
  })
})
