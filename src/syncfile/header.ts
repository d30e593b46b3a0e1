import { randomBytes } from 'node:crypto'
import { FerryError } from '../errors.js'
import {
  FILE_SALT_BYTES,
  FORMAT_VERSION,
  HEADER_BYTES,
  MAGIC,
  OFFSET_FILE_SALT,
  OFFSET_FLAGS,
  OFFSET_PROJECT_ID,
  OFFSET_VERSION,
  PROJECT_ID_BYTES,
} from './format.js'

export interface FileHeader {
  formatVersion: number
  projectId: Buffer
  fileSalt: Buffer
  /** The 64 header bytes as found: every chunk's AAD starts with them. */
  bytes: Buffer
}

export function newHeader(projectId: Buffer): FileHeader {
  const bytes = Buffer.alloc(HEADER_BYTES)
  MAGIC.copy(bytes, 0)
  bytes.writeUInt16BE(FORMAT_VERSION, OFFSET_VERSION)
  bytes.writeUInt16BE(0, OFFSET_FLAGS)
  projectId.copy(bytes, OFFSET_PROJECT_ID)
  const fileSalt = randomBytes(FILE_SALT_BYTES)
  fileSalt.copy(bytes, OFFSET_FILE_SALT)
  return { formatVersion: FORMAT_VERSION, projectId, fileSalt, bytes }
}

export function hasMagic(bytes: Buffer): boolean {
  return bytes.length >= MAGIC.length && bytes.subarray(0, MAGIC.length).equals(MAGIC)
}

/**
 * Parses the clear header. `name` is only for messages. Throws FerryError('damaged') for a file that is not a
 * Ferry sync file or is cut short, and FerryError('newer-format') for a version this Ferry cannot read.
 */
export function parseHeader(bytes: Buffer, name: string): FileHeader {
  if (!hasMagic(bytes)) {
    // The other file Ferry makes, picked by mistake (its JSON names its format near the start).
    if (bytes.toString('latin1').includes('"ferry-project"')) {
      throw new FerryError('bad-input', `${name} is a project file, not a sync file. To join its project, give it to \`ferry init --join\`; to sync, pick the .ferry file.`)
    }
    throw new FerryError('damaged', `${name} is not a Ferry sync file (or its beginning is damaged). Check that you picked the right file.`)
  }
  if (bytes.length < HEADER_BYTES) {
    throw new FerryError('damaged', `${name} is cut short: it ends inside its header. Copy it again from where it came from (the other computer, the email), or ask for it again.`)
  }
  const formatVersion = bytes.readUInt16BE(OFFSET_VERSION)
  if (formatVersion > FORMAT_VERSION) {
    throw new FerryError('newer-format', `${name} was made by a newer Ferry (file format ${formatVersion}). Update Ferry on this computer, then sync again.`)
  }
  if (formatVersion !== FORMAT_VERSION || bytes.readUInt16BE(OFFSET_FLAGS) !== 0 || bytes.readUInt32BE(60) !== 0) {
    throw new FerryError('damaged', `${name} has a damaged header. Use another copy of the file.`)
  }
  return {
    formatVersion,
    projectId: Buffer.from(bytes.subarray(OFFSET_PROJECT_ID, OFFSET_PROJECT_ID + PROJECT_ID_BYTES)),
    fileSalt: Buffer.from(bytes.subarray(OFFSET_FILE_SALT, OFFSET_FILE_SALT + FILE_SALT_BYTES)),
    bytes: Buffer.from(bytes.subarray(0, HEADER_BYTES)),
  }
}
