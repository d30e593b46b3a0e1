import { closeSync, createReadStream, createWriteStream, fstatSync, mkdtempSync, openSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { pipeline } from 'node:stream/promises'
import { badInput, diskError } from '../errors.js'

export interface ImportFile {
  fd: number
  close(): void
}

/**
 * Opens the file an import reads (twice: checked, then written). A folder is refused in words. A pipe or another
 * stream (`ferry import <(…)`, /dev/stdin) can be read only once, so it is first copied to a private temporary
 * file, removed by `close`.
 */
export async function openImportFile(file: string): Promise<ImportFile> {
  // `-` is standard input (as for export), read from its descriptor: opening /dev/stdin fails when it is a socket,
  // as it is for a child process given its input by Node.
  const stdin = file === '-'
  let fd: number
  try {
    fd = stdin ? 0 : openSync(file, 'r')
  } catch {
    throw badInput(`Cannot read ${file}. Check the path and try again.`)
  }
  const closeInput = () => {
    if (!stdin) closeSync(fd)
  }
  const stats = fstatSync(fd)
  if (stats.isFile()) return { fd, close: closeInput }
  if (stats.isDirectory()) {
    closeInput()
    throw badInput(`${file} is a folder, not a file of observations. Give the .json or .geojson file itself.`)
  }
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ferry-import-'))
  const copy = path.join(dir, 'import.json')
  try {
    await pipeline(createReadStream('', { fd, autoClose: false }), createWriteStream(copy, { mode: 0o600 }))
    const copyFd = openSync(copy, 'r')
    return {
      fd: copyFd,
      close: () => {
        closeSync(copyFd)
        rmSync(dir, { recursive: true, force: true })
      },
    }
  } catch (err) {
    rmSync(dir, { recursive: true, force: true })
    throw diskError(err, copy)
  } finally {
    closeInput()
  }
}
