/**
 * Property tests (STYLE §2.8): for every record, values drawn from the record's Schema survive
 * encode → decode through the `xxxFromBytes` transforms (which run the hot-path Jute codecs), and
 * the bytes are canonical (decode → encode gives them back).
 */
import { assert, describe, it } from "@effect/vitest"
import { Arbitrary, Either, FastCheck as fc, Schema } from "effect"
import * as C from "../../src/wire/ClientRecords.js"
import { decodeWith, encodeWith, JuteReader } from "../../src/wire/Jute.js"
import * as S from "../../src/wire/Schemas.js"
import * as T from "../../src/wire/TxnRecords.js"

const runs = { fastCheck: { numRuns: 300 } }

/** decode(encode(x)) = x and encode(decode(bytes)) = bytes through a FromBytes schema. */
const roundTrip = <A>(schema: Schema.Schema<A, Uint8Array>) => (x: A) => {
  const bytes = Schema.encodeSync(schema)(x)
  const back = Schema.decodeSync(schema)(bytes)
  assert.deepStrictEqual(back, x)
  assert.deepStrictEqual(Schema.encodeSync(schema)(back), bytes)
}

describe("Schemas: decode(encode(x)) = x", () => {
  it.prop("Id", [S.Id], ([x]) => roundTrip(S.IdFromBytes)(x), runs)
  it.prop("ACL", [S.ACL], ([x]) => roundTrip(S.ACLFromBytes)(x), runs)
  it.prop("Stat", [S.Stat], ([x]) => roundTrip(S.StatFromBytes)(x), runs)
  it.prop("ConnectRequest", [S.ConnectRequest], ([x]) => roundTrip(S.ConnectRequestFromBytes)(x), runs)
  it.prop("ConnectResponse", [S.ConnectResponse], ([x]) => roundTrip(S.ConnectResponseFromBytes)(x), runs)
  it.prop("RequestHeader", [S.RequestHeader], ([x]) => roundTrip(S.RequestHeaderFromBytes)(x), runs)
  it.prop("ReplyHeader", [S.ReplyHeader], ([x]) => roundTrip(S.ReplyHeaderFromBytes)(x), runs)
  it.prop("WatcherEvent", [S.WatcherEvent], ([x]) => roundTrip(S.WatcherEventFromBytes)(x), runs)
  it.prop("ClientRequest (RequestHeader + every Request)", [S.ClientRequest], ([x]) => roundTrip(S.ClientRequestFromBytes)(x), {
    fastCheck: { numRuns: 1000 }
  })
  it.prop("TxnHeader", [S.TxnHeader], ([x]) => roundTrip(S.TxnHeaderFromBytes)(x), runs)
  it.prop("TxnDigest", [S.TxnDigest], ([x]) => roundTrip(S.TxnDigestFromBytes)(x), runs)
  it.prop("TxnEntry (header + every Txn + digest)", [S.TxnEntry], ([x]) => roundTrip(S.TxnEntryFromBytes)(x), {
    fastCheck: { numRuns: 1000 }
  })

  it.prop("Txn alone, read back by its type", [S.Txn], ([t]) => {
    const bytes = encodeWith(T.writeTxn, t)
    assert.deepStrictEqual(decodeWith((r) => T.readTxn(r, t.type), bytes), t)
  }, runs)

  it.prop("Request alone, read back by its opcode", [S.Request], ([q]) => {
    const bytes = encodeWith(C.writeRequest, q)
    assert.deepStrictEqual(decodeWith((r) => C.readRequest(r, q.type), bytes), q)
  }, runs)

  it.prop("Response, read back by an opcode of its shape", [S.Response], ([res]) => {
    const bytes = encodeWith(C.writeResponse, res)
    assert.deepStrictEqual(decodeWith((r) => C.readResponse(r, S.opForResponse[res.type]), bytes), res)
  }, runs)

  it.prop("MultiResponse", [fc.array(Arbitrary.make(S.MultiResult), { maxLength: 5 })], ([results]) => {
    const bytes = encodeWith(C.writeMultiResponse, results)
    assert.deepStrictEqual(decodeWith(C.readMultiResponse, bytes), results)
  }, runs)
})

describe("Schemas: FromBytes failures are parse errors", () => {
  it("truncated bytes fail with a ParseError, not an exception", () => {
    const stat = Schema.encodeSync(S.StatFromBytes)({
      czxid: 1, mzxid: 2, ctime: 3, mtime: 4, version: 5, cversion: 6, aversion: 7,
      ephemeralOwner: 0x0100000bf85f0000n, dataLength: 8, numChildren: 9, pzxid: 10
    })
    assert.strictEqual(stat.length, 68)
    const r = Schema.decodeEither(S.StatFromBytes)(stat.subarray(0, 67))
    assert.isTrue(Either.isLeft(r))
    assert.isTrue(Either.isLeft(Schema.decodeEither(S.StatFromBytes)(new Uint8Array([...stat, 0]))), "trailing byte")
  })

  it("a ConnectRequest claiming a zxid beyond 2^53 (client_edge conn 8) decodes through the schema too", () => {
    const payload = Uint8Array.from(Buffer.from("000000007fff000000000000000013880000000000000000000000100000000000000000000000000000000000", "hex"))
    const c = Schema.decodeSync(S.ConnectRequestFromBytes)(payload)
    assert.strictEqual(c.lastZxidSeen, 0x7fff000000000000)
    assert.deepStrictEqual(Schema.encodeSync(S.ConnectRequestFromBytes)(c), payload)
  })

  it("an unknown opcode is a ParseError for ClientRequestFromBytes", () => {
    const bytes = Uint8Array.from([0, 0, 0, 1, 0, 0, 3, 0xe7, 0, 0, 0, 0])
    assert.isTrue(Either.isLeft(Schema.decodeEither(S.ClientRequestFromBytes)(bytes)))
  })

  it("an inconsistent TxnEntry is refused on encode", () => {
    const bad = {
      header: { clientId: 1n, cxid: 0, zxid: 1, time: 0, type: -1 },
      txn: { type: -1 as const, err: -110 },
      digest: { version: 2, hi: 0, lo: 1 }
    }
    assert.isTrue(Either.isLeft(Schema.encodeEither(S.TxnEntryFromBytes)(bad)))
  })

  it("schema values hand straight to the hot-path writers (types line up)", () => {
    const q = fc.sample(Arbitrary.make(S.Request), { numRuns: 20, seed: 7 })
    for (const x of q) {
      const r = new JuteReader(encodeWith(C.writeRequest, x))
      assert.deepStrictEqual(C.readRequest(r, x.type), x)
    }
  })
})
