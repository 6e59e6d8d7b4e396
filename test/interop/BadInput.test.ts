/**
 * Misbehaving peers on the client port: garbage, impossible frame lengths, truncated frames,
 * unknown opcodes and malformed request bodies. Each case states what ZooKeeper 3.8 does (the same
 * expectations run against it) — close the connection silently, answer an error and close, or
 * answer an error and keep going — and afterwards a well-behaved client must still be served.
 */
import { afterAll, assert, beforeAll, it } from "@effect/vitest"
import { describeTargets } from "../support/targets.js"
import { connectNzk, type NzkClient } from "./nodeZk.js"
import { openRaw, openSession, parseReply, rawRequestFrame, type RawConnection, requestFrame } from "./rawClient.js"
import { Err, Op } from "../../src/wire/Codes.js"

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/** Waits up to `ms` for the server to close `conn`; true if it did. */
const closesWithin = (conn: RawConnection, ms: number) =>
  Promise.race([conn.closed.then(() => true), sleep(ms).then(() => false)])

const openAcl = [{ perms: 31, id: { scheme: "world", id: "anyone" } }]

describeTargets("bad input on the client port", (t) => {
  let healthy: NzkClient
  const port = () => t.server().port
  beforeAll(async () => {
    healthy = await connectNzk(t.server().connectString)
    await healthy.create("/bad-input", Buffer.from("0"))
  })
  afterAll(() => healthy?.close())

  /** The long-lived client and a brand-new session both still work. */
  const stillServes = async (label: string) => {
    const v = `${label}-${Date.now()}`
    await healthy.setData("/bad-input", Buffer.from(v))
    assert.strictEqual((await healthy.getData("/bad-input")).data?.toString(), v, label)
    const fresh = await openSession(port())
    assert.isTrue(fresh.session.timeOut > 0, label)
    fresh.conn.destroy()
  }

  /** Sends `bytes` on a fresh connection (optionally after a handshake) and reports what happened. */
  const probe = async (bytes: Buffer, withSession: boolean) => {
    const conn = withSession ? (await openSession(port())).conn : await openRaw(port())
    const before = conn.received().length
    conn.write(bytes)
    const closed = await closesWithin(conn, 3000)
    const reply = conn.received().subarray(before)
    conn.destroy()
    return { closed, reply }
  }

  it("garbage instead of a ConnectRequest: closed without a reply", async () => {
    // "GET " read as a frame length is 1.2 GB, far over jute.maxbuffer.
    const http = await probe(Buffer.from("GET / HTTP/1.1\r\nHost: x\r\n\r\n"), false)
    assert.deepStrictEqual(http, { closed: true, reply: Buffer.alloc(0) })
    // A frame too short to be a ConnectRequest.
    const short = await probe(Buffer.from("0000000500000000ff", "hex"), false)
    assert.deepStrictEqual(short, { closed: true, reply: Buffer.alloc(0) })
    // A normal request as the first frame is not a ConnectRequest either.
    const early = await probe(requestFrame(1, { type: Op.getData, path: "/", watch: false }), false)
    assert.deepStrictEqual(early, { closed: true, reply: Buffer.alloc(0) })
    await stillServes("garbage")
  })

  it("impossible frame lengths after the handshake: closed without a reply", async () => {
    for (const [label, hex] of [
      ["2^31-1", "7fffffff"],
      ["negative", "fffffffb00000000"],
      ["jute.maxbuffer + 1", "00100000"],
      ["zero", "00000000"],
      ["shorter than a RequestHeader", "00000003000000"]
    ] as const) {
      const r = await probe(Buffer.from(hex, "hex"), true)
      assert.deepStrictEqual(r, { closed: true, reply: Buffer.alloc(0) }, label)
    }
    await stillServes("lengths")
  })

  it("a truncated frame: the server waits for the rest and serves everyone else meanwhile", async () => {
    const { conn } = await openSession(port())
    // Announces 100 bytes, sends 10.
    conn.write(Buffer.from("00000064000000010000000400000005", "hex"))
    assert.isFalse(await closesWithin(conn, 1000))
    await stillServes("truncated")
    assert.isFalse(conn.isClosed())
    conn.destroy()
  })

  it("an unknown opcode: Unimplemented with zxid -1, then closed; the session survives", async () => {
    const { conn, session } = await openSession(port())
    conn.write(rawRequestFrame(7, 999))
    const reply = parseReply(await conn.nextFrame())
    assert.deepStrictEqual(reply.header, { xid: 7, zxid: -1, err: Err.Unimplemented })
    assert.isTrue(await closesWithin(conn, 3000))
    // The session outlives its connection: re-attaching gets the same id back.
    const again = await openSession(port(), { session: { sessionId: session.sessionId, passwd: session.passwd } })
    assert.strictEqual(again.session.sessionId, session.sessionId)
    assert.isTrue(again.session.timeOut > 0)
    again.conn.destroy()
    await stillServes("unknown-op")
  })

  it("malformed request bodies: MarshallingError and the connection stays open", async () => {
    const { conn } = await openSession(port())
    let xid = 1
    const send = async (type: number, body: string) => {
      const x = xid++
      conn.write(rawRequestFrame(x, type, Buffer.from(body, "hex")))
      const reply = parseReply(await conn.nextFrame())
      assert.strictEqual(reply.header.xid, x)
      return reply.header
    }
    // getData whose path claims 16 bytes but carries 2.
    assert.strictEqual((await send(Op.getData, "00000010002f")).err, Err.MarshallingError)
    // getData with no body at all.
    assert.strictEqual((await send(Op.getData, "")).err, Err.MarshallingError)
    // A string length of 2^31-1.
    assert.strictEqual((await send(Op.getData, "7fffffff00")).err, Err.MarshallingError)
    // A write whose body cannot be parsed still goes through the txn pipeline: it is logged as an
    // error txn and consumes a zxid (client.md §5: "assigned a zxid even if it fails").
    const before = (await send(Op.exists, "000000012f00")).zxid
    const bad = await send(Op.create, "000000022f61")
    assert.strictEqual(bad.err, Err.MarshallingError)
    assert.strictEqual(bad.zxid, before + 1, "a malformed create consumes a zxid")
    // Still a working connection.
    conn.write(requestFrame(xid, { type: Op.exists, path: "/bad-input", watch: false }))
    assert.strictEqual(parseReply(await conn.nextFrame()).header.err, Err.Ok)
    assert.isFalse(conn.isClosed())
    conn.destroy()
    await stillServes("malformed")
  })

  it("invalid paths, flags and ACLs get their documented errors", async () => {
    const { conn } = await openSession(port())
    let xid = 1
    const send = async (frame: (x: number) => Buffer) => {
      const x = xid++
      conn.write(frame(x))
      return parseReply(await conn.nextFrame()).header.err
    }
    // Reads do not validate the path: it is simply not found.
    assert.strictEqual(await send((x) => requestFrame(x, { type: Op.getData, path: "no-slash", watch: false })), Err.NoNode)
    const create = (path: string, flags: number, acl: typeof openAcl) => (x: number) =>
      requestFrame(x, { type: Op.create, path, data: null, acl, flags, ttl: -1 })
    // The parent check ("/a/" does not exist) comes before full path validation (client.md §13).
    assert.strictEqual(await send(create("/a//b", 0, openAcl)), Err.NoNode)
    assert.strictEqual(await send(create("/bad-input/.", 0, openAcl)), Err.BadArguments)
    assert.strictEqual(await send(create("/bad-input/x\u0001", 0, openAcl)), Err.BadArguments)
    assert.strictEqual(await send(create("no-slash", 0, openAcl)), Err.BadArguments)
    assert.strictEqual(await send(create("/bad-flags", 77, openAcl)), Err.BadArguments)
    assert.strictEqual(await send(create("/no-acl", 0, [])), Err.InvalidACL)
    assert.strictEqual(await send(create("/bad-scheme", 0, [{ perms: 31, id: { scheme: "nosuch", id: "x" } }])), Err.InvalidACL)
    assert.strictEqual(
      await send((x) => requestFrame(x, { type: Op.delete, path: "/zookeeper", version: -1 })),
      Err.BadArguments
    )
    assert.strictEqual(await send((x) => requestFrame(x, { type: Op.setData, path: "/nope", data: null, version: -1 })), Err.NoNode)
    assert.isFalse(conn.isClosed())
    conn.destroy()
    await stillServes("invalid")
  })

  it("many misbehaving connections at once do not disturb a working client", async () => {
    const garbage = await Promise.all(
      Array.from({ length: 40 }, async (_, i) => {
        const c = await openRaw(port())
        c.write(i % 2 === 0 ? Buffer.from("7fffffff", "hex") : Buffer.from([...Array(64)].map((_, j) => (i * 31 + j * 7) & 0xff)))
        return c
      })
    )
    await stillServes("storm")
    for (const c of garbage) {
      // Every one of them is closed by the server (or, for random bytes that happen to form a
      // plausible length prefix, left waiting; we close those ourselves).
      c.destroy()
    }
  })
})
