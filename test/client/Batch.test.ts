/**
 * `zk.batch` in-process on TestClock (test/support/inProcess.ts): results line up with the ops and
 * fail one by one, interruption abandons what is pending, and a session lost mid-batch fails only
 * the ops that had no reply yet.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Either, Fiber, FiberStatus, Option, TestClock } from "effect"
import { Batch, type ZooKeeper } from "../../src/client/index.js"
import { text } from "./helpers.js"
import { now, run, SERVER, standalone } from "../support/inProcess.js"

const left = <A, E>(result: Either.Either<A, E>): E => Either.getLeft(result).pipe(Option.getOrThrow)
const right = <A, E>(result: Either.Either<A, E>): A => Either.getRight(result).pipe(Option.getOrThrow)

/** Waits until `fiber` is suspended, i.e. the batch has started every op it can. */
const suspended = <A, E>(fiber: Fiber.RuntimeFiber<A, E>) =>
  Effect.gen(function*() {
    while (!FiberStatus.isSuspended(yield* fiber.status)) yield* Effect.yieldNow()
  })

describe("zk.batch", () => {
  it.scoped("results line up with the ops, typed per op; each op fails on its own", () =>
    Effect.gen(function*() {
      const s = yield* standalone()
      const zk = yield* run(s.client("c"))
      const results = yield* run(zk.batch([
        Batch.create("/b", "v0"),
        Batch.getData("/b"),
        Batch.setData("/b", "v1", 0),
        Batch.setData("/b", "v2", 7),
        Batch.getData("/missing"),
        Batch.exists("/missing"),
        Batch.create("/b/child"),
        Batch.getChildren("/b"),
        Batch.delete("/b")
      ]))
      assert.strictEqual(results.length, 9)
      assert.strictEqual(right(results[0]), "/b")
      assert.strictEqual(text(right(results[1]).data), "v0")
      assert.strictEqual(right(results[2]).version, 1)
      const badVersion = left(results[3])
      assert.isTrue(badVersion._tag === "KeeperError" && badVersion.code === "BadVersion" && badVersion.path === "/b")
      const noNode = left(results[4])
      assert.isTrue(noNode._tag === "KeeperError" && noNode.code === "NoNode" && noNode.path === "/missing")
      assert.isTrue(Option.isNone(right(results[5])))
      assert.strictEqual(right(results[6]), "/b/child")
      assert.deepStrictEqual(right(results[7]), ["child"])
      const notEmpty = left(results[8])
      assert.isTrue(notEmpty._tag === "KeeperError" && notEmpty.code === "NotEmpty")
      // The ops were applied in order: the failed ones changed nothing.
      const { data, stat } = yield* run(zk.getData("/b"))
      assert.strictEqual(text(data), "v1")
      assert.strictEqual(stat.version, 1)
      assert.deepStrictEqual(yield* run(zk.batch([])), [])
    }))

  it.scoped("a batch larger than maxPendingRequests goes through in slot-sized steps", () =>
    Effect.gen(function*() {
      const s = yield* standalone()
      const zk = yield* run(s.client("c", { maxPendingRequests: 3 }))
      const paths = Array.from({ length: 20 }, (_, i) => `/n${i}`)
      const created = yield* run(zk.batch(paths.map((p) => Batch.create(p, p))))
      assert.deepStrictEqual(created.map(right), paths)
      const read = yield* run(zk.batch(paths.map((p) => Batch.getData(p))))
      assert.deepStrictEqual(read.map((r) => text(right(r).data)), paths)
    }))

  it.scoped("interruption abandons pending ops: waiting ones are never sent, slots come back, later replies still match", () =>
    Effect.gen(function*() {
      const s = yield* standalone()
      const zk = yield* run(s.client("c", { maxPendingRequests: 2 }))
      yield* run(zk.create("/i"))
      // Two creates go out at once, the other two wait for a slot; no reply can come while the clock stands still.
      const batch = yield* Effect.fork(zk.batch(["/i/a", "/i/b", "/i/c", "/i/d"].map((p) => Batch.create(p))))
      yield* suspended(batch)
      yield* Fiber.interrupt(batch)
      // Both slots are free again (or these would wait forever), and the two dropped replies do not shift the xids.
      const after = yield* run(zk.batch([Batch.getChildren("/i"), Batch.exists("/i/c")]))
      assert.deepStrictEqual([...right(after[0])].sort(), ["a", "b"])
      assert.isTrue(Option.isNone(right(after[1])))
    }))

  it.scoped("session lost mid-batch: answered ops keep their results, the others fail one by one; then SessionExpired", () =>
    Effect.gen(function*() {
      const s = yield* standalone({ tickTime: 1000 })
      const zk: ZooKeeper.Client = yield* run(s.client("c", { sessionTimeoutMs: 4000, maxPendingRequests: 1 }))
      yield* run(zk.create("/s", "v0"))
      const zxid = yield* zk.lastZxid
      // One op at a time (one slot): cut the link right after the first reply, before the second.
      const batch = yield* Effect.fork(zk.batch([Batch.setData("/s", "v1"), Batch.setData("/s", "v2"), Batch.getData("/s")]))
      while ((yield* zk.lastZxid) === zxid) yield* TestClock.adjust(1)
      s.network.partition("c", SERVER)
      const results = yield* run(Fiber.join(batch))
      assert.strictEqual(right(results[0]).version, 1)
      assert.strictEqual(left(results[1])._tag, "ConnectionLoss")
      assert.strictEqual(left(results[2])._tag, "ConnectionLoss")
      // The server expires the session while the client cannot reach it.
      yield* run(Effect.gen(function*() {
        while ((yield* zk.state) === "Disconnected") {
          yield* Effect.sleep(1000)
          if ((yield* now) > 20_000) s.network.heal()
        }
      }))
      assert.strictEqual(yield* zk.state, "Expired")
      const later = yield* run(zk.batch([Batch.getData("/s"), Batch.exists("/")]))
      assert.deepStrictEqual([left(later[0])._tag, left(later[1])._tag], ["SessionExpired", "SessionExpired"])
    }))
})
