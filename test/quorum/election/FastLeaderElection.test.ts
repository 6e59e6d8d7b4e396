/**
 * The FastLeaderElection shell on TestClock, over an in-test network hub that runs the election
 * codec on every hop (ElectionNet itself is tested over TCP in ElectionNet.test.ts).
 */
import { assert, describe, it } from "@effect/vitest"
import { Duration, Effect, Fiber, Queue, TestClock } from "effect"
import type { ElectionNet, Received } from "../../../src/quorum/election/ElectionNet.js"
import * as FLE from "../../../src/quorum/election/FastLeaderElection.js"
import * as QV from "../../../src/quorum/core/QuorumVerifier.js"
import { decodeNotification, encodeNotificationFrame, type Notification } from "../../../src/wire/Election.js"
import * as Zxid from "../../../src/wire/Zxid.js"

interface Server {
  readonly sid: number
  readonly type?: QV.PeerType
  readonly zxid: number
  readonly epoch: number
}

/** Routes notifications between in-process nets; servers not `up` lose what is sent to them. */
const makeHub = (servers: ReadonlyArray<Server>) =>
  Effect.gen(function*() {
    const inboxes = new Map<number, Queue.Queue<Received>>()
    for (const s of servers) inboxes.set(s.sid, yield* Queue.sliding<Received>(1000))
    const up = new Set<number>()
    const sent: Array<{ from: number; to: number; notification: Notification }> = []
    let connectAlls = 0
    const deliver = (from: number, to: number, n: Notification) => {
      sent.push({ from, to, notification: n })
      if (!up.has(to) || !up.has(from)) return
      const frame = encodeNotificationFrame(n)
      Queue.unsafeOffer(inboxes.get(to)!, { from, notification: decodeNotification(frame.subarray(4)) })
    }
    const netFor = (sid: number): ElectionNet => ({
      sid,
      address: { host: "hub", port: sid },
      inbox: inboxes.get(sid)!,
      send: (to, n) => Effect.sync(() => deliver(sid, to, n)),
      sendAll: (n) =>
        Effect.sync(() => {
          for (const s of servers) if (s.sid !== sid && (s.type ?? "participant") === "participant") deliver(sid, s.sid, n)
        }),
      connectAll: Effect.sync(() => void connectAlls++),
      connected: Effect.sync(() => [...up].filter((s) => s !== sid))
    })
    return { up, sent, netFor, connectAlls: () => connectAlls }
  })

const verifierOf = (servers: ReadonlyArray<Server>) => QV.majority(servers.map((s) => ({ sid: s.sid, type: s.type ?? "participant" })))

/** Starts FLE on the given servers (all others stay down) and runs one election on each. */
const elect = (servers: ReadonlyArray<Server>, hub: Effect.Effect.Success<ReturnType<typeof makeHub>>, which: ReadonlyArray<number>) =>
  Effect.gen(function*() {
    const verifier = verifierOf(servers)
    const fibers = []
    for (const sid of which) {
      const s = servers.find((x) => x.sid === sid)!
      hub.up.add(sid)
      const fle = yield* FLE.make({ sid, verifier, net: hub.netFor(sid), config: "version=0" })
      fibers.push(yield* Effect.fork(fle.lookForLeader({ lastLoggedZxid: s.zxid, currentEpoch: s.epoch })))
    }
    yield* TestClock.adjust(Duration.seconds(1))
    // Fail at once instead of hanging when someone did not decide within a simulated second.
    if (fibers.some((f) => f.unsafePoll() === null)) return yield* Effect.dieMessage("no decision within 1 s")
    return yield* Effect.forEach(fibers, Fiber.join)
  })

const roles = (ds: ReadonlyArray<FLE.Decided>) => ds.map((d) => `${d.leader}:${d.state}`)

const servers = (n: number, of: (sid: number) => Partial<Server> = () => ({})): Array<Server> =>
  Array.from({ length: n }, (_, i) => ({ sid: i + 1, zxid: 0, epoch: 0, ...of(i + 1) }))

describe("FastLeaderElection shell", () => {
  it.scoped("3 peers with equal logs elect the highest sid", () =>
    Effect.gen(function*() {
      const ss = servers(3)
      const hub = yield* makeHub(ss)
      const ds = yield* elect(ss, hub, [1, 2, 3])
      assert.deepStrictEqual(roles(ds), ["3:FOLLOWING", "3:FOLLOWING", "3:LEADING"])
    }))

  it.scoped("5 peers elect the highest (epoch, zxid, sid)", () =>
    Effect.gen(function*() {
      const zxids = [Zxid.make(2, 9), Zxid.make(3, 1), Zxid.make(3, 4), Zxid.make(3, 4), Zxid.make(2, 50)]
      const ss = servers(5, (sid) => ({ zxid: zxids[sid - 1]!, epoch: Zxid.epochOf(zxids[sid - 1]!) }))
      const hub = yield* makeHub(ss)
      const ds = yield* elect(ss, hub, [1, 2, 3, 4, 5])
      assert.deepStrictEqual(roles(ds), ["4:FOLLOWING", "4:FOLLOWING", "4:FOLLOWING", "4:LEADING", "4:FOLLOWING"])
      assert.deepStrictEqual(ds.map((d) => d.vote.zxid), Array(5).fill(Zxid.make(3, 4)))
    }))

  describe("tie-breaks, one field at a time", () => {
    const cases: ReadonlyArray<[string, Array<Partial<Server>>, number]> = [
      ["peerEpoch beats a higher zxid and sid", [{ epoch: 5, zxid: 1 }, { epoch: 4, zxid: 99 }, { epoch: 4, zxid: 99 }], 1],
      ["zxid beats a higher sid", [{ zxid: 7 }, { zxid: 8 }, { zxid: 7 }], 2],
      ["the higher sid wins when epoch and zxid tie", [{ zxid: 3, epoch: 1 }, { zxid: 3, epoch: 1 }, { zxid: 3, epoch: 1 }], 3]
    ]
    for (const [name, fields, leader] of cases) {
      it.scoped(name, () =>
        Effect.gen(function*() {
          const ss = servers(3, (sid) => fields[sid - 1]!)
          const hub = yield* makeHub(ss)
          const ds = yield* elect(ss, hub, [1, 2, 3])
          assert.deepStrictEqual(ds.map((d) => d.leader), [leader, leader, leader])
          assert.deepStrictEqual(ds.map((d) => d.state === "LEADING"), [1, 2, 3].map((sid) => sid === leader))
        }))
    }
  })

  it.scoped("a late server joins the established leader from its LEADING/FOLLOWING answers", () =>
    Effect.gen(function*() {
      // Server 3 has the best log but arrives after 1 and 2 settled: it must follow 2, not win.
      const ss = servers(3, (sid) => ({ zxid: sid === 3 ? 100 : 5 }))
      const hub = yield* makeHub(ss)
      assert.deepStrictEqual(roles(yield* elect(ss, hub, [1, 2])), ["2:FOLLOWING", "2:LEADING"])
      const [late] = yield* elect(ss, hub, [3])
      assert.deepStrictEqual(roles([late!]), ["2:FOLLOWING"])
      assert.isTrue(hub.sent.some((m) => m.from === 2 && m.to === 3 && m.notification.state === 2), "the leader answered LEADING")
    }))

  it.scoped("an observer learns the leader and ends OBSERVING", () =>
    Effect.gen(function*() {
      const ss: Array<Server> = [...servers(3), { sid: 9, type: "observer", zxid: 0, epoch: 0 }]
      const hub = yield* makeHub(ss)
      const ds = yield* elect(ss, hub, [1, 2, 3, 9])
      assert.deepStrictEqual(roles(ds), ["3:FOLLOWING", "3:FOLLOWING", "3:LEADING", "3:OBSERVING"])
    }))

  it.scoped("a lone server re-sends on a doubling notification timeout and reconnects", () =>
    Effect.gen(function*() {
      const ss = servers(3)
      const hub = yield* makeHub(ss)
      hub.up.add(1)
      const fle = yield* FLE.make({ sid: 1, verifier: verifierOf(ss), net: hub.netFor(1), config: "version=0", maxNotificationIntervalMs: 1000 })
      const fiber = yield* Effect.fork(fle.lookForLeader({ lastLoggedZxid: 0, currentEpoch: 0 }))
      const rounds = () => hub.sent.filter((m) => m.to === 2).length
      yield* TestClock.adjust(Duration.millis(1))
      assert.strictEqual(rounds(), 1, "the initial vote")
      // Timeouts at 200, 600 (+400), 1400 (+800), then capped at 1000 ms: 2400, 3400.
      for (const [at, expected] of [[199, 1], [200, 2], [599, 2], [600, 3], [1400, 4], [2399, 4], [2400, 5], [3400, 6]] as const) {
        yield* TestClock.setTime(at)
        assert.strictEqual(rounds(), expected, `sends by ${at} ms`)
      }
      assert.strictEqual(hub.connectAlls(), 5)
      assert.isNull(fiber.unsafePoll(), "still looking")
    }))

  it.scoped("a settled server answers a LOOKING peer with its decided vote and the synced epoch", () =>
    Effect.gen(function*() {
      const ss = servers(3)
      const hub = yield* makeHub(ss)
      hub.up.add(1)
      hub.up.add(2)
      const verifier = verifierOf(ss)
      const one = yield* FLE.make({ sid: 1, verifier, net: hub.netFor(1), config: "version=0" })
      const two = yield* FLE.make({ sid: 2, verifier, net: hub.netFor(2), config: "version=0" })
      const fibers = [yield* Effect.fork(one.lookForLeader({ lastLoggedZxid: 0, currentEpoch: 0 })), yield* Effect.fork(two.lookForLeader({ lastLoggedZxid: 0, currentEpoch: 0 }))]
      yield* TestClock.adjust(Duration.seconds(1))
      yield* Effect.forEach(fibers, Fiber.join)
      yield* two.synced(1)
      yield* TestClock.adjust(Duration.millis(1))
      hub.up.add(3)
      yield* hub.netFor(3).send(2, { state: 0, leader: 3, zxid: 0, electionEpoch: 1, peerEpoch: 0, version: 2, config: "version=0" })
      yield* TestClock.adjust(Duration.millis(1))
      const answer = hub.sent.filter((m) => m.from === 2 && m.to === 3).at(-1)?.notification
      assert.deepStrictEqual(answer, { state: 2, leader: 2, zxid: 0, electionEpoch: 1, peerEpoch: 1, version: 2, config: "version=0" })
    }))
})

describe("wire mapping", () => {
  it("votes and notifications map both ways; unknown states are refused", () => {
    const n = FLE.toNotification({ state: "OBSERVING", leader: 3, zxid: Zxid.make(1, 2), electionEpoch: 4, peerEpoch: 1 }, "c")
    assert.deepStrictEqual(n, { state: 3, leader: 3, zxid: Zxid.make(1, 2), electionEpoch: 4, peerEpoch: 1, version: 2, config: "c" })
    assert.deepStrictEqual(FLE.toVote(n), { state: "OBSERVING", leader: 3, zxid: Zxid.make(1, 2), electionEpoch: 4, peerEpoch: 1 })
    assert.isNull(FLE.toVote({ ...n, state: 4 }))
  })

  it("the config text matches ZooKeeper 3.8's QuorumMaj.toString", () => {
    const text = FLE.quorumConfigText([
      { sid: 2, host: "127.0.0.1", quorumPort: 32202, electionPort: 32302, type: "participant" },
      { sid: 1, host: "127.0.0.1", quorumPort: 32201, electionPort: 32301, type: "participant" },
      { sid: 4, host: "127.0.0.1", quorumPort: 32204, electionPort: 32304, type: "observer", clientAddress: "0.0.0.0:2181" }
    ])
    assert.strictEqual(
      text,
      "server.1=127.0.0.1:32201:32301:participant\nserver.2=127.0.0.1:32202:32302:participant\n" +
        "server.4=127.0.0.1:32204:32304:observer;0.0.0.0:2181\nversion=0"
    )
  })
})
