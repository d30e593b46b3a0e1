import path from 'node:path'
import { badInput } from '../errors.js'

export interface CategorySet {
  name: string
  version: string | undefined
  categories: Array<{ id: string; name: string; tags: Record<string, unknown>; fields: string[] }>
  fields: Array<{ id: string; label: string; tagKey: string; type: string }>
}

/** Reads the categories and fields of a CoMapeo `.comapeocat` archive with the comapeocat package. */
export async function readCategories(filePath: string): Promise<CategorySet> {
  const fileName = path.basename(filePath)
  // Loaded only here: comapeocat pulls in svgo and friends, a third of a second on every other command.
  const { Reader } = await import('comapeocat')
  const reader = new Reader(filePath)
  try {
    await reader.opened()
    const [categories, fields, metadata] = await Promise.all([reader.categories(), reader.fields(), reader.metadata()])
    return {
      name: metadata.name,
      version: metadata.version,
      categories: [...categories].map(([id, c]) => ({ id, name: c.name, tags: c.tags as Record<string, unknown>, fields: c.fields })),
      fields: [...fields].map(([id, f]) => ({ id, label: f.label, tagKey: f.tagKey, type: f.type })),
    }
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err)
    throw badInput(`${fileName} is not a valid CoMapeo categories file (.comapeocat): ${why}`)
  } finally {
    await reader.close().catch(() => undefined)
  }
}
