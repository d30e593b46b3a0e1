import { mkdtemp, rm } from 'node:fs/promises'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { requestDaemon, syncThroughDaemon } from '../../src/daemon/client.js'
import { ControlServer } from '../../src/daemon/control-server.js'
import { socketPath, type Request } from '../../src/daemon/protocol.js'
import { FerryError } from '../../src/errors.js'
import { report, silentLog } from './fakes.js'

let dataDir: string
let server: ControlServer | null = null

beforeEach(async () => {
  dataDir = await mkdtemp(path.join(os.tmpdir(), 'ferry-ctl-'))
})
afterEach(async () => {
  await server?.stop()
  server = null
  await rm(dataDir, { recursive: true, force: true })
})

async function serve(handle: (r: Request, progress: (p: never) => void) => Promise<unknown>) {
  server = new ControlServer(socketPath(dataDir), { handle: (r, p) => handle(r, p as never) }, silentLog)
  await server.start()
}

describe('control channel (real Unix socket)', () => {
  it('syncThroughDaemon returns null when no daemon runs', async () => {
    await expect(syncThroughDaemon(dataDir, '/x/field.ferry')).resolves.toBeNull()
  })

  it('carries a sync request with progress lines and its report, with the path made absolute', async () => {
    const seen: Request[] = []
    await serve(async (r, progress) => {
      seen.push(r)
      progress({ phase: 'sending', done: { versions: 1, bytes: 1 }, total: { versions: 2, bytes: 2 } } as never)
      return report((r as { path: string }).path)
    })
    const progress: unknown[] = []
    const result = await syncThroughDaemon(dataDir, 'relative.ferry', (p) => progress.push(p))
    expect(result?.file).toBe(path.resolve('relative.ferry'))
    expect(seen).toEqual([{ cmd: 'sync', path: path.resolve('relative.ferry') }])
    expect(progress).toHaveLength(1)
  })

  it("brings the daemon's FerryError back with its kind and plain message", async () => {
    await serve(async () => {
      throw new FerryError('other-project', 'field.ferry belongs to another project.')
    })
    const err = await requestDaemon(dataDir, { cmd: 'accept', id: 'p1' }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(FerryError)
    expect(err).toMatchObject({ kind: 'other-project', exitCode: 3, message: 'field.ferry belongs to another project.' })
  })

  it('a daemon that ends mid-request is an unexpected failure (exit 1), not a failed drive', async () => {
    // A daemon that takes the request and dies: the connection closes with no answer.
    const dying = net.createServer((socket) => socket.once('data', () => socket.destroy()))
    await new Promise<void>((resolve) => dying.listen(socketPath(dataDir), resolve))
    try {
      const failed = await requestDaemon(dataDir, { cmd: 'status' }).catch((err: unknown) => err)
      expect(failed).toBeInstanceOf(FerryError)
      expect(failed).toMatchObject({ exitCode: 1, message: expect.stringMatching(/daemon stopped before it answered/) })
    } finally {
      await new Promise((resolve) => dying.close(resolve))
    }
  })

  it('removes its socket when stopped, so the next client sees no daemon', async () => {
    await serve(async () => ({ running: true }))
    await expect(requestDaemon(dataDir, { cmd: 'status' })).resolves.toEqual({ running: true })
    await server!.stop()
    server = null
    await expect(syncThroughDaemon(dataDir, '/x.ferry')).resolves.toBeNull()
  })
})
