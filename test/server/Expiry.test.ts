/**
 * The server's timers in-process on TestClock (test/support/inProcess.ts): session expiry in tick
 * buckets, TTL nodes and container reaping. Instants are exact to one clock step, so these say
 * "not before the deadline" and "at the first check after it" without wall-clock windows.
 * test/e2e/SessionExpiry.test.ts and ContainersTtl.test.ts keep a short check of the same
 * behaviour on real processes, side by side with Apache ZooKeeper.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Fiber, Option } from "effect"
import { CreateMode } from "../../src/client/index.js"
import type { RunningServer } from "../../src/server/Server.js"
import { awaitState, failure } from "../client/helpers.js"
import { advance, advanceTo, now, run, SERVER, standalone, STEP_MS } from "../support/inProcess.js"

const TICK = 2000
const TIMEOUT = 2 * TICK // the smallest session timeout
const CHECK_MS = 1000
const TTL_MS = 5000

const exists = (server: RunningServer, path: string) => server.core.tree.get(path) !== undefined
const linkOf = (server: RunningServer, sessionId: bigint) => [...server.core.connections].some((c) => c.session?.id === sessionId)
/** The tick-aligned deadline the server holds for a session right now. */
const deadlineOf = (server: RunningServer, sessionId: bigint) => server.core.tracker.get(sessionId)!.expireAt

describe("session expiry on TestClock", () => {
  it.scoped("a silent session expires at its tick-aligned deadline: ephemerals go, watchers hear NodeDeleted, its link closes, re-attaching finds it expired", () =>
    Effect.gen(function*() {
      const s = yield* standalone({ tickTime: TICK })
      const observer = yield* run(s.client("observer", { sessionTimeoutMs: 20 * TICK }))
      const silent = yield* run(s.client("silent", { sessionTimeoutMs: TIMEOUT }))
      const { sessionId, timeoutMs } = yield* silent.session
      assert.strictEqual(timeoutMs, TIMEOUT)
      yield* run(observer.create("/base"))
      yield* run(silent.create("/base/e", "", { mode: CreateMode.EPHEMERAL }))
      yield* run(silent.create("/base/s-", "", { mode: CreateMode.EPHEMERAL_SEQUENTIAL }))
      const { watch } = yield* run(observer.existsWatch("/base/e"))
      const event = yield* Effect.fork(watch)

      // The client goes silent: from now on the server hears nothing from it.
      s.network.partition("silent", SERVER)
      const partitioned = yield* now
      const deadline = deadlineOf(s.server, sessionId)
      assert.strictEqual(deadline % TICK, 0, "deadlines are tick-aligned")
      // The last frame heard was at most one ping interval (timeout/3, checked every timeout/10) ago.
      assert.isAtLeast(deadline, partitioned + TIMEOUT - TIMEOUT / 3 - TIMEOUT / 10)
      assert.isAtMost(deadline, partitioned + TIMEOUT + TICK)

      yield* advanceTo(deadline - STEP_MS)
      assert.isTrue(exists(s.server, "/base/e"), "expired before its deadline")
      assert.isTrue(Option.isNone(yield* Fiber.poll(event)))
      yield* advanceTo(deadline + STEP_MS)
      assert.isFalse(exists(s.server, "/base/e"))
      assert.deepStrictEqual(yield* run(observer.getChildren("/base")), [], "the sequential ephemeral went too")
      assert.deepStrictEqual(yield* Fiber.join(event), { type: "NodeDeleted", path: "/base/e" })
      assert.isFalse(linkOf(s.server, sessionId), "the server closed the expired session's connection")
      assert.isUndefined(s.server.core.tracker.get(sessionId))

      // Back on the network, the client re-attaches with its id and learns the session is gone.
      s.network.heal()
      yield* run(awaitState(silent, "Expired"))
      const e = yield* run(failure(silent.exists("/")))
      assert.isTrue(e._tag === "SessionExpired" && e.reason === "Expired", e.message)
    }))

  it.scoped("a client that dropped its connection keeps its session until the timeout; a pinging idle client keeps it forever", () =>
    Effect.gen(function*() {
      const s = yield* standalone({ tickTime: TICK })
      const dropped = yield* run(s.client("dropped", { sessionTimeoutMs: TIMEOUT }))
      const idle = yield* run(s.client("idle", { sessionTimeoutMs: TIMEOUT }))
      const droppedId = (yield* dropped.session).sessionId
      const idleId = (yield* idle.session).sessionId
      yield* run(dropped.create("/dropped", "", { mode: CreateMode.EPHEMERAL }))
      yield* run(idle.create("/idle", "", { mode: CreateMode.EPHEMERAL }))

      // The connection breaks (no closeSession) and the client cannot come back.
      s.network.partition("dropped", SERVER)
      s.network.reset("dropped", SERVER)
      const deadline = deadlineOf(s.server, droppedId)
      yield* advance(STEP_MS)
      assert.isFalse(linkOf(s.server, droppedId), "the server saw the connection go")
      yield* advanceTo(deadline - STEP_MS)
      assert.isTrue(exists(s.server, "/dropped"), "a broken connection ended its session before the timeout")
      yield* advanceTo(deadline + STEP_MS)
      assert.isFalse(exists(s.server, "/dropped"))

      // The idle client pinged all along on its first connection: session and ephemeral live on.
      yield* advance(3 * TIMEOUT)
      assert.isTrue(exists(s.server, "/idle"))
      assert.strictEqual(s.server.core.tree.get("/idle")!.owner, idleId)
      assert.strictEqual(yield* idle.state, "Connected")
      assert.strictEqual([...s.server.core.connections].filter((c) => c.session?.id === idleId).length, 1)
      assert.isAbove(deadlineOf(s.server, idleId), yield* now, "its deadline keeps moving")
    }))
})

describe("TTL nodes and containers on TestClock", () => {
  it.scoped("a TTL node goes at the first check after its TTL since its last change, once childless; an emptied container at the next check", () =>
    Effect.gen(function*() {
      const s = yield* standalone({ tickTime: TICK, containerCheckIntervalMs: CHECK_MS })
      const zk = yield* run(s.client("c"))
      yield* run(zk.create("/c", "", { mode: CreateMode.CONTAINER }))
      yield* run(zk.create("/c/k"))
      yield* run(zk.create("/never", "", { mode: CreateMode.CONTAINER }))
      yield* run(zk.create("/plain"))
      const created = yield* now
      const ttl = { mode: CreateMode.PERSISTENT_WITH_TTL, ttl: TTL_MS }
      yield* run(zk.create("/ttl", "", ttl))
      yield* run(zk.create("/ttl-kid", "", ttl))
      yield* run(zk.create("/ttl-kid/k"))
      yield* run(zk.create("/touched", "", ttl))
      const ttlMtime = s.server.core.tree.get("/ttl")!.mtime
      assert.isAtMost(ttlMtime - created, 5 * STEP_MS)

      // Several checks with the container's child in place and every TTL unexpired: nothing goes.
      yield* advanceTo(ttlMtime + TTL_MS - 2 * CHECK_MS)
      yield* run(zk.setData("/touched", "x")) // its TTL counts again from here
      const touchedMtime = s.server.core.tree.get("/touched")!.mtime
      yield* advanceTo(ttlMtime + TTL_MS)
      for (const p of ["/c", "/never", "/plain", "/ttl", "/ttl-kid", "/touched"]) assert.isTrue(exists(s.server, p), `${p} removed early`)

      // The first check after the TTL removes the childless TTL node only.
      yield* advanceTo(ttlMtime + TTL_MS + CHECK_MS + STEP_MS)
      assert.isFalse(exists(s.server, "/ttl"))
      for (const p of ["/ttl-kid", "/touched", "/c", "/never"]) assert.isTrue(exists(s.server, p), `${p} removed`)

      // Emptying the container: it goes at the next check, and a watcher hears it.
      const { watch } = yield* run(zk.existsWatch("/c"))
      yield* run(zk.delete("/c/k"))
      yield* advance(CHECK_MS + STEP_MS)
      assert.isFalse(exists(s.server, "/c"))
      assert.deepStrictEqual(yield* run(watch), { type: "NodeDeleted", path: "/c" })

      // The touched node goes one TTL after its setData; ttl-kid (TTL long past) as soon as it is childless.
      yield* advanceTo(touchedMtime + TTL_MS)
      assert.isTrue(exists(s.server, "/touched"))
      yield* advanceTo(touchedMtime + TTL_MS + CHECK_MS + STEP_MS)
      assert.isFalse(exists(s.server, "/touched"))
      assert.isTrue(exists(s.server, "/ttl-kid"), "a TTL node with a child stays")
      yield* run(zk.delete("/ttl-kid/k"))
      yield* advance(CHECK_MS + STEP_MS)
      assert.isFalse(exists(s.server, "/ttl-kid"))

      // A container that never had a child, and a plain node, stay (maxNeverUsedIntervalMs is 0).
      assert.isTrue(exists(s.server, "/never"))
      assert.isTrue(exists(s.server, "/plain"))
    }))

  it.scoped("with containerMaxNeverUsedIntervalMs set, a never-used container goes once that long has passed since its change", () =>
    Effect.gen(function*() {
      const s = yield* standalone({ tickTime: TICK, containerCheckIntervalMs: CHECK_MS, containerMaxNeverUsedIntervalMs: 3000 })
      const zk = yield* run(s.client("c"))
      yield* run(zk.create("/never", "", { mode: CreateMode.CONTAINER }))
      const mtime = s.server.core.tree.get("/never")!.mtime
      yield* advanceTo(mtime + 3000)
      assert.isTrue(exists(s.server, "/never"))
      yield* advanceTo(mtime + 3000 + CHECK_MS + STEP_MS)
      assert.isFalse(exists(s.server, "/never"))
    }))
})
