import { mkdtempSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterEach } from 'vitest'
import type { IncomingStage } from '../../src/store/incoming-stage.js'
import { Store } from '../../src/store/store.js'
import { envelopeHash, openEnvelope } from '../../src/store/version.js'

/**
 * In-process devices of one project for store tests, closed and removed after each test. `track` registers a
 * store a test opened itself (a second handle, a copied folder) for the same clean-up; `untrack` one it closed.
 */
export function testStores(label: string, projectName: string) {
  const roots: string[] = []
  const stores: Store[] = []
  afterEach(async () => {
    for (const s of stores.splice(0)) await s.close()
    for (const r of roots.splice(0)) rmSync(r, { recursive: true, force: true })
  })
  return {
    async devices(n: number): Promise<Store[]> {
      const root = mkdtempSync(path.join(os.tmpdir(), `ferry-${label}-`))
      roots.push(root)
      const first = await Store.create(path.join(root, 'd0'), { name: projectName })
      const all = [first]
      for (let i = 1; i < n; i++) all.push(await Store.create(path.join(root, `d${i}`), { name: 'x', secret: first.projectSecret }))
      stores.push(...all)
      return all
    },
    track(store: Store): void {
      stores.push(store)
    },
    untrack(store: Store): void {
      stores.splice(stores.indexOf(store), 1)
    },
  }
}

/** Stages received envelopes as a sync would (decoded, with their hashes), without committing them. */
export function stageEnvelopes(stage: IncomingStage, envelopes: Iterable<Uint8Array>): void {
  for (const envelope of envelopes) {
    const opened = openEnvelope(Buffer.from(envelope))
    if (!opened.ok) throw new Error(opened.reason)
    stage.addVersion(opened.version, envelopeHash(opened.version.envelope))
  }
}
