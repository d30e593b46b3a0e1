/**
 * All file access of the sync file and the media store goes through this interface (as syncthing's lib/fs does),
 * so tests can inject an I/O error at any single read, write or fsync. The real implementation is node-disk.ts;
 * faulty-disk.ts wraps it for fault tests.
 */
export interface DiskFile {
  /** Reads up to `length` bytes at `position`; returns how many were read (0 at end of file). */
  read(buffer: Buffer, offset: number, length: number, position: number): Promise<number>
  /** Writes all of `buffer` at `position`. */
  write(buffer: Buffer, position: number): Promise<void>
  /** Writes all of `buffers`, one after the other, from `position` (one system call instead of a copy to join them). */
  writev(buffers: Buffer[], position: number): Promise<void>
  sync(): Promise<void>
  truncate(length: number): Promise<void>
  size(): Promise<number>
  close(): Promise<void>
}

export type OpenMode = 'read' | 'update' | 'create-new'

export interface FilesystemInfo {
  freeBytes: number
  /** The largest file this filesystem can hold (FAT32: 4 GiB − 1), or Infinity. */
  maxFileBytes: number
  /** A name for messages, e.g. "vfat", "exfat", "ext4". */
  type: string
}

export interface Disk {
  open(path: string, mode: OpenMode): Promise<DiskFile>
  rename(from: string, to: string): Promise<void>
  unlink(path: string): Promise<void>
  /** fsync of a folder, so a new or renamed file's directory entry is durable. */
  syncDir(path: string): Promise<void>
  filesystem(path: string): Promise<FilesystemInfo>
  mkdirp(path: string): Promise<void>
}
