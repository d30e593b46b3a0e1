import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { configDir } from '../paths.js'

/**
 * Names of projects this user has started or joined, by project id, so a file of another project can be named in
 * the error ("belongs to “River monitoring”"). Ids are public; secrets are never kept here.
 */
function registryPath(): string {
  return path.join(configDir(), 'known-projects.json')
}

function readRegistry(): Record<string, string> {
  try {
    const parsed = JSON.parse(readFileSync(registryPath(), 'utf8')) as unknown
    return typeof parsed === 'object' && parsed !== null ? (parsed as Record<string, string>) : {}
  } catch {
    return {}
  }
}

export function knownProjectName(projectId: string): string | undefined {
  const name = readRegistry()[projectId]
  return typeof name === 'string' ? name : undefined
}

export function rememberProject(projectId: string, name: string): void {
  try {
    const registry = readRegistry()
    if (registry[projectId] === name) return
    registry[projectId] = name
    mkdirSync(path.dirname(registryPath()), { recursive: true, mode: 0o700 })
    const tmp = `${registryPath()}.${process.pid}.tmp`
    writeFileSync(tmp, JSON.stringify(registry, null, 2), { mode: 0o600 })
    renameSync(tmp, registryPath())
  } catch {
    // Only used to make an error message friendlier; never worth failing a command over.
  }
}
