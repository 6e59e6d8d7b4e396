import { assert, describe, it } from "@effect/vitest"
import { FastCheck as fc } from "effect"
import { DEFAULT_MAX_FRAME, FOUR_LETTER_WORDS, FrameSplitter, fourLetterWord, frame } from "../../src/wire/Frame.js"
import { WireError } from "../../src/wire/WireError.js"

const ascii = (s: string): Uint8Array => Uint8Array.from(s, (c) => c.charCodeAt(0))
const cat = (...parts: ReadonlyArray<Uint8Array>): Uint8Array => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0))
  let at = 0
  for (const p of parts) {
    out.set(p, at)
    at += p.length
  }
  return out
}
const hex = (b: Uint8Array): string => Buffer.from(b).toString("hex")
const prefix = (len: number): Uint8Array => {
  const b = new Uint8Array(4)
  new DataView(b.buffer).setInt32(0, len)
  return b
}
const isFrameTooLarge = (e: unknown): boolean => e instanceof WireError && e.reason === "FrameTooLarge"

describe("FrameSplitter", () => {
  it("returns frames that lie inside one chunk as views, without copying", () => {
    const chunk = cat(frame(ascii("hello")), frame(ascii("")), frame(ascii("world!")))
    const frames = new FrameSplitter().feed(chunk)
    assert.deepStrictEqual(frames.map((f) => Buffer.from(f).toString()), ["hello", "", "world!"])
    for (const f of frames) assert.strictEqual(f.buffer, chunk.buffer, "a view into the chunk")
    assert.strictEqual(frames[0]!.byteOffset, 4)
  })

  it("reassembles frames cut at every possible pair of points", () => {
    const stream = cat(frame(ascii("abc")), frame(new Uint8Array(0)), frame(ascii("defghij")), frame(ascii("k")))
    const want = ["616263", "", "6465666768696a", "6b"]
    for (let i = 0; i <= stream.length; i++) {
      for (let j = i; j <= stream.length; j++) {
        const s = new FrameSplitter()
        const got = [stream.subarray(0, i), stream.subarray(i, j), stream.subarray(j)].flatMap((c) => s.feed(c).map(hex))
        assert.deepStrictEqual(got, want, `cuts at ${i}, ${j}`)
        assert.strictEqual(s.buffered, 0)
      }
    }
  })

  it.prop(
    "any framing of any payloads, cut anywhere, gives the payloads back",
    [fc.array(fc.uint8Array({ maxLength: 300 }), { maxLength: 20 }), fc.array(fc.integer({ min: 1, max: 400 }), { minLength: 1 })],
    ([payloads, cuts]) => {
      const stream = cat(...payloads.map(frame))
      const s = new FrameSplitter({ maxFrame: 300 })
      const got: Array<string> = []
      let pos = 0
      for (let i = 0; pos < stream.length; i++) {
        const n = cuts[i % cuts.length]!
        for (const f of s.feed(stream.subarray(pos, pos + n))) got.push(hex(f))
        pos += n
      }
      assert.deepStrictEqual(got, payloads.map(hex))
      assert.strictEqual(s.buffered, 0)
    }
  )

  it("refuses a length above maxFrame or below 0 as soon as the prefix is in, and stays failed", () => {
    for (const len of [DEFAULT_MAX_FRAME + 1, 0x7fffffff, -1, -0x80000000]) {
      const s = new FrameSplitter()
      // Only the 4 prefix bytes: the refusal must not wait for (or allocate) the payload.
      assert.throws(() => s.feed(prefix(len)), WireError, "FrameTooLarge")
      assert.throws(() => s.feed(frame(ascii("ok"))), WireError, "FrameTooLarge")
    }
    // A prefix split across chunks is refused the same way.
    const s = new FrameSplitter()
    assert.deepStrictEqual(s.feed(prefix(-5).subarray(0, 3)), [])
    assert.throws(() => s.feed(prefix(-5).subarray(3)), WireError, "FrameTooLarge")
  })

  it("accepts exactly maxFrame; the limit is configurable (jute.maxbuffer)", () => {
    const s = new FrameSplitter({ maxFrame: 10 })
    assert.deepStrictEqual(s.feed(frame(new Uint8Array(10))).map((f) => f.length), [10])
    assert.throws(() => s.feed(frame(new Uint8Array(11))), WireError, "FrameTooLarge")
    const big = new FrameSplitter()
    assert.deepStrictEqual(big.feed(frame(new Uint8Array(DEFAULT_MAX_FRAME))).map((f) => f.length), [DEFAULT_MAX_FRAME])
    assert.throws(() => new FrameSplitter({ maxFrame: -1 }), RangeError)
  })

  it("holds no more than what was received while a frame trickles in", () => {
    const s = new FrameSplitter()
    assert.deepStrictEqual(s.feed(prefix(DEFAULT_MAX_FRAME)), [])
    assert.strictEqual(s.buffered, 4)
    assert.deepStrictEqual(s.feed(new Uint8Array(100)), [])
    assert.strictEqual(s.buffered, 104)
  })

  it("copies what it keeps, so a read buffer may be reused after feed", () => {
    const stream = frame(ascii("partial-frame"))
    const buf = new Uint8Array(8)
    const s = new FrameSplitter()
    const got: Array<string> = []
    for (let pos = 0; pos < stream.length; pos += buf.length) {
      const n = Math.min(buf.length, stream.length - pos)
      buf.set(stream.subarray(pos, pos + n))
      for (const f of s.feed(buf.subarray(0, n))) got.push(Buffer.from(f).toString())
      buf.fill(0xee) // the socket layer reuses its buffer
    }
    assert.deepStrictEqual(got, ["partial-frame"])
  })

  it("assembles a maximal frame fed one byte at a time (timing: bench/micro.ts)", () => {
    const payload = new Uint8Array(DEFAULT_MAX_FRAME)
    for (let i = 0; i < payload.length; i++) payload[i] = i * 7
    const stream = frame(payload)
    const s = new FrameSplitter()
    const got: Array<Uint8Array> = []
    for (let i = 0; i < stream.length; i++) got.push(...s.feed(stream.subarray(i, i + 1)))
    assert.strictEqual(got.length, 1)
    assert.isTrue(Buffer.from(got[0]!).equals(Buffer.from(payload)))
  })
})

describe("four-letter words", () => {
  it("fourLetterWord knows exactly ZooKeeper's words", () => {
    for (const w of FOUR_LETTER_WORDS) assert.strictEqual(fourLetterWord(ascii(w)), w)
    assert.strictEqual(FOUR_LETTER_WORDS.size, 18)
    for (const w of ["xyzw", "RUOK", "ruo!", "\u0000\u0000\u0000-", "abcd"]) assert.strictEqual(fourLetterWord(ascii(w)), null, w)
    assert.strictEqual(fourLetterWord(ascii("ruo")), null)
    assert.strictEqual(fourLetterWord(ascii("ruokX")), "ruok", "only the first 4 bytes count")
  })

  it("the splitter detects a word at the start of a connection, whole or split", () => {
    const a = new FrameSplitter({ fourLetterWords: true })
    assert.deepStrictEqual(a.feed(ascii("ruok")), [])
    assert.strictEqual(a.fourLetterWord, "ruok")
    const b = new FrameSplitter({ fourLetterWords: true })
    assert.deepStrictEqual(b.feed(ascii("mn")), [])
    assert.strictEqual(b.fourLetterWord, null)
    assert.deepStrictEqual(b.feed(ascii("tr")), [])
    assert.strictEqual(b.fourLetterWord, "mntr")
  })

  it("keeps stmk's 8-byte argument (and at most 64 bytes) for rest()", () => {
    const s = new FrameSplitter({ fourLetterWords: true })
    assert.deepStrictEqual(s.feed(cat(ascii("stmk"), Uint8Array.of(0, 0, 0, 0))), [])
    assert.deepStrictEqual(s.feed(cat(Uint8Array.of(0, 0, 1, 0x70), new Uint8Array(100))), [])
    assert.strictEqual(s.fourLetterWord, "stmk")
    assert.strictEqual(s.rest().length, 64)
    assert.strictEqual(hex(s.rest().subarray(0, 8)), "0000000000000170")
  })

  it("an unknown word, or a word after the first frame, is a length and is refused", () => {
    assert.throws(() => new FrameSplitter({ fourLetterWords: true }).feed(ascii("xyzw")), WireError, "FrameTooLarge")
    const s = new FrameSplitter({ fourLetterWords: true })
    assert.strictEqual(s.feed(cat(frame(ascii("connect")), ascii("ru"))).length, 1)
    try {
      s.feed(ascii("ok"))
      assert.fail("expected FrameTooLarge")
    } catch (e) {
      assert.isTrue(isFrameTooLarge(e))
    }
    assert.strictEqual(s.fourLetterWord, null)
  })
})
