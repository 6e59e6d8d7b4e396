/**
 * The mutex's safety under a partition, deterministically: ezk and two clients in one process
 * on the memory network, driven by TestClock. The holder is cut off from the server; it must be
 * interrupted (LeaseLost) before the server expires its session and the waiter takes the lock,
 * the two holds never overlap, the waiter's fencing token is higher, and the cut-off client
 * learns of the expiry when the partition heals. Several seeds vary latency and chunking.
 */
import { assert, describe, it } from "@effect/vitest"
import { Context, Deferred, Duration, Effect, Exit, Fiber, Layer, Option, Ref, Stream, TestClock } from "effect"
import { ZooKeeper } from "../../../src/client/index.js"
import { Mutex } from "../../../src/client/recipes/index.js"
import * as Disk from "../../../src/disk/Disk.js"
import * as Memory from "../../../src/net/Memory.js"
import { Transport } from "../../../src/net/Transport.js"
import * as Server from "../../../src/server/Server.js"
import * as Testing from "../../../src/server/Testing.js"

const scenario = (seed: number) =>
  Effect.gen(function*() {
    const net = yield* Memory.makeNetwork({ seed, latencyMs: 1, jitterMs: 2 })
    yield* Layer.build(
      Testing.layerOnDisk({ clientPort: 2181 }).pipe(
        Layer.provide(Disk.layerMemory()),
        Layer.provide(Layer.succeed(Transport, net.transportFor("server")))
      )
    ).pipe(Effect.map(Context.get(Server.ZkServer)))
    const connect = (host: string) =>
      ZooKeeper.make({ connectString: "server:2181", sessionTimeoutMs: 4000, reconnectDelayMs: 200 }).pipe(
        Effect.provideService(Transport, net.transportFor(host))
      )
    const a = yield* connect("a")
    const b = yield* connect("b")
    const log = yield* Ref.make<Array<string>>([])
    const inside = yield* Ref.make(0)
    const hold = (who: string) => <A, E, R>(body: Effect.Effect<A, E, R>) =>
      Effect.acquireUseRelease(
        Ref.updateAndGet(inside, (n) => n + 1).pipe(Effect.tap((n) => Ref.update(log, (l) => [...l, `${who} in (${n} inside)`]))),
        () => body,
        () => Ref.update(inside, (n) => n - 1).pipe(Effect.zipRight(Ref.update(log, (l) => [...l, `${who} out`])))
      )
    const aHolds = yield* Deferred.make<number>()
    const holderA = yield* Effect.fork(
      Mutex.make(a, "/lock").withLock((lease) => hold("a")(Effect.zipRight(Deferred.succeed(aHolds, lease.token), Effect.never)))
    )
    const tokenA = yield* Deferred.await(aHolds)
    const holderB = yield* Effect.fork(Mutex.make(b, "/lock").withLock((lease) => hold("b")(Effect.succeed(lease.token))))
    yield* Effect.sleep(100)
    net.partition("a", "server")
    const lostA = yield* Effect.flip(Fiber.join(holderA)).pipe(
      Effect.timeoutFail({ duration: "20 seconds", onTimeout: () => new Error("holder A was never interrupted") })
    )
    const tokenB = yield* Fiber.join(holderB)
    net.heal()
    const aState = yield* a.states.pipe(Stream.filter((s) => s === "Expired"), Stream.runHead)
    return { lostA, tokenA, tokenB, log: yield* Ref.get(log), aState }
  })

describe("mutex under a partition, in process on TestClock", () => {
  for (const seed of [1, 2, 3, 4, 5]) {
    it.scoped(`seed ${seed}: the cut-off holder stops before the next one starts`, () =>
      Effect.gen(function*() {
        const fiber = yield* Effect.fork(Effect.scoped(scenario(seed)))
        for (let i = 0; i < 2000 && Option.isNone(yield* Fiber.poll(fiber)); i++) yield* TestClock.adjust(Duration.millis(20))
        const exit = yield* Fiber.await(fiber)
        assert.isTrue(Exit.isSuccess(exit), `scenario did not finish: ${String(exit)}`)
        if (!Exit.isSuccess(exit)) return
        const { aState, log, lostA, tokenA, tokenB } = exit.value
        assert.isTrue(lostA._tag === "LeaseLost" && lostA.reason === "Suspended", String(lostA))
        assert.isAbove(tokenB, tokenA)
        assert.deepStrictEqual(log, ["a in (1 inside)", "a out", "b in (1 inside)", "b out"])
        assert.isTrue(Option.isSome(aState))
      }))
  }
})
