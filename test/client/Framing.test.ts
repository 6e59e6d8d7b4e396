/**
 * The client's framing and protocol edge cases against a scripted fake server on loopback:
 * frames split at every byte or coalesced, notifications before replies, expired handshakes,
 * unmatched xids, oversized frames, and what the client sends on reconnect.
 */
import { assert, describe, it } from "@effect/vitest"
import * as net from "node:net"
import { Chunk, Effect, Fiber, Option, Schedule, Stream } from "effect"
import { ConnectString, ZooKeeper } from "../../src/client/index.js"
import { connect as connectPromise } from "../../src/client/promise/index.js"
import {
  type ConnectRequest,
  readConnectRequest,
  readRequest,
  type Request,
  type Stat,
  writeConnectResponse,
  writeReplyHeader,
  writeStat,
  writeWatcherEvent
} from "../../src/wire/ClientRecords.js"
import { Err, EventType, Op } from "../../src/wire/Codes.js"
import { JuteReader, JuteWriter } from "../../src/wire/Jute.js"
import { failure } from "./helpers.js"

const stat: Stat = {
  czxid: 5,
  mzxid: 6,
  ctime: 1,
  mtime: 2,
  version: 1,
  cversion: 0,
  aversion: 0,
  ephemeralOwner: 0n,
  dataLength: 3,
  numChildren: 0,
  pzxid: 5
}

interface Received {
  readonly connect: ConnectRequest
  readonly requests: Array<{ readonly xid: number; readonly type: number; readonly body: Request | null }>
}

type Frame = Uint8Array

const frame = (write: (w: JuteWriter) => void): Frame => {
  const w = new JuteWriter()
  const m = w.mark()
  write(w)
  w.patch(m)
  return w.copy()
}

const connectResponse = (timeOut: number, sessionId = 0x1234n) =>
  frame((w) => writeConnectResponse(w, { protocolVersion: 0, timeOut, sessionId, passwd: new Uint8Array(16).fill(7), readOnly: false }))

const reply = (xid: number, zxid: number, err: number, body?: (w: JuteWriter) => void) =>
  frame((w) => {
    writeReplyHeader(w, { xid, zxid, err })
    body?.(w)
  })

const notification = (type: number, path: string) =>
  frame((w) => {
    writeReplyHeader(w, { xid: -1, zxid: -1, err: 0 })
    writeWatcherEvent(w, { type, state: 3, path })
  })

/**
 * A fake server: `script` gets each connection's decoded frames and a `send` that writes raw
 * bytes. Returns the connect string and the log of what every connection received.
 */
const fakeServer = (
  script: (conn: { send: (bytes: Uint8Array) => void; end: () => void; index: number }, req: Received["requests"][number] | ConnectRequest) => void,
  options: { readonly answerClose?: boolean } = {}
) =>
  Effect.acquireRelease(
    Effect.async<{
      server: net.Server
      connectString: string
      log: Array<Received>
      send: (connection: number, bytes: Uint8Array) => void
    }>((resume) => {
      const log: Array<Received> = []
      const conns: Array<{ send: (bytes: Uint8Array) => void }> = []
      const server = net.createServer((socket) => {
        const index = conns.length
        let received: Received | undefined
        let buf = Buffer.alloc(0)
        const conn = { send: (b: Uint8Array) => void socket.write(b), end: () => void socket.destroy(), index }
        conns.push(conn)
        socket.on("error", () => {})
        socket.on("data", (chunk: Buffer) => {
          buf = Buffer.concat([buf, chunk])
          while (buf.length >= 4 && buf.length >= 4 + buf.readInt32BE(0)) {
            const len = buf.readInt32BE(0)
            const r = new JuteReader(buf, 4, 4 + len)
            buf = buf.subarray(4 + len)
            if (received === undefined) {
              received = { connect: readConnectRequest(r), requests: [] }
              log.push(received)
              script(conn, received.connect)
            } else {
              const xid = r.int()
              const type = r.int()
              const req = { xid, type, body: readRequest(r, type) }
              received.requests.push(req)
              if (type === Op.closeSession && options.answerClose !== false) {
                socket.end(reply(xid, 0, 0))
                continue
              }
              script(conn, req)
            }
          }
        })
      })
      server.listen(0, "127.0.0.1", () => {
        const address = server.address() as net.AddressInfo
        resume(Effect.succeed({
          server,
          connectString: `127.0.0.1:${address.port}`,
          log,
          send: (i, bytes) => conns[i]?.send(bytes)
        }))
      })
    }),
    ({ server }) =>
      Effect.async<void>((resume) => {
        server.close(() => resume(Effect.void))
      })
  )

const isConnect = (x: Received["requests"][number] | ConnectRequest): x is ConnectRequest => "passwd" in x

/** Writes `bytes` one byte per TCP write (with a pause, so they really arrive apart). */
const dribble = (send: (b: Uint8Array) => void, bytes: Uint8Array) => {
  let i = 0
  const next = () => {
    if (i >= bytes.length) return
    send(bytes.subarray(i, i + 1))
    i++
    setTimeout(next, 1)
  }
  next()
}

const concat = (...parts: Array<Uint8Array>) => Buffer.concat(parts)

describe("ZooKeeper client framing (fake server)", () => {
  it.scopedLive("frames split at every byte are reassembled; notifications before a reply are routed", () =>
    Effect.gen(function*() {
      const fake = yield* fakeServer((conn, x) => {
        if (isConnect(x)) return dribble(conn.send, connectResponse(10_000))
        if (x.type === Op.getData && x.body?.type === Op.getData) {
          if (x.body.watch) {
            conn.send(reply(x.xid, 7, 0, (w) => {
              w.buffer(new TextEncoder().encode("abc"))
              writeStat(w, stat)
            }))
          }
        }
        if (x.type === Op.setData) {
          // Event and reply in one segment, event first (as ZooKeeper orders them).
          conn.send(concat(notification(EventType.NodeDataChanged, "/a"), reply(x.xid, 8, 0, (w) => writeStat(w, stat))))
        }
        if (x.type === Op.exists) dribble(conn.send, concat(reply(x.xid, 9, Err.NoNode), reply(-2, 9, 0)))
      })
      const zk = yield* ZooKeeper.make({ connectString: fake.connectString })
      const info = yield* zk.session
      assert.strictEqual(info.sessionId, 0x1234n)
      assert.strictEqual(info.timeoutMs, 10_000)
      const got = yield* zk.getDataWatch("/a")
      assert.strictEqual(new TextDecoder().decode(got.data!), "abc")
      assert.deepStrictEqual(got.stat, stat)
      yield* zk.setData("/a", "x")
      assert.deepStrictEqual(yield* Effect.timeout(got.watch, 1), { type: "NodeDataChanged", path: "/a" })
      assert.isTrue(Option.isNone(yield* zk.exists("/missing")))
      assert.strictEqual(yield* zk.lastZxid, 9)
      const sent = fake.log[0]!
      assert.strictEqual(sent.connect.timeOut, 10_000)
      assert.strictEqual(sent.connect.sessionId, 0n)
      assert.strictEqual(sent.connect.readOnly, false)
      assert.deepStrictEqual(sent.requests.map((r) => r.xid), [1, 2, 3])
    }))

  it.scopedLive("timeOut 0 in the ConnectResponse fails make with SessionExpired", () =>
    Effect.gen(function*() {
      const fake = yield* fakeServer((conn, x) => {
        if (isConnect(x)) conn.send(connectResponse(0, 0n))
      })
      const e = yield* failure(
        ZooKeeper.make({ connectString: fake.connectString, session: { sessionId: 0x99n, passwd: new Uint8Array(16) } }).pipe(
          Effect.scoped
        )
      )
      assert.isTrue(e._tag === "SessionExpired" && e.sessionId === 0x99n && e.reason === "Expired")
      assert.strictEqual(fake.log[0]!.connect.sessionId, 0x99n)
    }))

  it.scopedLive("an unmatched xid or an oversized frame drops the link; in-flight requests get ConnectionLoss", () =>
    Effect.gen(function*() {
      const fake = yield* fakeServer((conn, x) => {
        if (isConnect(x)) return conn.send(connectResponse(10_000))
        if (x.type === Op.sync && x.body?.type === Op.sync) {
          if (x.body.path === "/wrong-xid") conn.send(reply(x.xid + 100, 1, 0, (w) => w.ustring("/")))
          else if (x.body.path === "/huge") conn.send(new Uint8Array([0x7f, 0, 0, 0]))
          else conn.send(reply(x.xid, 1, 0, (w) => w.ustring(x.body?.type === Op.sync ? x.body.path : "")))
        }
      })
      const zk = yield* ZooKeeper.make({ connectString: fake.connectString, maxFrameBytes: 1024 })
      const e1 = yield* failure(zk.sync("/wrong-xid"))
      assert.strictEqual(e1._tag, "ConnectionLoss")
      yield* zk.sync("/fine")
      const e2 = yield* failure(zk.sync("/huge"))
      assert.strictEqual(e2._tag, "ConnectionLoss")
      yield* zk.sync("/fine")
      // Each drop led to a new connection with the same session and the last zxid seen.
      assert.strictEqual(fake.log.length, 3)
      assert.strictEqual(fake.log[2]!.connect.sessionId, 0x1234n)
      assert.strictEqual(fake.log[2]!.connect.lastZxidSeen, 1)
    }))

  it.scopedLive("reconnect replays auth then setWatches2 (relativeZxid = last zxid) before queued requests", () =>
    Effect.gen(function*() {
      let zxid = 10
      const fake = yield* fakeServer((conn, x) => {
        if (isConnect(x)) return conn.send(connectResponse(10_000))
        if (x.type === Op.auth) return conn.send(reply(-4, 0, 0))
        if (x.type === Op.addWatch) return conn.send(reply(x.xid, ++zxid, 0, (w) => w.int(0)))
        if (x.type === Op.exists) return conn.send(reply(x.xid, ++zxid, Err.NoNode))
        if (x.type === Op.getChildren) return conn.send(reply(x.xid, ++zxid, 0, (w) => w.vector([], () => {})))
        conn.send(reply(x.xid, zxid, 0))
      })
      const zk = yield* ZooKeeper.make({ connectString: `${fake.connectString}/root`, authInfo: [{ scheme: "digest", auth: "u:p" }] })
      yield* zk.existsWatch("/e")
      yield* zk.getChildrenWatch("/c")
      const events = yield* zk.addWatch("/r", "PersistentRecursive")
      yield* zk.dropConnection
      yield* zk.sync("/after")
      const second = fake.log[1]!
      assert.strictEqual(second.connect.lastZxidSeen, 13)
      assert.deepStrictEqual(second.requests.map((r) => r.type), [Op.auth, Op.setWatches2, Op.sync])
      const sw = second.requests[1]!.body
      assert.isTrue(sw?.type === Op.setWatches2)
      if (sw?.type === Op.setWatches2) {
        assert.strictEqual(sw.relativeZxid, 13)
        assert.deepStrictEqual(sw.existWatches, ["/root/e"])
        assert.deepStrictEqual(sw.childWatches, ["/root/c"])
        assert.deepStrictEqual(sw.persistentRecursiveWatches, ["/root/r"])
        assert.deepStrictEqual(sw.dataWatches, [])
      }
      const auth = second.requests[0]!
      assert.strictEqual(auth.xid, -4)
      // setWatches uses the normal xid sequence, as the 3.8 Java client does.
      assert.isTrue(second.requests[1]!.xid > 0)
      // Events on the re-registered watch arrive with the chroot stripped.
      fake.send(1, notification(EventType.NodeCreated, "/root/r/x"))
      const first = yield* events.pipe(Stream.take(1), Stream.runCollect)
      assert.deepStrictEqual(Chunk.toArray(first), [{ type: "NodeCreated", path: "/r/x" }])
    }))
})

describe("ZooKeeper client close", () => {
  it.scopedLive("closing waits at most closeTimeoutMs for the closeSession reply", () =>
    Effect.gen(function*() {
      const fake = yield* fakeServer((conn, x) => {
        if (isConnect(x)) conn.send(connectResponse(10_000))
      }, { answerClose: false })
      const started = Date.now()
      yield* ZooKeeper.make({ connectString: fake.connectString, closeTimeoutMs: 300 }).pipe(Effect.scoped)
      const took = Date.now() - started
      assert.isTrue(took >= 300 && took < 2000, `closed after ${took}ms`)
      assert.deepStrictEqual(fake.log[0]!.requests.map((r) => r.type), [Op.closeSession])
    }))
})

/** A fake server that holds getData requests until `answer(xid)`; answers them with "v". */
const holdingServer = Effect.gen(function*() {
  const fake = yield* fakeServer((conn, x) => {
    if (isConnect(x)) conn.send(connectResponse(10_000))
  })
  const getDatas = () => fake.log[0]!.requests.filter((r) => r.type === Op.getData)
  const answer = (xid: number) =>
    fake.send(0, reply(xid, 3, 0, (w) => {
      w.buffer(new TextEncoder().encode("v"))
      writeStat(w, stat)
    }))
  /** Waits until the server has received `n` getData requests. */
  const received = (n: number) =>
    Effect.suspend(() => (getDatas().length >= n ? Effect.void : Effect.fail("not yet"))).pipe(
      Effect.retry({ schedule: Schedule.spaced("5 millis"), times: 400 }),
      Effect.orDie
    )
  return { fake, getDatas, answer, received }
})

describe("ZooKeeper client request slots", () => {
  it.scopedLive("at most maxPendingRequests are in flight; an interrupted request frees its slot", () =>
    Effect.gen(function*() {
      const { answer, fake, getDatas, received } = yield* holdingServer
      const zk = yield* ZooKeeper.make({ connectString: fake.connectString, maxPendingRequests: 2 })
      const fibers = yield* Effect.forEach(["/a", "/b", "/c", "/d"], (p) => Effect.fork(zk.getData(p)))
      yield* received(2)
      yield* Effect.sleep(50)
      assert.deepStrictEqual(getDatas().map((r) => (r.body as { path: string }).path), ["/a", "/b"])
      // Interrupting /a frees its slot: /c goes out; /a's late reply is matched and dropped.
      yield* Fiber.interrupt(fibers[0]!)
      yield* received(3)
      assert.strictEqual((getDatas()[2]!.body as { path: string }).path, "/c")
      for (const r of getDatas()) answer(r.xid)
      yield* received(4)
      answer(getDatas()[3]!.xid)
      const results = yield* Effect.forEach(fibers.slice(1), Fiber.join)
      assert.deepStrictEqual(results.map((r) => new TextDecoder().decode(r.data!)), ["v", "v", "v"])
    }))

  it.live("Promise facade: an aborted call rejects with AbortError and frees its slot", () =>
    Effect.gen(function*() {
      const { answer, fake, getDatas, received } = yield* holdingServer
      const zk = yield* Effect.promise(() => connectPromise({ connectString: fake.connectString, maxPendingRequests: 1 }))
      const controller = new AbortController()
      const first = zk.getData("/a", { signal: controller.signal }).then(() => "resolved", (e: Error) => e.name)
      const second = zk.getData("/b")
      yield* received(1)
      controller.abort()
      assert.strictEqual(yield* Effect.promise(() => first), "AbortError")
      yield* received(2)
      assert.strictEqual((getDatas()[1]!.body as { path: string }).path, "/b")
      for (const r of getDatas()) answer(r.xid)
      const { data } = yield* Effect.promise(() => second)
      assert.strictEqual(new TextDecoder().decode(data!), "v")
      const aborted = new AbortController()
      aborted.abort()
      const early = yield* Effect.promise(() => zk.getData("/c", { signal: aborted.signal }).then(() => "resolved", (e: Error) => e.name))
      assert.strictEqual(early, "AbortError")
      yield* Effect.promise(() => zk.close())
    }).pipe(Effect.scoped))
})

describe("ConnectString", () => {
  it("parses hosts, default port, IPv6 and chroot", () => {
    assert.deepStrictEqual(ConnectString.parse("a:1,b:2/x/y"), {
      servers: [{ host: "a", port: 1 }, { host: "b", port: 2 }],
      chroot: "/x/y"
    })
    assert.deepStrictEqual(ConnectString.parse("a"), { servers: [{ host: "a", port: 2181 }], chroot: "" })
    assert.deepStrictEqual(ConnectString.parse("[::1]:3000,h:4/"), {
      servers: [{ host: "::1", port: 3000 }, { host: "h", port: 4 }],
      chroot: ""
    })
    assert.isString(ConnectString.parse(""))
    assert.isString(ConnectString.parse("a:0"))
    assert.isString(ConnectString.parse("a:1/x/"))
  })

  it("maps paths through the chroot", () => {
    assert.strictEqual(ConnectString.toServerPath("/r", "/"), "/r")
    assert.strictEqual(ConnectString.toServerPath("/r", "/a"), "/r/a")
    assert.strictEqual(ConnectString.toServerPath("", "/a"), "/a")
    assert.strictEqual(ConnectString.toClientPath("/r", "/r"), "/")
    assert.strictEqual(ConnectString.toClientPath("/r", "/r/a"), "/a")
    assert.strictEqual(ConnectString.toClientPath("/r", "/rx"), "/rx")
  })
})
