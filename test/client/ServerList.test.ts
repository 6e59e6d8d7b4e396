/**
 * Where the client connects, on a 3-peer in-process ensemble (src/quorum/Testing.ts) in virtual
 * time: every server's name is resolved again on each attempt (a moved name is followed, a name
 * that does not resolve is skipped with a warning), `updateServerList` moves the session off a
 * server that is no longer listed while a listed one keeps it, and the attempt timeout follows the
 * list. Names are the memory network's records (`setAddresses`), so no real DNS is involved.
 */
import { assert, describe, it } from "@effect/vitest"
import { Clock, Duration, Effect, Exit, Fiber, Logger, Option, Ref, Schedule, type Scope, Stream } from "effect"
import { CreateMode, ZooKeeper } from "../../src/client/index.js"
import { directOf } from "../../src/client/internal/operations.js"
import { Transport } from "../../src/net/Transport.js"
import * as Testing from "../../src/quorum/Testing.js"
import * as SimTime from "../../src/sim/SimTime.js"

const sim = <A, E>(eff: Effect.Effect<A, E, Scope.Scope>) => SimTime.run(Effect.scoped(eff))

const until = (ready: () => boolean, limitMs = 60_000) =>
  Effect.gen(function*() {
    for (let t = 0; t < limitMs && !ready(); t += 50) yield* Effect.sleep(Duration.millis(50))
    assert.isTrue(ready(), `not reached within ${limitMs} virtual ms`)
  })

/** Three peers, s3 leading (fixed, so stopping a follower elects nobody), all serving. */
const serving = Effect.gen(function*() {
  const ens = yield* Testing.ensemble({ nodes: 3, leader: 3, tickTime: 500 })
  yield* until(() => ens.peers.every((p) => p.running()?.core() != null))
  return ens
})

const connect = (ens: Testing.Ensemble, connectString: string, extra: Partial<ZooKeeper.Options> = {}) =>
  ZooKeeper.make({ connectString, sessionTimeoutMs: 6000, reconnectDelayMs: 200, ...extra }).pipe(
    Effect.provideService(Transport, ens.clientTransport())
  )

/** The host the client's current link goes to (the address its server's name resolved to). */
const hostOf = (zk: ZooKeeper.Client): string | undefined => directOf(zk)?.conn.link?.address

/** Retries a read through the reconnect (requests queued while no server answers fail with ConnectionLoss). */
const settled = <A, E>(eff: Effect.Effect<A, E>) => Effect.retry(eff, Schedule.spaced(Duration.millis(100)).pipe(Schedule.upTo(Duration.seconds(30))))

/** Every state the client reports from now on. */
const recordStates = (zk: ZooKeeper.Client) =>
  Effect.gen(function*() {
    const seen = yield* Ref.make<Array<ZooKeeper.SessionState>>([])
    yield* zk.states.pipe(Stream.drop(1), Stream.runForEach((s) => Ref.update(seen, (l) => [...l, s])), Effect.forkScoped)
    return seen
  })

describe("client: server names and the server list", () => {
  it.effect("a name that moves to another server is followed on reconnect, and the session is kept", () =>
    sim(Effect.gen(function*() {
      const ens = yield* serving
      ens.network.setAddresses("zk.test", ["s1"])
      const zk = yield* connect(ens, "zk.test:2181")
      assert.strictEqual(hostOf(zk), "s1")
      yield* zk.create("/mine", "x", { mode: CreateMode.EPHEMERAL })
      const before = yield* zk.session

      ens.network.setAddresses("zk.test", ["s2"])
      yield* ens.peers[0]!.crash
      const stat = yield* settled(zk.exists("/mine"))
      assert.strictEqual(hostOf(zk), "s2")
      assert.strictEqual((yield* zk.session).sessionId, before.sessionId)
      assert.strictEqual(Option.getOrThrow(stat).ephemeralOwner, before.sessionId, "the ephemeral lived through the move")

      // A list naming the current server by its address (not by the name it was reached as) keeps the client there.
      const states = yield* recordStates(zk)
      yield* zk.updateServerList("s3:2181,s2:2181")
      yield* Effect.sleep(Duration.seconds(5))
      assert.strictEqual(hostOf(zk), "s2")
      assert.deepStrictEqual(yield* Ref.get(states), [])
    })))

  it.effect("a name that does not resolve is skipped with a warning; with none resolving the client retries until one does", () =>
    sim(Effect.gen(function*() {
      const ens = yield* serving
      const warnings: Array<string> = []
      const logger = Logger.make(({ logLevel, message }) => {
        if (logLevel._tag === "Warning") warnings.push(Array.isArray(message) ? message.join(" ") : String(message))
      })
      const connecting = yield* connect(ens, "nowhere.test:2181,zk.test:2181", { connectTimeoutMs: 120_000 }).pipe(
        Effect.provide(Logger.replace(Logger.defaultLogger, logger)),
        Effect.forkScoped
      )
      // Neither name resolves yet: the client keeps trying (with backoff), it does not give up.
      yield* Effect.sleep(Duration.seconds(20))
      assert.isTrue(Option.isNone(yield* Fiber.poll(connecting)), "still connecting")
      const failedLookups = warnings.length
      // Two names, a pause of 200 ms × jitter 0.5–1 after both failed: 200 to 400 lookups in 20 s.
      assert.isAbove(failedLookups, 150)
      assert.isBelow(failedLookups, 450, "retries are paced by reconnectDelayMs, not a busy loop")
      assert.isTrue(warnings.some((w) => w.includes("cannot resolve nowhere.test")), warnings[0])

      ens.network.setAddresses("zk.test", ["s2"])
      const zk = yield* Fiber.join(connecting)
      assert.strictEqual(hostOf(zk), "s2")
      yield* zk.create("/reached", "x")
    })))

  it.effect("updateServerList without the current server moves the session to a listed one; with it, the client stays", () =>
    sim(Effect.gen(function*() {
      const ens = yield* serving
      const zk = yield* connect(ens, "s1:2181")
      yield* zk.create("/mine", "x", { mode: CreateMode.EPHEMERAL })
      const { sessionId } = yield* zk.session
      const states = yield* recordStates(zk)

      // Still listed (with others): no reconnect.
      yield* zk.updateServerList("s3:2181,s1:2181,s2:2181")
      yield* Effect.sleep(Duration.seconds(5))
      assert.strictEqual(hostOf(zk), "s1")
      assert.deepStrictEqual(yield* Ref.get(states), [])

      // Removed: the session moves to s2 or s3 at once.
      yield* zk.updateServerList("s2:2181,s3:2181")
      yield* until(() => hostOf(zk) === "s2" || hostOf(zk) === "s3", 10_000)
      const stat = yield* settled(zk.exists("/mine"))
      assert.strictEqual((yield* zk.session).sessionId, sessionId)
      assert.strictEqual(Option.getOrThrow(stat).ephemeralOwner, sessionId)
      assert.deepStrictEqual(yield* Ref.get(states), ["Disconnected", "Connected"])

      // s1 is no longer a candidate: losing the link never brings the client back to it.
      for (let i = 0; i < 4; i++) {
        yield* zk.dropConnection
        yield* settled(zk.exists("/mine"))
        assert.notStrictEqual(hostOf(zk), "s1")
      }
    })))

  it.effect("updateServerList rejects a bad connect string or another chroot and changes nothing", () =>
    sim(Effect.gen(function*() {
      const ens = yield* serving
      const zk = yield* connect(ens, "s1:2181/app")
      for (const bad of ["", "s2:99999", "s2:2181/other"]) {
        const exit = yield* Effect.exit(zk.updateServerList(bad))
        assert.isTrue(Exit.isFailure(exit), bad)
        if (Exit.isFailure(exit)) assert.match(String(exit.cause), /BadArguments/, bad)
      }
      assert.strictEqual(hostOf(zk), "s1")
      // The session's own chroot may be repeated.
      yield* zk.updateServerList("s2:2181/app")
      yield* until(() => hostOf(zk) === "s2", 10_000)
    })))

  it.effect("updateServerList recomputes the attempt timeout: session timeout / the servers listed now", () =>
    sim(Effect.gen(function*() {
      const ens = yield* serving
      // Every connect the client makes, with the virtual time it was made at.
      const connects: Array<{ readonly at: number; readonly host: string }> = []
      const base = ens.clientTransport()
      const transport: typeof base = {
        ...base,
        connect: (options) =>
          Effect.flatMap(Clock.currentTimeMillis, (at) => {
            connects.push({ at, host: options.host })
            return base.connect(options)
          })
      }
      // One server listed: a 6 s session gives one attempt all 6 s.
      const zk = yield* ZooKeeper.make({ connectString: "s1:2181", sessionTimeoutMs: 6000, reconnectDelayMs: 200 }).pipe(
        Effect.provideService(Transport, transport)
      )
      assert.strictEqual((yield* zk.session).timeoutMs, 6000)
      // Three names of a host that takes connections and never answers: each attempt runs into its
      // timeout, which must now be 6000 / 3.
      yield* ens.clientTransport("mute").listen({ host: "mute", port: 2181 }, () => {})
      for (const name of ["a.test", "b.test", "c.test"]) ens.network.setAddresses(name, ["mute"])
      const before = connects.length
      yield* zk.updateServerList("a.test:2181,b.test:2181,c.test:2181")
      yield* Effect.sleep(Duration.seconds(5))
      const tried = connects.slice(before)
      assert.isAtLeast(tried.length, 3, JSON.stringify(tried))
      for (let i = 1; i < tried.length; i++) {
        const gap = tried[i]!.at - tried[i - 1]!.at
        assert.strictEqual(gap, 2000, `attempt ${i}: ${JSON.stringify(tried)}`)
      }
    })))
})
