import { rm } from 'node:fs/promises'
import net from 'node:net'
import readline from 'node:readline'
import type { Logger } from 'pino'
import { FerryError } from '../errors.js'
import type { SyncProgress } from '../merge/types.js'
import type { Reply, Request } from './protocol.js'

export interface ControlHandlers {
  handle(request: Request, onProgress: (p: SyncProgress) => void): Promise<unknown>
}

/** Serves the control channel. Each request is handled inside its own error boundary. */
export class ControlServer {
  private server: net.Server | null = null
  private readonly sockets = new Set<net.Socket>()

  constructor(
    private readonly socketFile: string,
    private readonly handlers: ControlHandlers,
    private readonly log: Logger,
  ) {}

  async start(): Promise<void> {
    // We hold the daemon lock, so a socket file left here is a dead daemon's.
    if (process.platform !== 'win32') await rm(this.socketFile, { force: true })
    const server = net.createServer((socket) => this.serve(socket))
    this.server = server
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(this.socketFile, () => resolve())
    })
  }

  private serve(socket: net.Socket): void {
    this.sockets.add(socket)
    socket.on('close', () => this.sockets.delete(socket))
    socket.on('error', () => undefined)
    const lines = readline.createInterface({ input: socket })
    lines.on('error', () => undefined)
    lines.on('line', (line) => void this.answer(socket, line))
  }

  private async answer(socket: net.Socket, line: string): Promise<void> {
    const send = (reply: Reply) => {
      if (!socket.destroyed) socket.write(JSON.stringify(reply) + '\n')
    }
    try {
      const request = JSON.parse(line) as Request
      const data = await this.handlers.handle(request, (progress) => send({ type: 'progress', progress }))
      send({ type: 'result', data })
    } catch (err) {
      if (!(err instanceof FerryError)) this.log.error({ err }, 'control request failed')
      send({ type: 'error', kind: err instanceof FerryError ? err.kind : null, message: (err as Error).message })
    }
  }

  async stop(): Promise<void> {
    for (const socket of this.sockets) socket.destroy()
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()))
    if (process.platform !== 'win32') await rm(this.socketFile, { force: true })
  }
}
