/**
 * @comapeo/schema, loaded on first use: its validators take over 100 ms to load, and most commands (list, show,
 * a sync with nothing to receive) never validate anything.
 */
export type ComapeoSchema = typeof import('@comapeo/schema')

let loaded: Promise<ComapeoSchema> | undefined

export function comapeoSchema(): Promise<ComapeoSchema> {
  loaded ??= import('@comapeo/schema')
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
