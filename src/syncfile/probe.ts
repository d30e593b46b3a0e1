import { open } from 'node:fs/promises'
import type { Store } from '../store/store.js'
import { FORMAT_VERSION, HEADER_BYTES, OFFSET_PROJECT_ID, OFFSET_VERSION, PROJECT_ID_BYTES } from './format.js'
import { hasMagic } from './header.js'
import { SyncFileReader } from './reader.js'

export interface SyncFileHeader {
  formatVersion: number
  projectId: string
}

/** Reads only the clear header. null when the file is not a Ferry sync file (by magic bytes, not by name). */
export async function readSyncFileHeader(filePath: string): Promise<SyncFileHeader | null> {
  let handle
  try {
    handle = await open(filePath, 'r')
    const head = Buffer.alloc(HEADER_BYTES)
    const { bytesRead } = await handle.read(head, 0, HEADER_BYTES, 0)
    if (bytesRead < HEADER_BYTES || !hasMagic(head)) return null
    return {
      formatVersion: head.readUInt16BE(OFFSET_VERSION),
      projectId: head.subarray(OFFSET_PROJECT_ID, OFFSET_PROJECT_ID + PROJECT_ID_BYTES).toString('hex'),
    }
  } catch {
    return null
  } finally {
    await handle?.close()
  }
}

/**
 * True when the file is of this store's project and ends exactly at a valid commit — the test that a copy into
 * the inbox has finished (a copy still in progress ends in the middle of a chunk).
 */
export async function isCompleteSyncFile(store: Store, filePath: string): Promise<boolean> {
  const header = await readSyncFileHeader(filePath)
  if (!header || header.formatVersion !== FORMAT_VERSION || header.projectId !== store.info.projectId) return false
  let reader: SyncFileReader | undefined
  try {
    reader = await SyncFileReader.open(store.disk, filePath, store.projectSecret, store.projectId, () => '')
    const state = await reader.state()
    return state.commits.length > 0 && state.tail.state === 'clean'
  } catch {
    return false
  } finally {
    await reader?.close()
  }
}
