/**
 * Where removable drives come from. One implementation per platform (Linux mountinfo, macOS /Volumes, Windows drive
 * letters), a test one in test/daemon. The mount table is the truth: a drive exists while it is mounted.
 */
export interface Drive {
  /** Stable id for "Always for this drive": the filesystem UUID when it can be read, else the label. */
  id: string
  /** What a person calls it: the last part of the mount point (KINGSTON). */
  label: string
  mountPoint: string
}

export interface DriveSource {
  /** The drives mounted right now. */
  list(): Promise<Drive[]>
  /**
   * Calls onChange whenever the set of mounted drives may have changed (a poll tick or a hint). The watcher then
   * calls list() and diffs; a source need not be exact about when.
   */
  watch(onChange: () => void): void
  stop(): Promise<void>
}
