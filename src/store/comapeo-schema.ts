/**
 * The two parts of @comapeo/schema Ferry uses: its validators and `valueOf`. They are imported by path rather than
 * through the package's index, which also loads its protobuf codecs, and they are bundled into dist/ferry.cjs and
 * dist/worker.cjs (scripts/build.mjs): loaded as ES modules from node_modules they took ~60 ms, against ~10 ms from
 * the bundle (~5 ms from the launcher's code cache), and every receive, and every worker thread, waits for them.
 * Still loaded on first use: most commands (list, show, a sync with nothing to receive) never validate anything.
 */
export interface ComapeoSchema {
  validate: typeof import('@comapeo/schema/dist/validate.js').validate
  valueOf: typeof import('@comapeo/schema/dist/lib/utils.js').valueOf
}

let loaded: Promise<ComapeoSchema> | undefined

export function comapeoSchema(): Promise<ComapeoSchema> {
  loaded ??= Promise.all([import('@comapeo/schema/dist/validate.js'), import('@comapeo/schema/dist/lib/utils.js')]).then(([{ validate }, { valueOf }]) => ({ validate, valueOf }))
  return loaded
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
