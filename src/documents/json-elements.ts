import { readSync } from 'node:fs'

/**
 * Where the documents of an import file are, without parsing the whole file at once: the byte spans of the elements
 * of its top-level array, or of the `features` array of a top-level object (GeoJSON), and the other members of that
 * object, parsed. Each element is then parsed on its own (JSON.parse of its span), so an import holds one document
 * at a time instead of the whole file, its text and its objects (a 124 MB file of 100,000 observations took ~700 MB).
 *
 * The scan only tracks nesting, strings and commas; what it does not check (a missing comma between two elements,
 * a stray token inside an element) makes that element's span fail JSON.parse, and anything left open, or any byte
 * after the top-level value, is reported. Scanning UTF-8 bytes is safe: a multi-byte character never contains an
 * ASCII byte.
 */
export interface JsonLayout {
  /**
   * `array`: the file is a JSON array of documents; `object`: an object, its `features` array holding them;
   * `other`: it starts with neither (another JSON value, or not JSON at all).
   */
  root: 'array' | 'object' | 'other'
  /** Start and end (exclusive) byte offsets of each element, in order: [start0, end0, start1, end1, …]. */
  spans: number[]
  /** The object's members other than `features`, parsed (empty for an array). */
  members: Record<string, unknown>
  /** Whether the object has a `features` member that is an array. */
  hasFeatures: boolean
}

export class JsonLayoutError extends Error {}

const QUOTE = 0x22
const BACKSLASH = 0x5c
const COMMA = 0x2c
const COLON = 0x3a
const OPEN_ARRAY = 0x5b
const CLOSE_ARRAY = 0x5d
const OPEN_OBJECT = 0x7b
const CLOSE_OBJECT = 0x7d
const isSpace = (b: number) => b === 0x20 || b === 0x0a || b === 0x0d || b === 0x09

const READ_BYTES = 1 << 20

/** Scans the open file `fd` of `size` bytes. */
export function scanJsonLayout(fd: number, size: number): JsonLayout {
  const scan = new Scan(fd, size)
  return scan.run()
}

/**
 * Parses elements by their spans, reading the file a window at a time: elements are read in order, and one read
 * per element (~1 KB) cost more than parsing it.
 */
export class SpanParser {
  private window: Buffer = Buffer.alloc(0)
  private windowStart = 0

  constructor(private readonly fd: number) {}

  parse(start: number, end: number): unknown {
    if (start < this.windowStart || end > this.windowStart + this.window.length) {
      this.window = readBytes(this.fd, start, start + Math.max(READ_BYTES, end - start))
      this.windowStart = start
      if (end > this.windowStart + this.window.length) throw new JsonLayoutError('the file changed while it was read')
    }
    return JSON.parse(this.window.toString('utf8', start - this.windowStart, end - this.windowStart))
  }
}

class Scan {
  private readonly buffer = Buffer.allocUnsafe(READ_BYTES)
  private bufferStart = 0
  private bufferEnd = 0

  constructor(
    private readonly fd: number,
    private readonly size: number,
  ) {}

  run(): JsonLayout {
    let at = this.skipSpace(0)
    if (at < this.size && this.byteAt(at) === 0xef && this.byteAt(at + 1) === 0xbb && this.byteAt(at + 2) === 0xbf) at = this.skipSpace(at + 3) // a UTF-8 byte-order mark
    if (at >= this.size) throw new JsonLayoutError('the file is empty')
    const first = this.byteAt(at)
    let layout: JsonLayout
    let end: number
    if (first === OPEN_ARRAY) {
      const spans: number[] = []
      end = this.elements(at, spans)
      layout = { root: 'array', spans, members: {}, hasFeatures: false }
    } else if (first === OPEN_OBJECT) {
      ;({ layout, end } = this.object(at))
    } else {
      return { root: 'other', spans: [], members: {}, hasFeatures: false }
    }
    if (this.skipSpace(end) < this.size) throw new JsonLayoutError('something follows the end of its JSON value')
    return layout
  }

  /** The elements of the array opening at `at`, as spans; returns the offset just past its `]`. */
  private elements(at: number, spans: number[]): number {
    let start = this.skipSpace(at + 1)
    if (this.byteAt(start) === CLOSE_ARRAY) return start + 1
    for (;;) {
      const end = this.valueEnd(start)
      spans.push(start, end)
      const next = this.skipSpace(end)
      const b = this.byteAt(next)
      if (b === CLOSE_ARRAY) return next + 1
      if (b !== COMMA) throw new JsonLayoutError(`an array element is not followed by , or ] at byte ${next}`)
      start = this.skipSpace(next + 1)
    }
  }

  /** The object opening at `at`: its `features` array as spans, its other members parsed. */
  private object(at: number): { layout: JsonLayout; end: number } {
    const layout: JsonLayout = { root: 'object', spans: [], members: {}, hasFeatures: false }
    let next = this.skipSpace(at + 1)
    if (this.byteAt(next) === CLOSE_OBJECT) return { layout, end: next + 1 }
    for (;;) {
      if (this.byteAt(next) !== QUOTE) throw new JsonLayoutError(`an object key is missing at byte ${next}`)
      const keyEnd = this.stringEnd(next)
      const key = this.parse(next, keyEnd) as string
      const colon = this.skipSpace(keyEnd)
      if (this.byteAt(colon) !== COLON) throw new JsonLayoutError(`a : is missing after a key at byte ${colon}`)
      const valueStart = this.skipSpace(colon + 1)
      let valueEnd: number
      // A key given twice keeps its last value, as JSON.parse does.
      if (key === 'features' && this.byteAt(valueStart) === OPEN_ARRAY) {
        layout.spans = []
        valueEnd = this.elements(valueStart, layout.spans)
        layout.hasFeatures = true
      } else {
        valueEnd = this.valueEnd(valueStart)
        const value = this.parse(valueStart, valueEnd)
        if (key === 'features') {
          layout.spans = []
          layout.hasFeatures = false
        } else {
          // Defined, not assigned: a member named __proto__ must stay a member, as JSON.parse makes it.
          Object.defineProperty(layout.members, key, { value, enumerable: true, writable: true, configurable: true })
        }
      }
      next = this.skipSpace(valueEnd)
      const b = this.byteAt(next)
      if (b === CLOSE_OBJECT) return { layout, end: next + 1 }
      if (b !== COMMA) throw new JsonLayoutError(`an object member is not followed by , or } at byte ${next}`)
      next = this.skipSpace(next + 1)
    }
  }

  /** The end (exclusive) of the value starting at `at`: a string, an array or object, or a bare token. */
  private valueEnd(at: number): number {
    const b = this.byteAt(at)
    if (b === QUOTE) return this.stringEnd(at)
    if (b !== OPEN_ARRAY && b !== OPEN_OBJECT) {
      // A number, true, false or null: up to the next delimiter; JSON.parse of the span judges it.
      let i = at
      while (i < this.size) {
        const c = this.byteAt(i)
        if (c === COMMA || c === CLOSE_ARRAY || c === CLOSE_OBJECT || isSpace(c)) break
        i++
      }
      if (i === at) throw new JsonLayoutError(`a value is missing at byte ${at}`)
      return i
    }
    let depth = 0
    for (let i = at; i < this.size; i++) {
      const c = this.byteAt(i)
      if (c === QUOTE) i = this.stringEnd(i) - 1
      else if (c === OPEN_ARRAY || c === OPEN_OBJECT) depth++
      else if (c === CLOSE_ARRAY || c === CLOSE_OBJECT) {
        depth--
        if (depth === 0) return i + 1
      }
    }
    throw new JsonLayoutError('it ends before its last array or object is closed')
  }

  /** The end (exclusive) of the string whose opening quote is at `at`. */
  private stringEnd(at: number): number {
    for (let i = at + 1; i < this.size; i++) {
      const c = this.byteAt(i)
      if (c === BACKSLASH) i++
      else if (c === QUOTE) return i + 1
    }
    throw new JsonLayoutError('it ends inside a string')
  }

  private skipSpace(at: number): number {
    while (at < this.size && isSpace(this.byteAt(at))) at++
    return at
  }

  /** JSON.parse of a key or a member's value; its complaint becomes the scan's. */
  private parse(start: number, end: number): unknown {
    const bytes = readBytes(this.fd, start, end)
    if (bytes.length < end - start) throw new JsonLayoutError('the file changed while it was read')
    try {
      return JSON.parse(bytes.toString('utf8'))
    } catch (err) {
      throw new JsonLayoutError(err instanceof Error ? err.message : 'parse error')
    }
  }

  private byteAt(at: number): number {
    if (at < this.bufferStart || at >= this.bufferEnd) this.fill(at)
    return this.buffer[at - this.bufferStart]!
  }

  private fill(at: number): void {
    if (at >= this.size) throw new JsonLayoutError('it ends too early')
    const n = readSync(this.fd, this.buffer, 0, Math.min(READ_BYTES, this.size - at), at)
    if (n === 0) throw new JsonLayoutError('the file changed while it was read')
    this.bufferStart = at
    this.bufferEnd = at + n
  }
}

/** Up to end − start bytes at start (fewer at the end of the file). */
function readBytes(fd: number, start: number, end: number): Buffer {
  const bytes = Buffer.allocUnsafe(end - start)
  let filled = 0
  while (filled < bytes.length) {
    const n = readSync(fd, bytes, filled, bytes.length - filled, start + filled)
    if (n === 0) break
    filled += n
  }
  return bytes.subarray(0, filled)
}
