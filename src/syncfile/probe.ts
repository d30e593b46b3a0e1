// STUB — being written now by the core author; signatures are final.
import type { Store } from '../store/store.js'
export interface SyncFileHeader { formatVersion: number; projectId: string }
/** Reads only the clear header. null when the file is not a Ferry sync file (by magic bytes, not by name). */
export async function readSyncFileHeader(_path: string): Promise<SyncFileHeader | null> { throw new Error('stub') }
/** True when the file ends exactly at a valid commit of this store's project (a copy in progress is not complete). */
export async function isCompleteSyncFile(_store: Store, _path: string): Promise<boolean> { throw new Error('stub') }
