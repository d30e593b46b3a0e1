import net from 'node:net'
import path from 'node:path'
import readline from 'node:readline'
import { ExitCode, FerryError, type FerryErrorKind } from '../errors.js'
import type { SyncProgress, SyncReport } from '../merge/types.js'
import { socketPath, type Reply, type Request } from './protocol.js'

/** Thrown inside the client when no daemon answers on the data folder's socket. */
export class NoDaemon extends Error {}

/**
 * Sends one request to the data folder's daemon and resolves with its result. Rejects with NoDaemon when none runs,
 * and with the daemon's FerryError (same kind, same plain message) when the request failed.
 */
export function requestDaemon(dataDir: string, request: Request, onProgress?: (p: SyncProgress) => void): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const socket = net.createConnection(socketPath(dataDir))
    let settled = false
    const finish = (fn: () => void) => {
      if (settled) return
      settled = true
      socket.destroy()
      fn()
    }
    socket.once('connect', () => socket.write(JSON.stringify(request) + '\n'))
    socket.on('error', (err: NodeJS.ErrnoException) => {
      const noDaemon = ['ENOENT', 'ECONNREFUSED', 'ENOTSOCK'].includes(err.code ?? '')
      finish(() => reject(noDaemon ? new NoDaemon(err.message) : err))
    })
    // Not the drive's fault (exit 5): the daemon itself ended, which it never should mid-request (exit 1).
    socket.once('close', () => finish(() => reject(new FerryError('io', "Ferry's daemon stopped before it answered (its log says why). Nothing was lost: start it again, then try again.", { exitCode: ExitCode.unexpected }))))
    const lines = readline.createInterface({ input: socket })
    // readline re-emits the socket's errors; they are handled above.
    lines.on('error', () => undefined)
    lines.on('line', (line) => {
      const reply = JSON.parse(line) as Reply
      if (reply.type === 'progress') onProgress?.(reply.progress)
      else if (reply.type === 'result') finish(() => resolve(reply.data))
      else finish(() => reject(reply.kind ? new FerryError(reply.kind as FerryErrorKind, reply.message) : new Error(reply.message)))
    })
  })
}

/**
 * `ferry sync` while the daemon runs: the merge happens in the daemon (it holds the store and serialises jobs).
 * null when no daemon runs, so the CLI merges by itself.
 */
export async function syncThroughDaemon(dataDir: string, file: string, onProgress?: (p: SyncProgress) => void): Promise<SyncReport | null> {
  try {
    return (await requestDaemon(dataDir, { cmd: 'sync', path: path.resolve(file) }, onProgress)) as SyncReport
  } catch (err) {
    if (err instanceof NoDaemon) return null
    throw err
  }
}
