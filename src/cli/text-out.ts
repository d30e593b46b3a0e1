import { open, rename, stat, unlink, type FileHandle } from 'node:fs/promises'
import path from 'node:path'
import { randomBytes } from 'node:crypto'
import type { Writable } from 'node:stream'

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

/** Writes text to a stream (stdout), waiting whenever the stream asks to, so a slow reader never makes it pile up. */
export async function writeText(stream: Writable, parts: Iterable<string>): Promise<void> {
  await eachBatch(parts, async (text) => {
    // A closed pipe (the reader stopped, see cli.ts) never drains: the rest is dropped.
    if (stream.destroyed) return
    if (!stream.write(text)) await drainedOrClosed(stream)
  })
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
