import { open, rename, stat, unlink, type FileHandle } from 'node:fs/promises'
import path from 'node:path'
import { randomBytes } from 'node:crypto'
import type { Writable } from 'node:stream'
import { FerryError } from '../errors.js'

/** Text gathered into writes of about this size: few system calls, and never the whole output in memory. */
const BATCH_CHARS = 1 << 20

/**
 * Writes text to a file through a temporary file in the same folder, renamed into place once complete and durable,
 * so an export that fails half way (a full disk, a pulled drive) never leaves a half file under the real name.
 * Something that is not a regular file (/dev/stdout, a pipe) is written to directly.
 */
export async function writeTextFile(file: string, parts: Iterable<string>): Promise<void> {
  const writeAll = (handle: FileHandle) => eachBatch(parts, async (text) => void (await handle.write(text)))
  const existing = await stat(file).catch(() => undefined)
  if (existing && !existing.isFile()) {
    const target = await open(file, 'w')
    try {
      await writeAll(target)
    } finally {
      await target.close()
    }
    return
  }
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.ferry-tmp-${randomBytes(4).toString('hex')}`)
  const handle = await open(tmp, 'wx')
  try {
    await writeAll(handle)
    await handle.sync()
    await handle.close()
    await rename(tmp, file)
  } catch (err) {
    await handle.close().catch(() => undefined)
    await unlink(tmp).catch(() => undefined)
    throw err
  }
}

/**
 * Writes text to a stream (stdout), waiting whenever the stream asks to, so a slow reader never makes it pile up.
 * Fails with the stream's error (a full disk under `> file`), except a closed pipe (the reader stopped, see cli.ts):
 * then the rest is dropped.
 */
export async function writeText(stream: Writable, parts: Iterable<string>): Promise<void> {
  let failed: NodeJS.ErrnoException | undefined
  const onError = (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EPIPE') failed ??= err
  }
  stream.on('error', onError)
  try {
    await eachBatch(parts, async (text) => {
      if (failed) throw failed
      if (stream.destroyed) return
      if (!stream.write(text)) await drainedOrClosed(stream)
    })
    await flushed(stream)
    if (failed) throw failed
  } catch (err) {
    throw failed !== undefined && err === failed ? outputFailed(failed) : err
  } finally {
    stream.off('error', onError)
  }
}

/** Resolves once everything written to `stream` is flushed or has failed: a write's error arrives after it was queued. */
export function flushed(stream: Writable): Promise<void> {
  return new Promise<void>((resolve) => (stream.destroyed ? resolve() : stream.write('', () => resolve())))
}

/** The command's output (stdout) could not be written: a full disk under `> file`, say. Exit 5. */
export function outputFailed(err: NodeJS.ErrnoException): FerryError {
  return new FerryError('io', `Writing the output failed (${err.code ?? err.message}). Nothing was lost: check where the output goes (a full disk?) and run the command again.`, { cause: err })
}

function drainedOrClosed(stream: Writable): Promise<void> {
  return new Promise<void>((resolve) => {
    const done = () => {
      stream.off('drain', done)
      stream.off('close', done)
      resolve()
    }
    stream.on('drain', done)
    stream.on('close', done)
  })
}

async function eachBatch(parts: Iterable<string>, write: (text: string) => Promise<void>): Promise<void> {
  let batch: string[] = []
  let chars = 0
  for (const part of parts) {
    batch.push(part)
    chars += part.length
    if (chars >= BATCH_CHARS) {
      await write(batch.join(''))
      batch = []
      chars = 0
    }
  }
  if (batch.length > 0) await write(batch.join(''))
}
