import { assert, describe, it } from "@effect/vitest"
import { FastCheck as fc } from "effect"
import * as C from "../../src/wire/ClientRecords.js"
import { Op } from "../../src/wire/Codes.js"
import { decodeWith, encodeWith, JuteReader, JuteWriter } from "../../src/wire/Jute.js"
import * as T from "../../src/wire/TxnRecords.js"
import { WireError } from "../../src/wire/WireError.js"

const hex = (b: Uint8Array): string => Buffer.from(b).toString("hex")
const fromHex = (h: string): Uint8Array => Uint8Array.from(Buffer.from(h.replace(/\s+/g, ""), "hex"))

describe("JuteReader / JuteWriter", () => {
  it("keeps a leading U+FEFF in strings (the default TextDecoder would drop it)", () => {
    for (const s of ["\uFEFF/a", "\uFEFF" + "é".repeat(40), "\uFEFF" + "x".repeat(100)]) {
      const bytes = encodeWith((w, v: string) => w.ustring(v), s)
      assert.strictEqual(decodeWith((r) => r.string(), bytes), s)
    }
  })

  it("null / empty buffers and strings are distinct (-1 vs 0)", () => {
    const w = new JuteWriter(0) // a zero-sized writer must grow, not spin
    w.buffer(null).buffer(new Uint8Array(0)).ustring(null).ustring("")
    assert.strictEqual(hex(w.copy()), "ffffffff00000000ffffffff00000000")
    const r = new JuteReader(w.copy())
    assert.strictEqual(r.buffer(), null)
    assert.deepStrictEqual(r.buffer(), new Uint8Array(0))
    assert.strictEqual(r.ustring(), null)
    assert.strictEqual(r.ustring(), "")
    r.done()
  })

  it("long() is exact within ±2^53 and refuses more; looseLong() accepts every long", () => {
    const big = fromHex("7fff000000000000")
    assert.throws(() => new JuteReader(big).long(), WireError, "LongOutOfRange")
    assert.strictEqual(new JuteReader(big).looseLong(), 0x7fff000000000000)
    for (const h of ["7fffffffffffffff", "8000000000000000", "ffffffffffffffff", "001fffffffffffff", "ffe0000000000001", "0000000100000002"]) {
      const v = new JuteReader(fromHex(h)).looseLong()
      const back = hex(encodeWith((w, x: number) => w.long(x), v))
      const exact = BigInt.asIntN(64, BigInt("0x" + h))
      // Exact where a double can hold the value; otherwise the nearest double, written back saturated.
      if (BigInt(v) === exact) assert.strictEqual(back, h)
      else assert.strictEqual(h, "7fffffffffffffff") // 2^63 rounds up and saturates back to Long.MAX_VALUE
    }
  })

  it.prop("long round-trips every safe integer", [fc.maxSafeInteger()], ([v]) => {
    const b = encodeWith((w, x: number) => w.long(x), v)
    assert.strictEqual(new JuteReader(b).long(), v)
    assert.strictEqual(new JuteReader(b).looseLong(), v)
    assert.strictEqual(new JuteReader(b).bigLong(), BigInt(v))
  })

  it("writing a non-integer long is refused instead of writing garbage", () => {
    for (const v of [1.5, Number.NaN, Number.POSITIVE_INFINITY]) {
      assert.throws(() => new JuteWriter().long(v), WireError, "LongOutOfRange")
    }
  })

  it("a reader window outside its array is a programming error", () => {
    assert.throws(() => new JuteReader(new Uint8Array(4), 0, 5), RangeError)
    assert.throws(() => new JuteReader(new Uint8Array(4), -1), RangeError)
    // Skipping a header of a too-short frame is an ordinary truncation.
    assert.throws(() => new JuteReader(new Uint8Array(4), 8), WireError, "Truncated")
  })

  it("vector counts larger than the bytes left are refused before allocating", () => {
    const r = new JuteReader(fromHex("7fffffff 00"))
    assert.throws(() => r.vector((x) => x.byte()), WireError, "BadLength")
    assert.throws(() => new JuteReader(fromHex("fffffffe")).vector((x) => x.byte()), WireError, "BadLength")
    assert.strictEqual(new JuteReader(fromHex("ffffffff")).vector((x) => x.byte()), null)
  })
})

describe("client records: client-chosen longs", () => {
  it("createTTL with an absurd ttl decodes (the server answers BadArguments, not a closed socket)", () => {
    const q: C.Request = { type: Op.createTTL, path: "/t", data: null, acl: [], flags: 5, ttl: 0 }
    const bytes = encodeWith(C.writeRequest, q)
    new DataView(bytes.buffer).setInt32(bytes.length - 8, 0x7fffffff)
    const back = decodeWith((r) => C.readRequest(r, Op.createTTL), bytes)
    assert.isTrue(back !== null && back.type === Op.createTTL && back.ttl > 2 ** 40)
    assert.strictEqual(hex(encodeWith(C.writeRequest, back!)), hex(bytes))
  })

  it("request header helpers", () => {
    const b = encodeWith(C.writeRequestHeader, { xid: -2, type: Op.ping })
    assert.strictEqual(hex(b), "fffffffe0000000b")
    assert.deepStrictEqual(decodeWith(C.readRequestHeader, b), { xid: -2, type: Op.ping })
  })
})

describe("txn entries: optional parts", () => {
  const header = (type: number) => ({ clientId: 0x0100000bf85f0000n, cxid: 1, zxid: 2, time: 3, type })
  const digest = { version: 2, hi: 1, lo: 0xfffffffe }

  it("CreateTxnV0 (no parentCVersion) with and without a digest", () => {
    const txn: T.Txn = { type: Op.create, path: "/v0", data: null, acl: [], ephemeral: false, parentCVersion: -1 }
    for (const d of [digest, null]) {
      const e: T.TxnEntry = { header: header(Op.create), txn, digest: d }
      const bytes = encodeWith(T.writeTxnEntry, e)
      assert.deepStrictEqual(T.readTxnEntry(bytes), e)
    }
  })

  it("closeSession without the paths2Delete body (older logs) with and without a digest", () => {
    for (const d of [digest, null]) {
      const e: T.TxnEntry = { header: header(Op.closeSession), txn: { type: Op.closeSession, paths: null }, digest: d }
      assert.deepStrictEqual(T.readTxnEntry(encodeWith(T.writeTxnEntry, e)), e)
    }
  })

  it("a record that would parse only with the digest's bytes keeps them as record bytes", () => {
    // setData whose last 12 bytes (end of data + version) look like a digest, but the record needs them.
    const e: T.TxnEntry = {
      header: header(Op.setData),
      txn: { type: Op.setData, path: "/x", data: fromHex("00000002 00000000"), version: 5 },
      digest: null
    }
    const bytes = encodeWith(T.writeTxnEntry, e)
    assert.strictEqual(hex(bytes.subarray(bytes.length - 12)), "000000020000000000000005")
    assert.deepStrictEqual(T.readTxnEntry(bytes), e)
  })

  it("refuses a nested multi, an unknown type and trailing garbage", () => {
    const nested = new JuteWriter()
    T.writeTxnHeader(nested, header(Op.multi))
    nested.int(1).int(Op.multi).buffer(fromHex("00000000"))
    assert.throws(() => T.readTxnEntry(nested.copy()), WireError, "nested multi")
    const unknown = encodeWith(T.writeTxnHeader, header(77))
    assert.throws(() => T.readTxnEntry(unknown), WireError, "unknown txn type")
    const trailing = encodeWith(T.writeTxnEntry, { header: header(Op.createSession), txn: { type: Op.createSession, timeOut: 1 }, digest: null })
    assert.throws(() => T.readTxnEntry(Uint8Array.from([...trailing, 1, 2, 3])), WireError)
  })
})
