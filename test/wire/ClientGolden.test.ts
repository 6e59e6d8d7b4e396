/**
 * Golden tests of the client-port codecs against Apache ZooKeeper 3.8.0's captured bytes
 * (shared/protocol/vectors/*.jsonl, copied to test/fixtures/vectors): every frame is split from the stream, decoded with our
 * readers, compared field by field with the capture's `decoded` JSON, and re-encoded to the
 * identical bytes. Frames that are not Jute records (four-letter words and their text replies,
 * the unknown opcode 999) are checked to be refused the way ZooKeeper refuses them.
 */
import { assert, describe, it } from "@effect/vitest"
import * as C from "../../src/wire/ClientRecords.js"
import { opName } from "../../src/wire/Codes.js"
import { FrameSplitter, fourLetterWord, frame } from "../../src/wire/Frame.js"
import { decodeWith, JuteReader, JuteWriter } from "../../src/wire/Jute.js"
import { WireError } from "../../src/wire/WireError.js"
import * as V from "./vectors.js"

interface Tally {
  /** Jute frames decoded, compared and re-encoded byte for byte. */
  decoded: number
  /** Frames refused as ZooKeeper refuses them (unknown opcode). */
  refused: number
  /** Four-letter words (and non-words read as a too-large length) at the start of a connection. */
  words: number
  /** Plain-text four-letter-word replies (not Jute; only checked to be text). */
  text: number
}

interface ConnState {
  clientStarted: boolean
  serverStarted: boolean
  /** Opcode of each request by xid, to know the shape of its reply. */
  readonly ops: Map<number, number>
}

const isFromClient = (flow: string): boolean => flow.startsWith("client->")

/** Re-encodes with a fresh writer and returns the bytes with their length prefix. */
const encodeFrame = (write: (w: JuteWriter) => void): Uint8Array => {
  const w = new JuteWriter(16)
  const mark = w.mark()
  write(w)
  w.patch(mark)
  return w.copy()
}

const checkPrefix = (bytes: Uint8Array): Uint8Array => {
  const len = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getInt32(0)
  assert.strictEqual(len, bytes.length - 4, "length prefix = payload size")
  return bytes.subarray(4)
}

const sameBytes = (actual: Uint8Array, expected: Uint8Array, what: string): void => {
  assert.strictEqual(V.toHex(actual), V.toHex(expected), `${what}: re-encoded bytes differ`)
}

/** Decodes one captured message, compares it with its JSON and re-encodes it. */
const checkMessage = (line: Record<string, any>, st: ConnState, tally: Tally): void => {
  const bytes = V.fromHex(line["hex"] as string)
  const expected = V.canonical(line["decoded"])
  const where = `conn ${line["conn"]} ${line["flow"]} ${line["note"] ?? ""}`
  const decoded = line["decoded"] as Record<string, any> | null

  // Not Jute: four-letter words and their replies.
  if (decoded === null || "fourLetterWord" in decoded) {
    assert.strictEqual(bytes.length, 4, where)
    assert.isTrue(isFromClient(line["flow"]) && !st.clientStarted, `${where}: a word only opens a connection`)
    const word = decoded === null ? null : (decoded["fourLetterWord"] as string)
    assert.strictEqual(fourLetterWord(bytes), word, where)
    const splitter = new FrameSplitter({ fourLetterWords: true })
    if (word !== null) {
      assert.deepStrictEqual(splitter.feed(bytes), [], where)
      assert.strictEqual(splitter.fourLetterWord, word, where)
    } else {
      // ZooKeeper reads an unknown word as a frame length, which is far too large: closed.
      assert.throws(() => splitter.feed(bytes), WireError, "FrameTooLarge")
    }
    // Without word detection (any later frame), a word is a length that is refused before allocation.
    assert.throws(() => new FrameSplitter().feed(bytes), WireError, "FrameTooLarge")
    st.clientStarted = true
    tally.words++
    return
  }
  if ("text" in decoded) {
    assert.isFalse(isFromClient(line["flow"]), where)
    assert.strictEqual(Buffer.from(bytes).toString("utf8"), decoded["text"], where)
    tally.text++
    return
  }

  const payload = checkPrefix(bytes)
  if (isFromClient(line["flow"])) {
    if (!st.clientStarted) {
      st.clientStarted = true
      const c = decodeWith(C.readConnectRequest, payload)
      assert.deepStrictEqual(V.connectRequest(c), expected, where)
      sameBytes(encodeFrame((w) => C.writeConnectRequest(w, c)), bytes, where)
      tally.decoded++
      return
    }
    const r = new JuteReader(payload)
    const h = C.readRequestHeader(r)
    const q = C.readRequest(r, h.type)
    if (q === null) {
      // Unknown opcode: no body to read; ZooKeeper answers {xid, zxid -1, Unimplemented} and closes.
      assert.strictEqual(h.type, 999, where)
      assert.strictEqual(decoded["op"], "unknown", where)
      assert.strictEqual(V.toHex(payload.subarray(r.pos)), decoded["body_hex"], where)
      st.ops.set(h.xid, h.type)
      const rest = payload.subarray(r.pos)
      sameBytes(
        encodeFrame((w) => {
          C.writeRequestHeader(w, h)
          w.raw(rest)
        }),
        bytes,
        where
      )
      tally.refused++
      return
    }
    r.done()
    assert.deepStrictEqual(V.request(h, q), expected, where)
    st.ops.set(h.xid, h.type)
    sameBytes(
      encodeFrame((w) => {
        C.writeRequestHeader(w, h)
        C.writeRequest(w, q)
      }),
      bytes,
      where
    )
    tally.decoded++
    return
  }

  if (!st.serverStarted) {
    st.serverStarted = true
    const c = decodeWith(C.readConnectResponse, payload)
    assert.deepStrictEqual(V.connectResponse(c), expected, where)
    sameBytes(encodeFrame((w) => C.writeConnectResponse(w, c)), bytes, where)
    tally.decoded++
    return
  }
  const r = new JuteReader(payload)
  const h = C.readReplyHeader(r)
  if (h.xid === -1) {
    const event = C.readWatcherEvent(r)
    r.done()
    assert.deepStrictEqual({ ...V.replyHeader(h), event: { type: event.type, state: event.state, path: event.path } }, expected, where)
    sameBytes(
      encodeFrame((w) => {
        C.writeReplyHeader(w, h)
        C.writeWatcherEvent(w, event)
      }),
      bytes,
      where
    )
    tally.decoded++
    return
  }
  const op = st.ops.get(h.xid)
  assert.isDefined(op, `${where}: reply to an xid that was never sent`)
  // Only successful replies carry a body (client.md §4.2; no sasl in the captures).
  const res: C.Response = h.err === 0 ? C.readResponse(r, op!) : { type: "empty" }
  r.done()
  assert.deepStrictEqual({ ...V.replyHeader(h), forOp: opName(op!), ...V.responseFields(op!, res) }, expected, where)
  sameBytes(
    encodeFrame((w) => {
      C.writeReplyHeader(w, h)
      C.writeResponse(w, res)
    }),
    bytes,
    where
  )
  tally.decoded++
}

/** Runs every message of `lines` (optionally filtered) through checkMessage, per connection. */
const checkAll = (lines: ReadonlyArray<Record<string, any>>): Tally => {
  const tally: Tally = { decoded: 0, refused: 0, words: 0, text: 0 }
  const conns = new Map<number, ConnState>()
  for (const line of lines) {
    let st = conns.get(line["conn"])
    if (st === undefined) conns.set(line["conn"], (st = { clientStarted: false, serverStarted: false, ops: new Map() }))
    checkMessage(line, st, tally)
  }
  return tally
}

/** Deterministic PRNG (mulberry32) so a failing cut is reproducible. */
const prng = (seed: number) => () => {
  seed = (seed + 0x6d2b79f5) | 0
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed)
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296
}

/**
 * Concatenates each (conn, direction) stream, cuts it at random points and checks that the
 * splitter returns exactly the captured frames' payloads.
 */
const checkSplitting = (lines: ReadonlyArray<Record<string, any>>, seed: number): number => {
  const streams = new Map<string, Array<Uint8Array>>()
  for (const line of lines) {
    const d = line["decoded"] as Record<string, any> | null
    if (d === null || "fourLetterWord" in d || "text" in d) continue
    const key = `${line["conn"]}/${isFromClient(line["flow"]) ? "c" : "s"}`
    if (!streams.has(key)) streams.set(key, [])
    streams.get(key)!.push(V.fromHex(line["hex"] as string))
  }
  const rnd = prng(seed)
  let frames = 0
  for (const [key, msgs] of streams) {
    const all = Buffer.concat(msgs)
    for (const maxCut of [1, 3, 7, 64, all.length]) {
      const splitter = new FrameSplitter({ fourLetterWords: key.endsWith("/c") })
      const got: Array<string> = []
      for (let pos = 0; pos < all.length; ) {
        const n = 1 + Math.floor(rnd() * maxCut)
        for (const f of splitter.feed(all.subarray(pos, pos + n))) got.push(V.toHex(f))
        pos += n
      }
      assert.strictEqual(splitter.buffered, 0, key)
      assert.strictEqual(splitter.fourLetterWord, null, key)
      assert.deepStrictEqual(got, msgs.map((m) => V.toHex(m.subarray(4))), `${key} cut ≤ ${maxCut}`)
    }
    frames += msgs.length
  }
  return frames
}

describe("client-port golden vectors", () => {
  it("client_session.jsonl: all 125 frames decode, match the capture and re-encode identically", () => {
    const lines = V.readJsonl("client_session.jsonl")
    assert.strictEqual(lines.length, 125)
    const tally = checkAll(lines)
    assert.deepStrictEqual(tally, { decoded: 125, refused: 0, words: 0, text: 0 })
    assert.strictEqual(checkSplitting(lines, 1), 125)
  })

  it("client_edge.jsonl: 77 frames round-trip, the opcode-999 request is refused as unknown", () => {
    const lines = V.readJsonl("client_edge.jsonl")
    assert.strictEqual(lines.length, 78)
    const tally = checkAll(lines)
    assert.deepStrictEqual(tally, { decoded: 77, refused: 1, words: 0, text: 0 })
    assert.strictEqual(checkSplitting(lines, 2), 78)
  })

  it("four_letter_words.jsonl: the session frames round-trip; words are detected, xyzw is too large", () => {
    const lines = V.readJsonl("four_letter_words.jsonl")
    assert.strictEqual(lines.length, 41)
    const tally = checkAll(lines)
    assert.deepStrictEqual(tally, { decoded: 12, refused: 0, words: 15, text: 14 })
    assert.strictEqual(checkSplitting(lines, 3), 12)
  })

  it("ensemble.jsonl (client channel): follower, leader and observer sessions round-trip", () => {
    const lines = V.readJsonl("ensemble.jsonl").filter((l) => l["channel"] === "client")
    assert.strictEqual(lines.length, 92)
    const tally = checkAll(lines)
    assert.deepStrictEqual(tally, { decoded: 72, refused: 0, words: 10, text: 10 })
    assert.strictEqual(checkSplitting(lines, 4), 72)
  })

  it("a ConnectRequest with lastZxidSeen beyond 2^53 decodes (edge conn 8) and re-encodes exactly", () => {
    const line = V.readJsonl("client_edge.jsonl").find((l) => l["conn"] === 8)!
    const c = decodeWith(C.readConnectRequest, V.fromHex(line["hex"] as string).subarray(4))
    assert.strictEqual(c.lastZxidSeen, 0x7fff000000000000)
    assert.isTrue(c.lastZxidSeen > Number.MAX_SAFE_INTEGER, "still compares as ahead of any server zxid")
    assert.strictEqual(V.toHex(frame(V.fromHex(line["hex"] as string).subarray(4))), line["hex"])
  })
})
