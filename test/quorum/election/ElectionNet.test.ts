/**
 * ElectionNet over TCP on loopback (`it.live`: real sockets, so a little polling is unavoidable),
 * plus whole elections through ElectionNet + FastLeaderElection. Raw node:net sockets play
 * misbehaving or foreign peers.
 */
import { assert, describe, it } from "@effect/vitest"
import * as net from "node:net"
import { Duration, Effect, Exit, Fiber, Queue, Scope } from "effect"
import * as QV from "../../../src/quorum/core/QuorumVerifier.js"
import * as ElectionNet from "../../../src/quorum/election/ElectionNet.js"
import * as FLE from "../../../src/quorum/election/FastLeaderElection.js"
import { encodeNotificationFrame, type Notification, parseInitialMessage, PROTOCOL_V1, writeInitialMessage } from "../../../src/wire/Election.js"
import { JuteWriter } from "../../../src/wire/Jute.js"

const host = "127.0.0.1"

/** Ports that were free a moment ago (election ports must be known to every peer up front). */
const freePorts = (n: number) =>
  Effect.promise(async () => {
    const servers = await Promise.all(Array.from({ length: n }, () =>
      new Promise<net.Server>((resolve) => {
        const s = net.createServer()
        s.listen(0, host, () => resolve(s))
      })))
    const ports = servers.map((s) => (s.address() as net.AddressInfo).port)
    await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))))
    return ports
  })

const membersOf = (ports: ReadonlyArray<number>, observers: ReadonlyArray<number> = []): Array<ElectionNet.Member> =>
  ports.map((electionPort, i) => ({ sid: i + 1, host, electionPort, type: observers.includes(i + 1) ? "observer" : "participant" }))

const makeNet = (sid: number, members: ReadonlyArray<ElectionNet.Member>) =>
  ElectionNet.make({ sid, members, cnxTimeoutMs: 1000, handshakeTimeoutMs: 1000 })

const note = (leader: number, electionEpoch = 1): Notification =>
  ({ state: 0, leader, zxid: 0, electionEpoch, peerEpoch: 0, version: 2, config: "version=0" })

const initialBytes = (sid: number, addr: string, version: number = PROTOCOL_V1): Uint8Array => {
  const w = new JuteWriter(64)
  if (version === PROTOCOL_V1) writeInitialMessage(w, { protocolVersion: PROTOCOL_V1, sid, addr })
  else w.long(version).long(sid).int(1).raw(new Uint8Array([0x41]))
  return w.copy()
}

/** A raw client; `closed` resolves when the other side drops it. */
const rawClient = (port: number) =>
  Effect.async<{ socket: net.Socket; closed: Promise<void> }>((resume) => {
    const socket = net.createConnection({ host, port }, () => resume(Effect.succeed({ socket, closed })))
    const closed = new Promise<void>((resolve) => socket.on("close", () => resolve()))
    socket.on("error", () => {})
  })

const waitClosed = (c: { closed: Promise<void> }) =>
  Effect.promise(() => c.closed).pipe(Effect.timeoutFail({ duration: "3 seconds", onTimeout: () => new Error("not closed") }))

/** Polls until `check` holds (real sockets: there is no event to wait on). */
const poll = <A>(get: Effect.Effect<A>, check: (a: A) => boolean): Effect.Effect<A> =>
  Effect.gen(function*() {
    for (let i = 0; i < 300; i++) {
      const a = yield* get
      if (check(a)) return a
      yield* Effect.sleep(Duration.millis(10))
    }
    return yield* get
  })

const take = (q: Queue.Dequeue<ElectionNet.Received>) =>
  Queue.take(q).pipe(Effect.timeoutFail({ duration: "3 seconds", onTimeout: () => new Error("no notification") }))

describe("ElectionNet (TCP loopback)", () => {
  it.live("keeps a connection from a larger sid and delivers its notifications", () =>
    Effect.scoped(Effect.gen(function*() {
      const ports = yield* freePorts(2)
      const one = yield* makeNet(1, membersOf(ports))
      const c = yield* rawClient(ports[0]!)
      c.socket.write(Buffer.concat([initialBytes(2, `${host}:${ports[1]}`), encodeNotificationFrame(note(2))]))
      assert.deepStrictEqual(yield* take(one.inbox), { from: 2, notification: note(2) })
      assert.deepStrictEqual(yield* poll(one.connected, (s) => s.length === 1), [2])
      c.socket.destroy()
    })))

  it.live("drops a connection from a smaller sid and connects back with its own initial message", () =>
    Effect.scoped(Effect.gen(function*() {
      const ports = yield* freePorts(2)
      const received: Array<Buffer> = []
      const listener = net.createServer((s) => s.on("data", (d) => received.push(d)))
      yield* Effect.acquireRelease(
        Effect.async<void>((resume) => void listener.listen(ports[0], host, () => resume(Effect.void))),
        () => Effect.sync(() => void listener.close())
      )
      yield* makeNet(2, membersOf(ports))
      const c = yield* rawClient(ports[1]!)
      c.socket.write(initialBytes(1, `${host}:${ports[0]}`))
      yield* waitClosed(c)
      const bytes = yield* poll(Effect.sync(() => Buffer.concat(received)), (b) => b.length >= 20)
      assert.deepStrictEqual(parseInitialMessage(bytes)?.message, { protocolVersion: PROTOCOL_V1, sid: 2, addr: `${host}:${ports[1]}` })
    })))

  it.live("garbage closes only that connection", () =>
    Effect.scoped(Effect.gen(function*() {
      const ports = yield* freePorts(3)
      const one = yield* makeNet(1, membersOf(ports))
      const oversized = new Uint8Array(4)
      new DataView(oversized.buffer).setInt32(0, 524289)
      const short = new Uint8Array([0, 0, 0, 10, ...new Uint8Array(10)])
      const attacks: ReadonlyArray<[string, Uint8Array]> = [
        ["bad protocol version", initialBytes(2, "x", -7)],
        ["oversized frame", Buffer.concat([initialBytes(2, `${host}:${ports[1]}`), oversized])],
        ["undecodable notification", Buffer.concat([initialBytes(2, `${host}:${ports[1]}`), short])],
        ["unknown sid", initialBytes(7, `${host}:1`)]
      ]
      const good = yield* rawClient(ports[0]!)
      good.socket.write(initialBytes(3, `${host}:${ports[2]}`))
      for (const [name, bytes] of attacks) {
        const c = yield* rawClient(ports[0]!)
        c.socket.write(bytes)
        yield* waitClosed(c).pipe(Effect.mapError(() => new Error(`${name}: connection left open`)))
      }
      // A handshake that never comes is cut after handshakeTimeoutMs.
      yield* waitClosed(yield* rawClient(ports[0]!))
      good.socket.write(encodeNotificationFrame(note(3, 5)))
      assert.deepStrictEqual(yield* take(one.inbox), { from: 3, notification: note(3, 5) })
      good.socket.destroy()
    })))

  it.live("reconnects after a peer restarts and re-sends the last notification", () =>
    Effect.scoped(Effect.gen(function*() {
      const ports = yield* freePorts(2)
      const members = membersOf(ports)
      const two = yield* makeNet(2, members)
      const firstScope = yield* Scope.make()
      const one = yield* makeNet(1, members).pipe(Scope.extend(firstScope))
      yield* two.send(1, note(2, 1))
      assert.deepStrictEqual(yield* take(one.inbox), { from: 2, notification: note(2, 1) })
      yield* Scope.close(firstScope, Exit.void)
      yield* poll(two.connected, (s) => s.length === 0)

      const again = yield* makeNet(1, members)
      yield* two.connectAll
      assert.deepStrictEqual(yield* take(again.inbox), { from: 2, notification: note(2, 1) }, "last message re-sent")
      // The smaller sid sending first makes the larger one connect back.
      yield* again.send(2, note(1, 2))
      assert.deepStrictEqual(yield* take(two.inbox), { from: 1, notification: note(1, 2) })
      yield* two.send(1, note(2, 3))
      assert.deepStrictEqual(yield* take(again.inbox), { from: 2, notification: note(2, 3) })
    })))

  it.live("closing the scope closes the listener", () =>
    Effect.gen(function*() {
      const ports = yield* freePorts(2)
      yield* Effect.scoped(makeNet(1, membersOf(ports)))
      const refused = yield* Effect.async<boolean>((resume) => {
        const s = net.createConnection({ host, port: ports[0]! })
        s.on("connect", () => (s.destroy(), resume(Effect.succeed(false))))
        s.on("error", () => resume(Effect.succeed(true)))
      })
      assert.isTrue(refused)
    }))
})

/** Runs ElectionNet + FLE for every server and one election on each. */
const electOverTcp = (zxids: ReadonlyArray<number>, during?: (ports: ReadonlyArray<number>) => Effect.Effect<void>) =>
  Effect.scoped(Effect.gen(function*() {
    const ports = yield* freePorts(zxids.length)
    const members = membersOf(ports)
    const verifier = QV.majority(members.map((m) => ({ sid: m.sid, type: m.type })))
    const config = FLE.quorumConfigText(members.map((m) => ({ ...m, quorumPort: m.electionPort - 1 })))
    const fibers = []
    for (const m of members) {
      const electionNet = yield* makeNet(m.sid, members)
      const fle = yield* FLE.make({ sid: m.sid, verifier, net: electionNet, config })
      fibers.push(yield* Effect.fork(fle.lookForLeader({ lastLoggedZxid: zxids[m.sid - 1]!, currentEpoch: 0 })))
    }
    if (during !== undefined) yield* during(ports)
    const ds = yield* Effect.forEach(fibers, Fiber.join).pipe(Effect.timeoutFail({ duration: "20 seconds", onTimeout: () => new Error("no decision") }))
    return ds.map((d) => `${d.leader}:${d.state}`)
  }))

describe("FastLeaderElection over ElectionNet (TCP loopback)", () => {
  it.live("3 peers elect the highest sid", () =>
    Effect.gen(function*() {
      assert.deepStrictEqual(yield* electOverTcp([0, 0, 0]), ["3:FOLLOWING", "3:FOLLOWING", "3:LEADING"])
    }))

  it.live("5 peers elect the highest zxid, with garbage thrown at two election ports", () =>
    Effect.gen(function*() {
      const garbage = (ports: ReadonlyArray<number>) =>
        Effect.forEach([ports[0]!, ports[3]!], (port) =>
          rawClient(port).pipe(Effect.tap((c) => c.socket.write(new Uint8Array([0xde, 0xad, 0xbe, 0xef, 1, 2, 3, 4, 5, 6, 7, 8])))))
          .pipe(Effect.asVoid)
      assert.deepStrictEqual(
        yield* electOverTcp([5, 9, 2, 9, 1], garbage),
        ["4:FOLLOWING", "4:FOLLOWING", "4:FOLLOWING", "4:LEADING", "4:FOLLOWING"]
      )
    }))
})

