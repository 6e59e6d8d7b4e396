/**
 * Golden tests of the learner-port codecs against ZooKeeper 3.8.0's captured ensemble traffic
 * (vectors/ensemble.jsonl, channel "quorum"): every QuorumPacket decodes to the documented fields,
 * its data decodes with the layout of its type, and both the packet and the typed data re-encode
 * to the identical bytes. Each captured connection direction, SNAP stream included, is also fed
 * to the QuorumPacketReader in random chunk sizes and must come out as the same packets.
 */
import { assert, describe, it } from "@effect/vitest"
import { FastCheck as fc, Schema } from "effect"
import * as SnapStream from "../../src/storage/SnapStream.js"
import * as C from "../../src/wire/ClientRecords.js"
import { Op, opName } from "../../src/wire/Codes.js"
import { encodeWith, JuteReader } from "../../src/wire/Jute.js"
import * as Q from "../../src/wire/Quorum.js"
import * as T from "../../src/wire/TxnRecords.js"
import { WireError } from "../../src/wire/WireError.js"
import * as S from "../../src/wire/Schemas.js"
import * as V from "./vectors.js"

const lines = V.readJsonl("ensemble.jsonl").filter((l) => l["channel"] === "quorum")
const packets = lines.filter((l) => l["decoded"]["record"] === "QuorumPacket")
const treeOptions = { extendedTypes: true, digestEnabled: true }

const subBytes = (t: T.Txn): Uint8Array => encodeWith(T.writeTxn, t)

const ids = (a: ReadonlyArray<C.Id> | null) => (a === null ? null : a.map((x) => ({ scheme: x.scheme, id: x.id })))

/** The forwarded request's body in the vectors' shape. */
const requestJson = (q: Q.ForwardedRequest) => {
  let body: Record<string, unknown>
  if (q.type === Op.createSession) body = { timeOut: new JuteReader(q.body).int() }
  else {
    const r = new JuteReader(q.body)
    const req = C.readRequest(r, q.type)
    r.done()
    body = V.requestBody(req!)
  }
  return { sessionId: V.exactInt(q.sessionId), cxid: q.cxid, type: q.type, op: opName(q.type), body }
}

const txnJson = (e: T.TxnEntry) => ({
  hdr: V.txnHeader(e.header),
  op: opName(e.header.type),
  txn: V.txnRecord(e.txn, subBytes),
  digest: V.txnDigest(e.digest)
})

/**
 * Our decoding of a packet in the vectors' JSON shape, plus its data re-encoded from the typed
 * value (null when the type carries no data).
 */
const describePacket = (p: Q.QuorumPacket, touchesExpected: boolean): { json: Record<string, unknown>; data: Uint8Array | null } => {
  const base = { record: "QuorumPacket", type: p.type, typeName: Q.packetTypeName(p.type), zxid: p.zxid, authinfo: ids(p.authinfo) }
  const T_ = Q.PacketType
  switch (p.type) {
    case T_.FOLLOWERINFO:
    case T_.OBSERVERINFO: {
      const i = Q.readLearnerInfo(p.data)
      return { json: { ...base, learnerInfo: { serverid: i.sid, protocolVersion: i.protocolVersion, configVersion: i.configVersion } }, data: Q.writeLearnerInfo(i) }
    }
    case T_.LEADERINFO: {
      const v = Q.readIntData(p.data)
      return { json: { ...base, leaderInfo: { protocolVersion: v } }, data: Q.writeIntData(v) }
    }
    case T_.ACKEPOCH: {
      const v = Q.readIntData(p.data)
      return { json: { ...base, ackEpoch: { currentEpoch: v } }, data: Q.writeIntData(v) }
    }
    case T_.NEWLEADER: {
      const config = Q.readConfigText(p.data)!
      return { json: { ...base, config }, data: Q.writeConfigText(config) }
    }
    case T_.PROPOSAL:
    case T_.INFORM: {
      const e = Q.readProposal(p.data)
      return { json: { ...base, txn: txnJson(e) }, data: Q.writeProposal(e) }
    }
    case T_.REQUEST: {
      const q = Q.readForwardedRequest(p.data)
      return { json: { ...base, request: requestJson(q) }, data: Q.writeForwardedRequest(q) }
    }
    case T_.PING:
      if (touchesExpected) {
        const touches = Q.readSessionTouches(p.data)
        const json = touches.map((t) => ({ sessionId: V.exactInt(t.sessionId), timeout: t.timeout }))
        return { json: { ...base, touches: json }, data: Q.writeSessionTouches(touches) }
      }
      return { json: { ...base, data: null }, data: null }
    default:
      return { json: { ...base, data: V.buf(p.data) }, data: p.data }
  }
}

describe("quorum golden vectors (ZooKeeper 3.8.0 ensemble)", () => {
  it("covers every packet type the capture holds", () => {
    const types = new Set(packets.map((l) => l["decoded"]["typeName"] as string))
    const captured = ["REQUEST", "PROPOSAL", "ACK", "COMMIT", "PING", "SYNC", "INFORM", "NEWLEADER", "FOLLOWERINFO", "UPTODATE", "DIFF", "SNAP", "OBSERVERINFO", "LEADERINFO", "ACKEPOCH"]
    assert.deepStrictEqual([...types].sort(), captured.sort())
    assert.strictEqual(packets.length, 349)
  })

  it("every packet decodes to the documented fields and re-encodes byte for byte", () => {
    for (const line of packets) {
      const bytes = V.fromHex(line["hex"] as string)
      const where = `conn ${line["conn"]} ${line["flow"]} ${line["note"]}`
      const p = Q.decodeQuorumPacket(bytes)
      const { data, json } = describePacket(p, "touches" in line["decoded"])
      assert.deepStrictEqual(json, V.canonical(line["decoded"]), where)
      assert.strictEqual(V.toHex(Q.encodeQuorumPacket(p)), line["hex"], `${where}: packet bytes`)
      // The packet rebuilt from the typed data, not from the raw buffer.
      assert.strictEqual(V.toHex(Q.encodeQuorumPacket({ ...p, data })), line["hex"], `${where}: typed data bytes`)
    }
  })

  it("FOLLOWERINFO's documented example and LearnerInfo's short forms", () => {
    const hex = "0000000b0000000000000000000000140000000000000001000100000000000000000000ffffffff"
    const p = Q.decodeQuorumPacket(V.fromHex(hex))
    assert.deepStrictEqual(Q.readLearnerInfo(p.data), { sid: 1, protocolVersion: Q.PROTOCOL_VERSION, configVersion: 0 })
    assert.deepStrictEqual(Q.readLearnerInfo(V.fromHex("0000000000000007")), { sid: 7, protocolVersion: null, configVersion: null })
    assert.deepStrictEqual(Q.readLearnerInfo(V.fromHex("000000000000000700010000")), { sid: 7, protocolVersion: 0x10000, configVersion: null })
    assert.strictEqual(V.toHex(Q.writeLearnerInfo({ sid: 7, protocolVersion: 0x10000, configVersion: null })), "000000000000000700010000")
    assert.throws(() => Q.readLearnerInfo(V.fromHex("00000000000007")), WireError)
  })

  it("REVALIDATE (not captured) in both directions, and COMMITANDACTIVATE's sid", () => {
    const ask = { sessionId: 0x0100000bf85f0000n, timeout: 30000 }
    assert.strictEqual(V.toHex(Q.writeRevalidateRequest(ask)), "0100000bf85f000000007530")
    assert.deepStrictEqual(Q.readRevalidateRequest(Q.writeRevalidateRequest(ask)), ask)
    const reply = { sessionId: -2n, valid: true }
    assert.strictEqual(V.toHex(Q.writeRevalidateReply(reply)), "fffffffffffffffe01")
    assert.deepStrictEqual(Q.readRevalidateReply(Q.writeRevalidateReply(reply)), reply)
    assert.strictEqual(Q.readLongData(Q.writeLongData(3)), 3)
  })

  it("a learner PING's table must be whole rows", () => {
    assert.deepStrictEqual(Q.readSessionTouches(null), [])
    assert.deepStrictEqual(Q.readSessionTouches(new Uint8Array(0)), [])
    assert.throws(() => Q.readSessionTouches(new Uint8Array(13)), WireError)
  })
})

// ---------------------------------------------------------------------------------------------
// Stream reassembly

interface Direction {
  readonly bytes: Uint8Array
  readonly packets: ReadonlyArray<string>
  readonly snapshot: string | null
}

/** Each connection direction's bytes as sent, and the packets (hex) and SNAP stream it carries. */
const directions = (): Array<Direction> => {
  const byKey = new Map<string, { chunks: Array<Uint8Array>; packets: Array<string>; snapshot: string | null }>()
  for (const line of lines) {
    const key = `${line["conn"]} ${line["flow"]}`
    const d = byKey.get(key) ?? { chunks: [], packets: [], snapshot: null }
    byKey.set(key, d)
    d.chunks.push(V.fromHex(line["hex"]))
    if (line["decoded"]["record"] === "SnapshotStream") d.snapshot = line["hex"]
    else d.packets.push(line["hex"])
  }
  return [...byKey.values()].map((d) => ({ bytes: Uint8Array.from(Buffer.concat(d.chunks)), packets: d.packets, snapshot: d.snapshot }))
}

/** Feeds a stream in the given chunk sizes; packets back as hex, and the SNAP stream if one came. */
const reassemble = (bytes: Uint8Array, cuts: ReadonlyArray<number>) => {
  const reader = new Q.QuorumPacketReader()
  const out: Array<string> = []
  let snap: SnapStream.SnapStreamDecoder | null = null
  let snapshot: string | null = null
  const push = (chunk: Uint8Array): void => {
    if (snap !== null) {
      const done = snap.feed(chunk)
      if (done === null) return
      snapshot = V.toHex(bytes.subarray(snapAt, snapAt + done.consumed))
      snap = null
      chunk = done.rest
    }
    for (const p of reader.feed(chunk)) {
      out.push(V.toHex(Q.encodeQuorumPacket(p)))
      if (p.type === Q.PacketType.SNAP) {
        assert.isTrue(reader.awaitingSnapshot)
        snap = new SnapStream.SnapStreamDecoder(p.zxid, treeOptions)
      }
    }
    if (snap !== null) {
      snapAt = fed - reader.buffered
      push(reader.takeRest())
    }
  }
  let snapAt = 0
  let fed = 0
  for (let pos = 0, i = 0; pos < bytes.length; i++) {
    const n = cuts[i % cuts.length]!
    const chunk = bytes.subarray(pos, pos + n)
    fed += chunk.length
    push(chunk)
    pos += n
  }
  assert.strictEqual(reader.buffered, 0, "nothing left over")
  return { packets: out, snapshot }
}

describe("QuorumPacketReader", () => {
  const all = directions()

  it("splits every captured direction fed whole", () => {
    assert.isAtLeast(all.length, 10)
    for (const d of all) {
      const got = reassemble(d.bytes, [d.bytes.length])
      assert.deepStrictEqual(got.packets, d.packets)
      assert.strictEqual(got.snapshot, d.snapshot)
    }
  })

  it.prop(
    "reassembles every captured direction (SNAP stream included) from random chunk sizes",
    [fc.array(fc.integer({ min: 1, max: 90 }), { minLength: 1, maxLength: 12 })],
    ([cuts]) => {
      for (const d of all) {
        const got = reassemble(d.bytes, cuts)
        assert.deepStrictEqual(got.packets, d.packets)
        assert.strictEqual(got.snapshot, d.snapshot)
      }
    },
    { fastCheck: { numRuns: 40 } }
  )

  it("refuses a packet over the limit as soon as its data length says so", () => {
    const reader = new Q.QuorumPacketReader(1000)
    const big = Q.encodeQuorumPacket({ type: Q.PacketType.PROPOSAL, zxid: 1, data: new Uint8Array(2000), authinfo: null })
    assert.throws(() => reader.feed(big.subarray(0, 16)), WireError, "FrameTooLarge")
    assert.throws(() => reader.feed(new Uint8Array(1)), WireError, "FrameTooLarge")
    assert.throws(() => new Q.QuorumPacketReader().feed(V.fromHex("00000002000000000000000100000000fffffffe")), WireError, "BadLength")
  })
})

// ---------------------------------------------------------------------------------------------
// Schemas (STYLE §2.8)

const runs = { fastCheck: { numRuns: 300 } }

/** decode(encode(x)) = x and encode(decode(bytes)) = bytes through a FromBytes schema. */
const roundTrip = <A>(schema: Schema.Schema<A, Uint8Array>, x: A): void => {
  const bytes = Schema.encodeSync(schema)(x)
  const back = Schema.decodeSync(schema)(bytes)
  assert.deepStrictEqual(back, x)
  assert.deepStrictEqual(Schema.encodeSync(schema)(back), bytes)
}

describe("quorum Schemas: decode(encode(x)) = x", () => {
  it.prop("QuorumPacket", [S.QuorumPacket], ([x]) => roundTrip(S.QuorumPacketFromBytes, x), runs)
  it.prop("LearnerInfo (8/12/20-byte forms)", [S.LearnerInfo], ([x]) => roundTrip(S.LearnerInfoFromBytes, x), runs)
  it.prop("PING session-touch table", [Schema.Array(S.SessionTouch)], ([x]) => roundTrip(S.SessionTouchesFromBytes, x), runs)
  it.prop("REQUEST data", [S.ForwardedRequest], ([x]) => roundTrip(S.ForwardedRequestFromBytes, x), runs)
  it.prop("PROPOSAL data (every txn)", [S.TxnEntry], ([e]) => {
    const packet = Q.decodeQuorumPacket(Q.encodeQuorumPacket({ type: Q.PacketType.PROPOSAL, zxid: e.header.zxid, data: Q.writeProposal(e), authinfo: null }))
    assert.deepStrictEqual(Q.readProposal(packet.data), e)
  }, runs)

  it.prop(
    "QuorumPacketReader reassembles random packets from random chunk sizes",
    [Schema.Array(S.QuorumPacket), fc.array(fc.integer({ min: 1, max: 50 }), { minLength: 1, maxLength: 8 })],
    ([ps, cuts]) => {
      const wanted = ps.filter((p) => p.type !== Q.PacketType.SNAP)
      const bytes = Uint8Array.from(Buffer.concat(wanted.map(Q.encodeQuorumPacket)))
      const reader = new Q.QuorumPacketReader()
      const got: Array<Q.QuorumPacket> = []
      for (let pos = 0, i = 0; pos < bytes.length; i++) {
        const n = cuts[i % cuts.length]!
        got.push(...reader.feed(bytes.subarray(pos, pos + n)))
        pos += n
      }
      assert.deepStrictEqual(got, wanted)
      assert.strictEqual(reader.buffered, 0)
    },
    { fastCheck: { numRuns: 100 } }
  )
})
