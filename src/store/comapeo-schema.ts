import { existsSync } from 'node:fs'
import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'
/**
 * The two parts of @comapeo/schema Ferry uses: its validators and `valueOf`, imported by path rather than through
 * the package's index (which also loads its protobuf codecs). The build bundles them into dist/comapeo-schema.cjs
 * (scripts/build.mjs), required from there: loaded as ES modules from node_modules they took ~60 ms, and every
 * receive and every worker thread waits for them; from the bundle ~10 ms. A file of their own rather than part of
 * dist/ferry.cjs, which every command reads and which they would double. Loaded on first use: most commands (list,
 * show, a sync with nothing to receive) never validate anything. Run from src/ (the tests), they load as modules.
 */
export interface ComapeoSchema {
  validate: typeof import('@comapeo/schema/dist/validate.js').validate
  valueOf: typeof import('@comapeo/schema/dist/lib/utils.js').valueOf
}

let loaded: Promise<ComapeoSchema> | undefined

export function comapeoSchema(): Promise<ComapeoSchema> {
  loaded ??= loadSchema()
  return loaded
}

async function loadSchema(): Promise<ComapeoSchema> {
  const bundled = fileURLToPath(new URL('../comapeo-schema.cjs', import.meta.url))
  if (existsSync(bundled)) return createRequire(import.meta.url)(bundled) as ComapeoSchema
  const [{ validate }, { valueOf }] = await Promise.all([import('@comapeo/schema/dist/validate.js'), import('@comapeo/schema/dist/lib/utils.js')])
  return { validate, valueOf }
}

/** True when `value` is a valid CoMapeo observation value; the reason otherwise. */
export type ObservationCheck = (value: Record<string, unknown>) => { ok: true } | { ok: false; field: string; message: string }

export async function observationChecker(): Promise<ObservationCheck> {
  const { validate } = await comapeoSchema()
  return (value) => {
    if (value.schemaName === 'observation' && validate('observation', value)) return { ok: true }
    const first = validate.errors?.[0]
    return { ok: false, field: first?.instancePath ? first.instancePath.slice(1).replace(/\//g, '.') : 'the document', message: first?.message ?? 'is not an observation' }
  }
}
