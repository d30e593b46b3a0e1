import { readFileSync, writeFileSync, existsSync, openSync, readSync, closeSync } from 'node:fs'
import path from 'node:path'
import { badInput } from '../errors.js'
import { isFolder } from '../fs/is-folder.js'
import { PROJECT_SECRET_BYTES, projectIdOf } from '../store/project-identity.js'
import { readMapeoSettings } from './mapeosettings.js'

/** What joining needs: the project's secret and its name. */
export interface ProjectInvite {
  name: string
  secret: Buffer
  source: 'ferryproject' | 'mapeosettings'
}

const FERRYPROJECT_FORMAT = 'ferry-project'
const FERRYPROJECT_VERSION = 1

/**
 * Writes a `.ferryproject`: JSON with the project's name and secret key. Anyone holding it can join the project and
 * read its sync files, so it is created owner-only (0600) and never overwrites an existing file.
 */
export function writeProjectFile(filePath: string, project: { name: string; secret: Buffer; id: string }): void {
  if (existsSync(filePath)) throw badInput(`${filePath} already exists. Choose another name for the project file.`)
  const body = { format: FERRYPROJECT_FORMAT, version: FERRYPROJECT_VERSION, name: project.name, projectId: project.id, projectKey: project.secret.toString('hex') }
  writeFileSync(filePath, `${JSON.stringify(body, null, 2)}\n`, { mode: 0o600, flag: 'wx' })
}

/** Reads a `.ferryproject` or a Mapeo Desktop `.mapeosettings`, told apart by content, not by name. */
export async function readProjectInvite(filePath: string): Promise<ProjectInvite> {
  if (!existsSync(filePath)) throw badInput(`There is no file at ${filePath}. Check the name and try again.`)
  if (isFolder(filePath)) throw badInput(`${filePath} is a folder. Give the project file itself, such as ${path.join(filePath, 'team.ferryproject')}.`)
  const name = path.basename(filePath)
  if (looksLikeTar(filePath)) {
    const settings = await readMapeoSettings(filePath)
    return { ...settings, source: 'mapeosettings' }
  }
  let parsed: unknown
  try {
    parsed = JSON.parse(readFileSync(filePath, 'utf8'))
  } catch {
    throw badInput(`${name} is neither a Ferry project file (.ferryproject) nor a Mapeo configuration (.mapeosettings).`)
  }
  const p = parsed as { format?: unknown; version?: unknown; name?: unknown; projectId?: unknown; projectKey?: unknown }
  if (p?.format !== FERRYPROJECT_FORMAT) throw badInput(`${name} is not a Ferry project file (.ferryproject).`)
  if (typeof p.version === 'number' && p.version > FERRYPROJECT_VERSION) {
    throw badInput(`${name} was made by a newer Ferry (project file version ${p.version}). Update Ferry on this computer, then join again.`)
  }
  const secret = parseProjectKey(p.projectKey, name)
  // The id is the key's hash: when they disagree, one was changed (a copy typed by hand, an edit), and joining
  // would make a new project that no file of the team's opens.
  if (p.projectId !== undefined && p.projectId !== projectIdOf(secret).toString('hex')) {
    throw badInput(`${name} is damaged: its project key does not match its project id. Ask for a fresh copy of the file.`)
  }
  // The name comes from someone else's file and is printed on this terminal: control characters (escape sequences
  // that could rewrite the screen) become spaces.
  // eslint-disable-next-line no-control-regex -- control characters are exactly what is replaced
  const projectName = typeof p.name === 'string' ? p.name.replace(/[\u0000-\u001f\u007f]/g, ' ').trim() : ''
  return { name: projectName || 'Unnamed project', secret, source: 'ferryproject' }
}

export function parseProjectKey(value: unknown, fileName: string): Buffer {
  if (typeof value !== 'string' || !new RegExp(`^[0-9a-fA-F]{${PROJECT_SECRET_BYTES * 2}}$`).test(value)) {
    throw badInput(`${fileName} has no valid project key (64 hexadecimal characters expected). Ask for a fresh copy of the file.`)
  }
  return Buffer.from(value, 'hex')
}

// A POSIX tar has "ustar" at byte 257 of its first header.
function looksLikeTar(filePath: string): boolean {
  const fd = openSync(filePath, 'r')
  try {
    const head = Buffer.alloc(265)
    const n = readSync(fd, head, 0, head.length, 0)
    return n >= 262 && head.subarray(257, 262).toString('latin1') === 'ustar'
  } finally {
    closeSync(fd)
  }
}
