import path from 'node:path'
import { badInput } from '../errors.js'
import { parseProjectKey } from './project-file.js'

const MAX_METADATA_BYTES = 1024 * 1024

/**
 * Reads the project key and name from a Mapeo Desktop configuration: a tar (as mapeo-settings-builder makes it)
 * whose `metadata.json` holds `projectKey` (64 hex) and `name`. Other entries (presets, icons) are not read.
 */
export async function readMapeoSettings(filePath: string): Promise<{ name: string; secret: Buffer }> {
  const fileName = path.basename(filePath)
  let metadata: string | undefined
  // Loaded here only: joining from a Mapeo configuration is rare, and tar costs every other command its load time.
  const { list } = await import('tar')
  try {
    await list({
      file: filePath,
      strict: true,
      onReadEntry: (entry) => {
        const entryName = entry.path.replace(/^\.\//, '')
        if (entryName !== 'metadata.json' || entry.size > MAX_METADATA_BYTES) {
          entry.resume()
          return
        }
        const parts: Buffer[] = []
        entry.on('data', (chunk: Buffer) => parts.push(chunk))
        entry.on('end', () => {
          metadata = Buffer.concat(parts).toString('utf8')
        })
      },
    })
  } catch {
    throw badInput(`${fileName} is not a readable Mapeo configuration (.mapeosettings). Ask for a fresh copy.`)
  }
  if (metadata === undefined) throw badInput(`${fileName} has no metadata.json, so it names no project. Use the .mapeosettings your team synchronises with.`)
  let parsed: { projectKey?: unknown; name?: unknown }
  try {
    parsed = JSON.parse(metadata) as typeof parsed
  } catch {
    throw badInput(`The metadata.json inside ${fileName} is not valid JSON. Ask for a fresh copy of the configuration.`)
  }
  if (parsed.projectKey === undefined) {
    throw badInput(`${fileName} has no project key: it is a public configuration that any Mapeo user can load, so it cannot define a private project. Use the configuration made for your team.`)
  }
  const name = typeof parsed.name === 'string' && parsed.name ? parsed.name : 'Mapeo project'
  return { name, secret: parseProjectKey(parsed.projectKey, fileName) }
}
