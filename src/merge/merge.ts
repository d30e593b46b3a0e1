// STUB — being written now by the core author; signatures are final.
import type { Store } from '../store/store.js'
import type { CreateOptions, SyncOptions, SyncReport } from './types.js'
/** Two-way merge with an existing sync file. Takes the writer lock itself. Throws FerryError on user-facing failures. */
export async function syncWithFile(_store: Store, _path: string, _opts: SyncOptions = {}): Promise<SyncReport> { throw new Error('stub') }
/** Writes a new sync file with everything (refuses an existing path). */
export async function createSyncFile(_store: Store, _path: string, _opts: CreateOptions = {}): Promise<SyncReport> { throw new Error('stub') }
