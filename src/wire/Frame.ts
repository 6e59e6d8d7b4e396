/**
 * Framing of the client port (client.md §2): `int length` + payload in both directions, except
 * that the first 4 bytes of a fresh server connection may be a four-letter word (§14).
 *
 * The splitter is synchronous and allocation-light because it runs once per socket chunk:
 * a frame that lies entirely inside one chunk is returned as a `subarray` view (no copy); only a
 * frame that spans chunks is copied, into one buffer per frame (amortised O(1) copies per byte),
 * and nothing is allocated for a frame before its announced length has been checked.
 */
import { WireError } from "./WireError.js"

/** jute.maxbuffer default (0xfffff): the largest frame ZooKeeper accepts on the client port. */
export const DEFAULT_MAX_FRAME = 0xfffff

/** Four-letter words ZooKeeper 3.8 knows (client.md §14); any other first word is a length. */
export const FOUR_LETTER_WORDS: ReadonlySet<string> = new Set([
  "ruok", "srvr", "stat", "conf", "cons", "crst", "dump", "envi", "gtmk", "stmk", "srst", "wchs", "wchc", "wchp",
  "mntr", "isro", "dirs", "hash"
])

const isAsciiLetter = (b: number): boolean => (b >= 0x61 && b <= 0x7a) || (b >= 0x41 && b <= 0x5a)

/**
 * The command if the first 4 bytes of a new connection spell a known four-letter word, else null
 * (ZooKeeper then reads them as a frame length, which for ASCII letters is always too large).
 */
export const fourLetterWord = (first4: Uint8Array): string | null => {
  if (first4.length < 4) return null
  const a = first4[0]!, b = first4[1]!, c = first4[2]!, d = first4[3]!
  if (!isAsciiLetter(a) || !isAsciiLetter(b) || !isAsciiLetter(c) || !isAsciiLetter(d)) return null
  const word = String.fromCharCode(a, b, c, d)
  return FOUR_LETTER_WORDS.has(word) ? word : null
}

/** Options of a FrameSplitter. */
export interface FrameSplitterOptions {
  /** Largest accepted payload length (jute.maxbuffer); default 0xfffff. */
  readonly maxFrame?: number
  /** Check the first 4 bytes of the stream for a four-letter word (server side of a new connection). */
  readonly fourLetterWords?: boolean
}

const EMPTY = new Uint8Array(0)

/** Bytes kept after a four-letter word: only stmk has an argument (an 8-byte mask). */
const MAX_REST = 64

/**
 * Incremental splitter for one connection's byte stream.
 *
 * `feed(chunk)` returns the frames completed by that chunk, as payloads without the length
 * prefix. Frames that lie inside `chunk` are views into it: they are only guaranteed valid
 * until the next `feed` (decode or copy them before that). The splitter copies what it keeps of
 * a chunk, so a caller may reuse its read buffer once those frames have been consumed.
 * A length < 0 or > maxFrame throws WireError("FrameTooLarge") before
 * anything is allocated for that frame, and the splitter stays failed: close the connection.
 *
 * A frame that spans chunks is assembled in a buffer that grows by doubling up to the announced
 * length (so a peer that trickles bytes makes us hold at most max(64 KiB, twice what it sent),
 * never more than maxFrame), and is returned without a final copy once complete.
 *
 * With `fourLetterWords`, if the stream starts with a known word, `feed` returns no frames,
 * `fourLetterWord` holds the word and up to 64 later bytes (stmk's mask) are kept for `rest()`.
 */
export class FrameSplitter {
  readonly maxFrame: number
  /** The four-letter word the stream started with, once detected; no frames follow it. */
  fourLetterWord: string | null = null
  private checkWord: boolean
  private failed: WireError | null = null
  /** Bytes of a length prefix that spans chunks. */
  private readonly header = new Uint8Array(4)
  private headerLen = 0
  /** Length of the frame being assembled across chunks, or -1 when there is none. */
  private frameLen = -1
  private acc: Uint8Array = EMPTY
  private accLen = 0

  constructor(options: FrameSplitterOptions = {}) {
    const maxFrame = options.maxFrame ?? DEFAULT_MAX_FRAME
    if (!Number.isSafeInteger(maxFrame) || maxFrame < 0 || maxFrame > 0x7fffffff) throw new RangeError(`maxFrame ${maxFrame}`)
    this.maxFrame = maxFrame
    this.checkWord = options.fourLetterWords ?? false
  }

  /** Bytes held for an incomplete frame (for metrics and tests). */
  get buffered(): number {
    return this.frameLen < 0 ? this.headerLen : 4 + this.accLen
  }

  /** Bytes received after a four-letter word (at most 64), as a copy. */
  rest(): Uint8Array {
    return this.acc.slice(0, this.accLen)
  }

  /** Splits the next chunk of the stream; see the class comment for the lifetime of the result. */
  feed(chunk: Uint8Array): Array<Uint8Array> {
    if (this.failed !== null) throw this.failed
    const out: Array<Uint8Array> = []
    if (this.fourLetterWord !== null) {
      this.keepRest(chunk, 0)
      return out
    }
    const n = chunk.length
    let pos = 0
    while (pos < n) {
      if (this.frameLen >= 0) {
        // Continue a frame that started in an earlier chunk.
        pos = this.append(chunk, pos)
        if (this.accLen === this.frameLen) {
          out.push(this.acc.length === this.accLen ? this.acc : this.acc.subarray(0, this.accLen))
          this.frameLen = -1
          this.acc = EMPTY
          this.accLen = 0
        }
        continue
      }
      let len: number
      if (this.headerLen === 0 && n - pos >= 4) {
        // Fast path: the whole prefix is in this chunk.
        len = (chunk[pos]! << 24) | (chunk[pos + 1]! << 16) | (chunk[pos + 2]! << 8) | chunk[pos + 3]!
        if (this.checkWord && this.startWord(chunk.subarray(pos, pos + 4))) {
          this.keepRest(chunk, pos + 4)
          return out
        }
        pos += 4
      } else {
        while (this.headerLen < 4 && pos < n) this.header[this.headerLen++] = chunk[pos++]!
        if (this.headerLen < 4) break
        this.headerLen = 0
        const h = this.header
        len = (h[0]! << 24) | (h[1]! << 16) | (h[2]! << 8) | h[3]!
        if (this.checkWord && this.startWord(h)) {
          this.keepRest(chunk, pos)
          return out
        }
      }
      this.checkWord = false
      if (len < 0 || len > this.maxFrame) {
        this.failed = new WireError({ reason: "FrameTooLarge", detail: `frame length ${len} (max ${this.maxFrame})` })
        throw this.failed
      }
      if (n - pos >= len) {
        out.push(chunk.subarray(pos, pos + len))
        pos += len
      } else {
        this.frameLen = len
        pos = this.append(chunk, pos)
      }
    }
    return out
  }

  /** Copies as much of chunk[pos..] as the current frame still needs; returns the new pos. */
  private append(chunk: Uint8Array, pos: number): number {
    const take = Math.min(this.frameLen - this.accLen, chunk.length - pos)
    const need = this.accLen + take
    if (need > this.acc.length) {
      // Double, at least 64 KiB, never past the announced length (which was checked).
      const size = Math.min(this.frameLen, Math.max(need, this.acc.length * 2, 65536))
      const next = new Uint8Array(size)
      next.set(this.acc.subarray(0, this.accLen))
      this.acc = next
    }
    this.acc.set(chunk.subarray(pos, pos + take), this.accLen)
    this.accLen = need
    return pos + take
  }

  /** True (and the splitter switches to raw mode) if the stream starts with a known word. */
  private startWord(first4: Uint8Array): boolean {
    this.checkWord = false
    this.fourLetterWord = fourLetterWord(first4)
    if (this.fourLetterWord !== null) this.acc = new Uint8Array(MAX_REST)
    return this.fourLetterWord !== null
  }

  private keepRest(chunk: Uint8Array, pos: number): void {
    const take = Math.min(MAX_REST - this.accLen, chunk.length - pos)
    if (take <= 0) return
    this.acc.set(chunk.subarray(pos, pos + take), this.accLen)
    this.accLen += take
  }
}

/** Writes the 4-byte big-endian length prefix of a payload of `len` bytes into `into` at `at`. */
export const writeLengthPrefix = (into: Uint8Array, at: number, len: number): void => {
  into[at] = len >>> 24
  into[at + 1] = (len >>> 16) & 0xff
  into[at + 2] = (len >>> 8) & 0xff
  into[at + 3] = len & 0xff
}

/** A copy of `payload` with its length prefix; for cold paths and tests (the hot path uses JuteWriter.mark/patch). */
export const frame = (payload: Uint8Array): Uint8Array => {
  const out = new Uint8Array(4 + payload.length)
  writeLengthPrefix(out, 0, payload.length)
  out.set(payload, 4)
  return out
}
