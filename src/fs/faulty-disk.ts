import type { Disk, DiskFile, OpenMode } from './disk.js'

/**
 * A Disk that fails on purpose, for fault tests (syncthing's lib/fs `errorfs` does the same): it counts every call
 * of the operations below, across all files it opened, and makes the Nth call of one operation throw an I/O error
 * instead of reaching the real disk. A clean run with no fault armed gives the number of call sites to try.
 */
export type FaultOp = 'open' | 'write' | 'sync' | 'truncate' | 'rename' | 'syncDir' | 'unlink' | 'mkdirp'

export const FAULT_OPS: readonly FaultOp[] = ['open', 'write', 'sync', 'truncate', 'rename', 'syncDir', 'unlink', 'mkdirp']

export interface Fault {
  op: FaultOp
  /** 1-based: the Nth call of `op` fails. */
  at: number
  /** errno code of the injected error (default EIO). */
  code?: string
  /**
   * For 'write': how many bytes of the buffer reach the disk before the error (a torn write). Default 0.
   * Ignored for other operations.
   */
  partialBytes?: number
  /** Fail this call and every later call of every operation (a drive that stopped answering). */
  sticky?: boolean
}

export interface CallRecord {
  op: FaultOp | 'read'
  n: number
  path: string
}

export class InjectedFault extends Error {
  readonly code: string
  constructor(code: string, readonly call: CallRecord) {
    super(`${code}: injected fault at ${call.op} #${call.n} (${call.path})`)
    this.code = code
  }
}

export class FaultyDisk implements Disk {
  private readonly counts = new Map<FaultOp, number>()
  private dead = false
  /** Every counted call, in order (for reporting which call site a fault hit). */
  readonly calls: CallRecord[] = []
  /** The call the fault hit, once it has fired. */
  fired: CallRecord | undefined

  constructor(
    private readonly inner: Disk,
    private fault: Fault | undefined = undefined,
  ) {}

  /** Arms (or disarms, with undefined) a fault and restarts the counts. */
  arm(fault: Fault | undefined): void {
    this.fault = fault
    this.fired = undefined
    this.dead = false
    this.counts.clear()
    this.calls.length = 0
  }

  /** How many times `op` was called since the last arm(). */
  count(op: FaultOp): number {
    return this.counts.get(op) ?? 0
  }

  /** Counts one call and throws when it is the one to fail. Returns the error for a torn write instead. */
  private check(op: FaultOp, filePath: string): InjectedFault | undefined {
    const n = (this.counts.get(op) ?? 0) + 1
    this.counts.set(op, n)
    const call = { op, n, path: filePath }
    this.calls.push(call)
    const code = this.fault?.code ?? 'EIO'
    if (this.dead) throw new InjectedFault(code, call)
    if (this.fault && this.fault.op === op && this.fault.at === n) {
      this.fired = call
      if (this.fault.sticky) this.dead = true
      const error = new InjectedFault(code, call)
      if (op === 'write' && (this.fault.partialBytes ?? 0) > 0) return error
      throw error
    }
    return undefined
  }

  async open(filePath: string, mode: OpenMode): Promise<DiskFile> {
    this.check('open', filePath)
    const file = await this.inner.open(filePath, mode)
    return this.wrap(file, filePath)
  }

  private wrap(file: DiskFile, filePath: string): DiskFile {
    return {
      read: (buffer, offset, length, position) => {
        if (this.dead) return Promise.reject(new InjectedFault(this.fault?.code ?? 'EIO', { op: 'read', n: 0, path: filePath }))
        return file.read(buffer, offset, length, position)
      },
      write: async (buffer, position) => {
        const torn = this.check('write', filePath)
        if (torn) {
          const keep = Math.min(buffer.length, this.fault?.partialBytes ?? 0)
          await file.write(buffer.subarray(0, keep), position)
          throw torn
        }
        return file.write(buffer, position)
      },
      // Counted as a write, with the same torn-write behaviour: the joined bytes are what reaches the disk.
      writev: async (buffers, position) => {
        const torn = this.check('write', filePath)
        if (torn) {
          const joined = Buffer.concat(buffers)
          await file.write(joined.subarray(0, Math.min(joined.length, this.fault?.partialBytes ?? 0)), position)
          throw torn
        }
        return file.writev(buffers, position)
      },
      sync: async () => {
        this.check('sync', filePath)
        return file.sync()
      },
      truncate: async (length) => {
        this.check('truncate', filePath)
        return file.truncate(length)
      },
      size: () => file.size(),
      // Closing always reaches the real file, so a test never leaks descriptors.
      close: () => file.close(),
    }
  }

  async rename(from: string, to: string): Promise<void> {
    this.check('rename', to)
    return this.inner.rename(from, to)
  }

  async unlink(filePath: string): Promise<void> {
    this.check('unlink', filePath)
    return this.inner.unlink(filePath)
  }

  async syncDir(dirPath: string): Promise<void> {
    this.check('syncDir', dirPath)
    return this.inner.syncDir(dirPath)
  }

  filesystem(filePath: string) {
    return this.inner.filesystem(filePath)
  }

  async mkdirp(dirPath: string): Promise<void> {
    this.check('mkdirp', dirPath)
    return this.inner.mkdirp(dirPath)
  }
}
