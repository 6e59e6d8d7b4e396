/**
 * Golden tests of the election-port codecs against ZooKeeper 3.8.0's captured ensemble traffic
 * (vectors/ensemble.jsonl, channel "election"): initial messages and version-2 notifications
 * decode to the documented fields and re-encode to the identical bytes; each connection's byte
 * stream splits back into them from random chunk sizes. The older notification forms (not
 * captured) are built by hand from quorum.md §1.4.
 */
import { assert, describe, it } from "@effect/vitest"
import { FastCheck as fc, Schema } from "effect"
import * as E from "../../src/wire/Election.js"
import { Frame } from "../../src/wire/index.js"
import { JuteWriter } from "../../src/wire/Jute.js"
import { WireError } from "../../src/wire/WireError.js"
import * as S from "../../src/wire/Schemas.js"
import * as V from "./vectors.js"

const lines = V.readJsonl("ensemble.jsonl").filter((l) => l["channel"] === "election")
const initials = lines.filter((l) => l["decoded"]["record"] === "InitialMessage")
const notifications = lines.filter((l) => l["decoded"]["record"] === "Notification")

const encodeInitial = (m: E.InitialMessage): Uint8Array => {
  const w = new JuteWriter(32)
  E.writeInitialMessage(w, m)
  return w.copy()
}

describe("election golden vectors (ZooKeeper 3.8.0 ensemble)", () => {
  it("holds initial messages and notifications only", () => {
    assert.strictEqual(initials.length, 13)
    assert.strictEqual(notifications.length, 69)
    assert.strictEqual(initials.length + notifications.length, lines.length)
  })

  it("initial messages decode to the documented fields and re-encode byte for byte", () => {
    for (const line of initials) {
      const bytes = V.fromHex(line["hex"])
      const parsed = E.parseInitialMessage(bytes)!
      assert.strictEqual(parsed.size, bytes.length)
      const m = parsed.message
      const want = line["decoded"]
      assert.deepStrictEqual(
        { record: "InitialMessage", protocolVersion: m.protocolVersion, sid: m.sid, addrLength: new TextEncoder().encode(m.addr!).length, addr: m.addr },
        want
      )
      assert.deepStrictEqual(E.addresses(m), [want["addr"]])
      assert.strictEqual(V.toHex(encodeInitial(m)), line["hex"])
      // Every prefix is "need more", never an error.
      for (let n = 0; n < bytes.length; n++) assert.isNull(E.parseInitialMessage(bytes.subarray(0, n)))
    }
  })

  it("notifications decode to the documented fields and re-encode byte for byte", () => {
    const states = new Set<number>()
    for (const line of notifications) {
      const bytes = V.fromHex(line["hex"])
      const payload = bytes.subarray(4)
      assert.strictEqual(new DataView(bytes.buffer).getInt32(0), payload.length)
      const n = E.decodeNotification(payload)
      const config = new TextEncoder().encode(n.config!)
      const got = {
        record: "Notification",
        state: n.state,
        leader: V.longJson(n.leader),
        zxid: V.longJson(n.zxid),
        electionEpoch: V.longJson(n.electionEpoch),
        peerEpoch: V.longJson(n.peerEpoch),
        version: n.version,
        configLength: config.length,
        config: n.config
      }
      assert.deepStrictEqual(got, line["decoded"], line["note"])
      assert.strictEqual(V.toHex(E.encodeNotificationFrame(n)), line["hex"], line["note"])
      states.add(n.state)
    }
    assert.deepStrictEqual([...states].sort(), [E.ServerState.LOOKING, E.ServerState.FOLLOWING, E.ServerState.LEADING])
  })

  it("a non-voter's vote carries Long.MIN_VALUE, exactly", () => {
    const n: E.Notification = { state: 0, leader: E.NON_VOTER, zxid: E.NON_VOTER, electionEpoch: 1, peerEpoch: E.NON_VOTER, version: 2, config: "version=0" }
    const frame = E.encodeNotificationFrame(n)
    assert.strictEqual(V.toHex(frame.subarray(8, 16)), "8000000000000000")
    assert.deepStrictEqual(E.decodeNotification(frame.subarray(4)), n)
  })
})

describe("older notification forms (quorum.md §1.4)", () => {
  const vote = (w: JuteWriter) => w.int(E.ServerState.LOOKING).long(2).long(0x300000007).long(5)

  it("28 bytes: no peerEpoch (taken from the zxid), version 0", () => {
    const b = vote(new JuteWriter()).copy()
    assert.strictEqual(b.length, 28)
    assert.deepStrictEqual(E.decodeNotification(b), { state: 0, leader: 2, zxid: 0x300000007, electionEpoch: 5, peerEpoch: 3, version: 0, config: null })
  })

  it("40 bytes: peerEpoch; the trailing version is not read", () => {
    const b = vote(new JuteWriter()).long(4).int(7).copy()
    assert.deepStrictEqual(E.decodeNotification(b), { state: 0, leader: 2, zxid: 0x300000007, electionEpoch: 5, peerEpoch: 4, version: 0, config: null })
  })

  it("version 1: no config; version 2: configLength must fit the payload", () => {
    const v1 = vote(new JuteWriter()).long(4).int(1).int(0).copy()
    assert.deepStrictEqual(E.decodeNotification(v1).config, null)
    assert.strictEqual(E.decodeNotification(v1).version, 1)
    const bad = vote(new JuteWriter()).long(4).int(2).int(1000).copy()
    assert.throws(() => E.decodeNotification(bad), WireError, "BadLength")
    const short = vote(new JuteWriter()).long(4).int(2).int(10).int(0).copy()
    assert.throws(() => E.decodeNotification(short), WireError, "Truncated")
    assert.throws(() => E.decodeNotification(new Uint8Array(27)), WireError)
  })
})

describe("initial message forms", () => {
  it("a pre-3.5 peer sends only its sid", () => {
    const b = V.fromHex("0000000000000005")
    assert.deepStrictEqual(E.parseInitialMessage(b), { message: { protocolVersion: null, sid: 5, addr: null }, size: 8 })
    assert.strictEqual(V.toHex(encodeInitial({ protocolVersion: null, sid: 5, addr: null })), "0000000000000005")
  })

  it("V2 carries several addresses joined by '|'", () => {
    const m: E.InitialMessage = { protocolVersion: E.PROTOCOL_V2, sid: 9, addr: "10.0.0.1:3888|[::1]:3888" }
    const b = encodeInitial(m)
    assert.strictEqual(V.toHex(b.subarray(0, 8)), "ffffffffffff0001")
    assert.deepStrictEqual(E.parseInitialMessage(b)!.message, m)
    assert.deepStrictEqual(E.addresses(m), ["10.0.0.1:3888", "[::1]:3888"])
  })

  it("refuses an unknown version and an address outside 1..2048 bytes", () => {
    assert.throws(() => E.parseInitialMessage(V.fromHex("fffffffffffeffff0000000000000001")), WireError)
    const len = (n: number) => new JuteWriter().long(E.PROTOCOL_V1).long(1).int(n).copy()
    assert.throws(() => E.parseInitialMessage(len(0)), WireError, "BadLength")
    assert.throws(() => E.parseInitialMessage(len(2049)), WireError, "BadLength")
    assert.isNull(E.parseInitialMessage(len(2048)))
  })
})

// ---------------------------------------------------------------------------------------------
// Stream splitting

/** Each captured connection direction: its bytes, whether it opens with a handshake, its frames. */
const directions = () => {
  const byKey = new Map<string, { chunks: Array<Uint8Array>; initial: string | null; frames: Array<string> }>()
  for (const line of lines) {
    const key = `${line["conn"]} ${line["flow"]}`
    const d = byKey.get(key) ?? { chunks: [], initial: null, frames: [] }
    byKey.set(key, d)
    d.chunks.push(V.fromHex(line["hex"]))
    if (line["decoded"]["record"] === "InitialMessage") d.initial = line["hex"]
    else d.frames.push(line["hex"].slice(8))
  }
  return [...byKey.values()].map((d) => ({ ...d, bytes: Uint8Array.from(Buffer.concat(d.chunks)) }))
}

describe("ElectionStreamReader", () => {
  const all = directions()

  it.prop(
    "splits every captured direction (handshake + frames) from random chunk sizes",
    [fc.array(fc.integer({ min: 1, max: 60 }), { minLength: 1, maxLength: 10 })],
    ([cuts]) => {
      for (const d of all) {
        const reader = new E.ElectionStreamReader({ handshake: d.initial !== null })
        const frames: Array<string> = []
        for (let pos = 0, i = 0; pos < d.bytes.length; i++) {
          const n = cuts[i % cuts.length]!
          for (const f of reader.feed(d.bytes.subarray(pos, pos + n))) frames.push(V.toHex(f))
          pos += n
        }
        assert.deepStrictEqual(frames, d.frames)
        if (d.initial !== null) assert.strictEqual(V.toHex(encodeInitial(reader.initial!)), d.initial)
      }
    },
    { fastCheck: { numRuns: 50 } }
  )

  it("refuses empty frames and frames over 512 KiB, and stays failed", () => {
    const reader = new E.ElectionStreamReader({ handshake: false })
    assert.throws(() => reader.feed(V.fromHex("00000000")), WireError, "BadLength")
    assert.throws(() => reader.feed(Frame.frame(new Uint8Array(40))), WireError)
    const big = new E.ElectionStreamReader({ handshake: false })
    assert.throws(() => big.feed(V.fromHex("00080001")), WireError, "FrameTooLarge")
    assert.deepStrictEqual(new E.ElectionStreamReader({ handshake: false }).feed(V.fromHex("0008000000")), [])
  })
})

// ---------------------------------------------------------------------------------------------
// Schemas (STYLE §2.8)

describe("election Schemas: decode(encode(x)) = x", () => {
  const roundTrip = <A>(schema: Schema.Schema<A, Uint8Array>, x: A): void => {
    const bytes = Schema.encodeSync(schema)(x)
    const back = Schema.decodeSync(schema)(bytes)
    assert.deepStrictEqual(back, x)
    assert.deepStrictEqual(Schema.encodeSync(schema)(back), bytes)
  }
  it.prop("Notification (40-byte form and version ≥ 2)", [S.Notification], ([x]) => roundTrip(S.NotificationFromBytes, x), { fastCheck: { numRuns: 300 } })
  it.prop("InitialMessage (pre-3.5, V1, V2)", [S.InitialMessage], ([x]) => roundTrip(S.InitialMessageFromBytes, x), { fastCheck: { numRuns: 300 } })
})
