import { closeSync, fstatSync, openSync, readSync } from 'node:fs'

/**
 * Looks at an LMDB file before LMDB maps it. LMDB trusts its file: one that is not an LMDB environment (garbage,
 * another file copied over it) crashes the process as it opens (SIGSEGV), and one cut short (a copy that stopped, a
 * disk that filled while it was copied) crashes it when a page past the end is read (SIGBUS). Both are refused here
 * with words instead.
 *
 * The layout read is lmdb-js's build of LMDB (dependencies/lmdb/libraries/liblmdb/mdb.c): a 24-byte page header
 * (page number, txnid, pad, flags, lower, upper); two meta pages, the newer by txnid in use; B-tree pages whose nodes
 * point at child pages, overflow pages and sub-databases.
 */
export type LmdbFileKind = 'empty' | 'lmdb' | 'other' | 'cut-short'

const MAGIC = 0xbeefc0de
const META_MAGIC_AT = 24
const META_PAGE_SIZE_AT = 48 // mm_dbs[FREE_DBI].md_pad
const META_DBS_AT = 48
const META_LAST_PAGE_AT = 144
const META_TXNID_AT = 152
const META_BYTES = META_TXNID_AT + 8
const DB_BYTES = 48 // MDB_db
const DB_ROOT_AT = 40
const CORE_DBS = 2

const PAGE_HEADER_BYTES = 24
const PAGE_FLAGS_AT = 18
const PAGE_LOWER_AT = 20
const PAGE_OVERFLOW_COUNT_AT = 20
const P_BRANCH = 0x01
const P_LEAF = 0x02
const P_LEAF2 = 0x20
const NODE_HEADER_BYTES = 8
const F_BIGDATA = 0x01
const F_SUBDATA = 0x02
const NO_PAGE = 0xffffffffffffffffn

export function lmdbFileKind(filePath: string): LmdbFileKind {
  return withFile(filePath, (fd) => {
    for (let attempt = 1; ; attempt++) {
      const found = readMeta(fd)
      if (typeof found === 'string') return found
      const { meta, pageSize, pagesInFile } = found
      // LMDB writes a transaction's pages before the meta page naming them, so a whole file nearly always reaches the
      // newest meta's last page. Not always: pages a transaction used and freed again ("loose") are never written,
      // and may be its last. So a shorter file is walked, and refused only if a page in use lies past its end.
      if (Number(meta.readBigUInt64LE(META_LAST_PAGE_AT)) < pagesInFile) return 'lmdb'
      if (new PageWalk(fd, pageSize, pagesInFile).allPagesPresent(meta)) return 'lmdb'
      // The walk is no LMDB reader: another process (the daemon) committing twice meanwhile may reuse pages of the
      // tree walked, which then points anywhere. A snapshot's pages are reused only after two later commits, so a
      // walk that fails while the newest meta stays the same read one consistent tree; otherwise walk again.
      const now = readMeta(fd)
      const unchanged = typeof now !== 'string' && now.meta.readBigUInt64LE(META_TXNID_AT) === meta.readBigUInt64LE(META_TXNID_AT)
      if (unchanged || attempt === MAX_WALKS) return 'cut-short'
    }
  })
}

/** Walks tried while other processes keep committing, before the file is called cut short all the same. */
const MAX_WALKS = 5

/** Whether every page the newest meta page's trees use is in the file, however long it is (tests check the walk). */
export function everyPageInUseIsPresent(filePath: string): boolean {
  return withFile(filePath, (fd) => {
    const found = readMeta(fd)
    if (typeof found === 'string') return false
    return new PageWalk(fd, found.pageSize, found.pagesInFile).allPagesPresent(found.meta)
  })
}

/** The meta page in use (the newer by txnid of the two), or what the file is when it has none. */
function readMeta(fd: number): { meta: Buffer; pageSize: number; pagesInFile: number } | 'empty' | 'other' | 'cut-short' {
  const first = readAt(fd, 0, META_BYTES)
  if (first.length === 0) return 'empty'
  if (first.length < META_BYTES || first.readUInt32LE(META_MAGIC_AT) !== MAGIC) return 'other'
  const pageSize = first.readUInt32LE(META_PAGE_SIZE_AT)
  if (pageSize < 512 || pageSize > 65536 || (pageSize & (pageSize - 1)) !== 0) return 'other'
  const second = readAt(fd, pageSize, META_BYTES)
  if (second.length < META_BYTES) return 'cut-short'
  const meta = second.readUInt32LE(META_MAGIC_AT) === MAGIC && second.readBigUInt64LE(META_TXNID_AT) > first.readBigUInt64LE(META_TXNID_AT) ? second : first
  return { meta, pageSize, pagesInFile: Math.floor(fstatSync(fd).size / pageSize) }
}

function withFile<T>(filePath: string, use: (fd: number) => T): T {
  const fd = openSync(filePath, 'r')
  try {
    return use(fd)
  } finally {
    closeSync(fd)
  }
}

function readAt(fd: number, position: number, length: number): Buffer {
  const bytes = Buffer.alloc(length)
  return bytes.subarray(0, readSync(fd, bytes, 0, length, position))
}

/** Follows every tree from the meta page: the free list, the main database, and each database named in it. */
class PageWalk {
  private readonly seen = new Set<number>()

  constructor(
    private readonly fd: number,
    private readonly pageSize: number,
    private readonly pagesInFile: number,
  ) {}

  allPagesPresent(meta: Buffer): boolean {
    for (let db = 0; db < CORE_DBS; db++) {
      if (!this.tree(meta.readBigUInt64LE(META_DBS_AT + db * DB_BYTES + DB_ROOT_AT))) return false
    }
    return true
  }

  private tree(root: bigint): boolean {
    return root === NO_PAGE || this.page(Number(root))
  }

  private page(pageNumber: number): boolean {
    if (pageNumber >= this.pagesInFile) return false
    // A page met twice is a damaged tree (a cycle), not one cut short; LMDB would loop on it too, not crash.
    if (this.seen.has(pageNumber)) return true
    this.seen.add(pageNumber)
    const page = readAt(this.fd, pageNumber * this.pageSize, this.pageSize)
    const flags = page.readUInt16LE(PAGE_FLAGS_AT)
    if (flags & P_LEAF2 || !(flags & (P_BRANCH | P_LEAF))) return true
    const nodes = Math.min(page.readUInt16LE(PAGE_LOWER_AT) >> 1, (this.pageSize - PAGE_HEADER_BYTES) >> 1)
    for (let i = 0; i < nodes; i++) {
      const node = page.readUInt16LE(PAGE_HEADER_BYTES + 2 * i) + PAGE_HEADER_BYTES
      if (node + NODE_HEADER_BYTES > page.length) continue
      const nodeFlags = page.readUInt16LE(node + 4)
      if (flags & P_BRANCH) {
        // Child page number: mn_lo | mn_hi << 16 | mn_flags << 32.
        if (!this.page(page.readUInt16LE(node) + page.readUInt16LE(node + 2) * 0x10000 + nodeFlags * 0x100000000)) return false
        continue
      }
      const data = node + NODE_HEADER_BYTES + page.readUInt16LE(node + 6)
      if (nodeFlags & F_BIGDATA && data + 8 <= page.length) {
        if (!this.overflow(Number(page.readBigUInt64LE(data)))) return false
      } else if (nodeFlags & F_SUBDATA && data + DB_BYTES <= page.length) {
        if (!this.tree(page.readBigUInt64LE(data + DB_ROOT_AT))) return false
      }
    }
    return true
  }

  /** A value too big for its leaf: a run of pages, their count in the first one's header. */
  private overflow(first: number): boolean {
    if (first >= this.pagesInFile) return false
    const header = readAt(this.fd, first * this.pageSize, PAGE_HEADER_BYTES)
    return header.length === PAGE_HEADER_BYTES && first + header.readUInt32LE(PAGE_OVERFLOW_COUNT_AT) <= this.pagesInFile
  }
}
