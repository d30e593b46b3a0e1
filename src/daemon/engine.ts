import type { SyncFileHeader } from '../syncfile/probe.js'
import type { CreateOptions, SyncOptions, SyncReport } from '../merge/types.js'

/**
 * What the daemon needs from the store, the sync file and the merge, in one small interface so its logic is tested
 * with a fake (test/daemon/fake-engine.ts) and runs for real over src/store + src/merge (real-engine.ts).
 */
export interface SyncEngine {
  readonly dataDir: string
  readonly project: { id: string; name: string }
  observations(): number
  /** null when the file is not a sync file (magic bytes). */
  readHeader(file: string): Promise<SyncFileHeader | null>
  /** Ends at a valid commit of this project (a copy still in progress does not). */
  isComplete(file: string): Promise<boolean>
  /** Whether a sync with the file would change anything on either side (see merge.ts syncWouldChange). */
  wouldChange(file: string): Promise<boolean>
  sync(file: string, opts: SyncOptions): Promise<SyncReport>
  create(file: string, opts: CreateOptions): Promise<SyncReport>
  close(): Promise<void>
}
