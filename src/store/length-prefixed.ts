/**
 * Strings as u32 little-endian byte length + UTF-8, the field the store's small binary encodings (index-codecs.ts,
 * summary-log.ts) are made of.
 */

/** Writes `s` at `at` (the caller sized `out` for it); returns where the next field starts. */
export function writeString(out: Buffer, at: number, s: string): number {
  const length = out.write(s, at + 4, 'utf8')
  out.writeUInt32LE(length, at)
  return at + 4 + length
}

/** Reads fields in order from `bytes`; `at` is where the next one starts. */
export class FieldReader {
  constructor(
    private readonly bytes: Buffer,
    public at = 0,
  ) {}

  string(): string {
    const length = this.bytes.readUInt32LE(this.at)
    const s = this.bytes.toString('utf8', this.at + 4, this.at + 4 + length)
    this.at += 4 + length
    return s
  }
}
