/**
 * Jute binary archive: the big-endian encoding every ZooKeeper record uses (client.md §1).
 * Hand-written over DataView because it sits on the per-request hot path; records are plain
 * functions built from these primitives.
 */
import { WireError } from "./WireError.js"

// ignoreBOM: keep a leading U+FEFF as a character (Java does); the default would silently drop it.
const utf8Decoder = new TextDecoder("utf-8", { ignoreBOM: true })
const utf8Encoder = new TextEncoder()

/** Largest epoch whose zxid still fits a JS number exactly (zxid = epoch·2^32 + counter < 2^53). */
const MAX_SAFE_HIGH = 0x1fffff

/** 2^32 and 2^63 as numbers, for splitting longs into halves. */
const TWO_32 = 4294967296
const TWO_63 = 9223372036854775808

/** Sequential reader over one complete record; every read is bounds-checked and throws WireError. */
export class JuteReader {
  readonly view: DataView
  pos: number
  constructor(
    readonly bytes: Uint8Array,
    start = 0,
    readonly end = bytes.length,
    /** Largest buffer/string length accepted (jute.maxbuffer + extrasize in ZooKeeper). */
    readonly maxField = 0x1ffffe
  ) {
    // A window past the array would turn bounds checks into DataView RangeErrors (a caller bug);
    // a start past the end is just a record that is too short, as callers skipping a header expect.
    if (start < 0 || end > bytes.length) throw new RangeError(`JuteReader window ${start}..${end} of ${bytes.length}`)
    if (start > end) throw new WireError({ reason: "Truncated", detail: `record starts at ${start} of ${end}` })
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
    this.pos = start
  }

  get remaining(): number {
    return this.end - this.pos
  }

  private need(n: number): void {
    if (this.pos + n > this.end) throw new WireError({ reason: "Truncated", detail: `need ${n} bytes at ${this.pos}` })
  }

  byte(): number {
    this.need(1)
    return this.view.getInt8(this.pos++)
  }

  bool(): boolean {
    this.need(1)
    return this.bytes[this.pos++] !== 0
  }

  int(): number {
    this.need(4)
    const v = this.view.getInt32(this.pos)
    this.pos += 4
    return v
  }

  /** A long that must fit a JS number exactly (zxids, times, ttls); larger values are a WireError. */
  long(): number {
    this.need(8)
    const hi = this.view.getInt32(this.pos)
    const lo = this.view.getUint32(this.pos + 4)
    this.pos += 8
    if (hi > MAX_SAFE_HIGH || hi < -MAX_SAFE_HIGH - 1) {
      throw new WireError({ reason: "LongOutOfRange", detail: `0x${(hi >>> 0).toString(16)}${lo.toString(16).padStart(8, "0")}` })
    }
    return hi * TWO_32 + lo
  }

  /**
   * A long as the nearest JS number: exact within ±2^53, rounded (but order-preserving) beyond.
   * For client-controlled fields the server only compares or range-checks (lastZxidSeen, ttl,
   * relativeZxid, curConfigId): ZooKeeper answers those with an error code instead of closing the
   * connection, so they must not fail to decode. `JuteWriter.long` writes the value back exactly.
   */
  looseLong(): number {
    this.need(8)
    const hi = this.view.getInt32(this.pos)
    const lo = this.view.getUint32(this.pos + 4)
    this.pos += 8
    return hi * TWO_32 + lo
  }

  /** A full 64-bit long (session ids, ephemeral owners). */
  bigLong(): bigint {
    this.need(8)
    const v = this.view.getBigInt64(this.pos)
    this.pos += 8
    return v
  }

  private length(): number {
    const n = this.int()
    if (n < -1 || n > this.maxField) throw new WireError({ reason: "BadLength", detail: `length ${n} at ${this.pos - 4}` })
    if (n > 0) this.need(n)
    return n
  }

  /** A buffer as a view into the source bytes (no copy; valid while they are); -1 length is null. */
  bufferView(): Uint8Array | null {
    const n = this.length()
    if (n < 0) return null
    const out = this.bytes.subarray(this.pos, this.pos + n)
    this.pos += n
    return out
  }

  /** A buffer as a copy (so it may outlive the frame it came from); -1 length is null. */
  buffer(): Uint8Array | null {
    const n = this.length()
    if (n < 0) return null
    const out = this.bytes.slice(this.pos, this.pos + n)
    this.pos += n
    return out
  }

  ustring(): string | null {
    const n = this.length()
    if (n < 0) return null
    const start = this.pos
    this.pos += n
    return decodeUtf8(this.bytes, start, start + n)
  }

  /** A string that must not be null (paths, schemes); null is read as "". */
  string(): string {
    return this.ustring() ?? ""
  }

  vector<A>(item: (r: JuteReader) => A): Array<A> | null {
    const n = this.int()
    if (n < 0) {
      if (n === -1) return null
      throw new WireError({ reason: "BadLength", detail: `vector count ${n}` })
    }
    // Every element takes at least one byte, so a count larger than what is left is a lie.
    if (n > this.remaining) throw new WireError({ reason: "BadLength", detail: `vector count ${n} > ${this.remaining} bytes left` })
    const out = new Array<A>(n)
    for (let i = 0; i < n; i++) out[i] = item(this)
    return out
  }

  /** Fails unless the record consumed exactly its bytes. */
  done(): void {
    if (this.pos !== this.end) throw new WireError({ reason: "TrailingBytes", detail: `${this.end - this.pos} bytes left` })
  }
}

/** Decodes UTF-8 with a fast path for the short ASCII strings that paths usually are. */
export const decodeUtf8 = (bytes: Uint8Array, start: number, end: number): string => {
  // Below 13 characters V8 builds flat strings from concatenation, which beats a decoder call;
  // longer ones would become ropes that every Map lookup has to flatten, so decode them at once.
  if (end - start < 13) {
    let s = ""
    for (let i = start; i < end; i++) {
      const b = bytes[i]!
      if (b >= 0x80) return utf8Decoder.decode(bytes.subarray(start, end))
      s += String.fromCharCode(b)
    }
    return s
  }
  return utf8Decoder.decode(bytes.subarray(start, end))
}

/** Bytes needed to encode s as UTF-8 (surrogate pairs as one 4-byte sequence). */
export const utf8Length = (s: string): number => {
  let n = 0
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i)
    if (c < 0x80) n += 1
    else if (c < 0x800) n += 2
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1)
      if (d >= 0xdc00 && d <= 0xdfff) {
        n += 4
        i++
      } else n += 3
    } else n += 3
  }
  return n
}

export const encodeUtf8 = (s: string): Uint8Array => utf8Encoder.encode(s)

/**
 * Growable writer. The hot path reuses one instance: `reset()`, write a record, then `copy()`
 * (or `frame()` for a length-prefixed copy) and hand that to the socket.
 */
export class JuteWriter {
  bytes: Uint8Array
  view: DataView
  pos = 0

  constructor(initial = 1024) {
    this.bytes = new Uint8Array(initial)
    this.view = new DataView(this.bytes.buffer)
  }

  reset(): this {
    this.pos = 0
    return this
  }

  ensure(n: number): void {
    if (this.pos + n <= this.bytes.length) return
    // max(.., 64): doubling a zero-sized buffer would loop forever.
    let size = Math.max(this.bytes.length * 2, 64)
    while (size < this.pos + n) size *= 2
    const next = new Uint8Array(size)
    next.set(this.bytes.subarray(0, this.pos))
    this.bytes = next
    this.view = new DataView(next.buffer)
  }

  byte(v: number): this {
    this.ensure(1)
    this.view.setInt8(this.pos++, v)
    return this
  }

  bool(v: boolean): this {
    this.ensure(1)
    this.bytes[this.pos++] = v ? 1 : 0
    return this
  }

  int(v: number): this {
    this.ensure(4)
    this.view.setInt32(this.pos, v)
    this.pos += 4
    return this
  }

  /**
   * A long given as a JS number. Integers within ±2^53 are exact; larger ones (from `looseLong`)
   * are written as the 64-bit value they stand for, saturating at Long.MAX_VALUE. A non-integer
   * is a bug in the caller and throws instead of silently writing garbage.
   */
  long(v: number): this {
    if (!Number.isInteger(v)) throw new WireError({ reason: "LongOutOfRange", detail: `not an integer: ${v}` })
    this.ensure(8)
    if (v >= TWO_63) {
      this.view.setInt32(this.pos, 0x7fffffff)
      this.view.setUint32(this.pos + 4, 0xffffffff)
    } else if (v < -TWO_63) {
      this.view.setInt32(this.pos, -0x80000000)
      this.view.setUint32(this.pos + 4, 0)
    } else {
      const hi = Math.floor(v / TWO_32)
      this.view.setInt32(this.pos, hi)
      this.view.setUint32(this.pos + 4, v - hi * TWO_32)
    }
    this.pos += 8
    return this
  }

  bigLong(v: bigint): this {
    this.ensure(8)
    this.view.setBigInt64(this.pos, v)
    this.pos += 8
    return this
  }

  buffer(b: Uint8Array | null): this {
    if (b === null) return this.int(-1)
    this.ensure(4 + b.length)
    this.view.setInt32(this.pos, b.length)
    this.bytes.set(b, this.pos + 4)
    this.pos += 4 + b.length
    return this
  }

  raw(b: Uint8Array): this {
    this.ensure(b.length)
    this.bytes.set(b, this.pos)
    this.pos += b.length
    return this
  }

  ustring(s: string | null): this {
    if (s === null) return this.int(-1)
    const n = s.length
    this.ensure(4 + n * 3)
    const at = this.pos + 4
    let i = 0
    // ASCII fast path; fall back to TextEncoder at the first wider character.
    for (; i < n; i++) {
      const c = s.charCodeAt(i)
      if (c >= 0x80) break
      this.bytes[at + i] = c
    }
    let len = i
    if (i < n) len = i + utf8Encoder.encodeInto(s.slice(i), this.bytes.subarray(at + i)).written
    this.view.setInt32(this.pos, len)
    this.pos = at + len
    return this
  }

  vector<A>(items: ReadonlyArray<A> | null, item: (w: JuteWriter, a: A) => void): this {
    if (items === null) return this.int(-1)
    this.int(items.length)
    for (const a of items) item(this, a)
    return this
  }

  /** Reserves 4 bytes for a length prefix and returns where they are. */
  mark(): number {
    this.int(0)
    return this.pos - 4
  }

  /** Fills a reserved length prefix with the number of bytes written after it. */
  patch(mark: number): void {
    this.view.setInt32(mark, this.pos - mark - 4)
  }

  /** A copy of what was written since `from`. */
  copy(from = 0): Uint8Array {
    return this.bytes.slice(from, this.pos)
  }
}

/** Encodes one record with a fresh writer; for cold paths and tests. */
export const encodeWith = <A>(write: (w: JuteWriter, a: A) => void, a: A): Uint8Array => {
  const w = new JuteWriter(256)
  write(w, a)
  return w.copy()
}

/** Decodes one record that must use every byte; for cold paths and tests. */
export const decodeWith = <A>(read: (r: JuteReader) => A, bytes: Uint8Array): A => {
  const r = new JuteReader(bytes)
  const a = read(r)
  r.done()
  return a
}
