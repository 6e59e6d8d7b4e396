/**
 * The real server and the real Effect client in one process on the memory network and TestClock:
 * no real socket is opened, and every byte crosses the simulated network (chunked, with latency).
 */
import { assert, describe, it } from "@effect/vitest"
import { Context, Duration, Effect, Fiber, Layer, Option, TestClock } from "effect"
import { ZooKeeper } from "../../src/client/index.js"
import * as Disk from "../../src/disk/Disk.js"
import * as Memory from "../../src/net/Memory.js"
import { Transport } from "../../src/net/Transport.js"
import * as Server from "../../src/server/Server.js"
import * as Testing from "../../src/server/Testing.js"

const bytes = (s: string) => new TextEncoder().encode(s)

describe("server and client on the memory network", () => {
  it.scoped("create and getData over simulated links, driven by TestClock", () =>
    Effect.gen(function*() {
      const net = yield* Memory.makeNetwork({ seed: 3, latencyMs: 2, jitterMs: 3, trace: true })
      const server = yield* Layer.build(
        Testing.layerOnDisk({ clientPort: 2181 }).pipe(
          Layer.provide(Disk.layerMemory()),
          Layer.provide(Layer.succeed(Transport, net.transportFor("server")))
        )
      ).pipe(Effect.map(Context.get(Server.ZkServer)))
      assert.strictEqual(server.host, "server")
      assert.strictEqual(server.port, 2181)

      const session = Effect.scoped(
        Effect.gen(function*() {
          const zk = yield* ZooKeeper.make({ connectString: "server:2181", sessionTimeoutMs: 10_000 })
          yield* zk.create("/hello", bytes("world"))
          return yield* zk.getData("/hello")
        })
      ).pipe(Effect.provideService(Transport, net.transportFor("client")))
      const fiber = yield* Effect.fork(session)
      for (let i = 0; i < 100 && Option.isNone(yield* Fiber.poll(fiber)); i++) yield* TestClock.adjust(Duration.millis(10))
      const result = yield* Fiber.join(fiber)
      assert.strictEqual(new TextDecoder().decode(result.data!), "world")
      assert.isTrue(net.trace.some((line) => line.includes("client:") && line.includes(">server:2181")))
    }))

  it.scoped("a virtual clock standing at a fraction of a ms still gives whole-ms txn times", () =>
    Effect.gen(function*() {
      const net = yield* Memory.makeNetwork({ seed: 4, latencyMs: 1 })
      yield* Layer.build(
        Testing.layerOnDisk({ clientPort: 2181 }).pipe(
          Layer.provide(Disk.layerMemory()),
          Layer.provide(Layer.succeed(Transport, net.transportFor("server")))
        )
      )
      // A jittered retry schedule sleeps fractions of a ms, and a shared virtual clock follows it.
      yield* TestClock.adjust(Duration.millis(0.5))
      const session = Effect.scoped(
        Effect.gen(function*() {
          const zk = yield* ZooKeeper.make({ connectString: "server:2181", sessionTimeoutMs: 10_000 })
          yield* zk.create("/t", bytes("x"))
          return (yield* zk.getData("/t")).stat
        })
      ).pipe(Effect.provideService(Transport, net.transportFor("client")))
      const fiber = yield* Effect.fork(session)
      // Bounded: without whole-ms times the server failed the txn and the client waited for ever.
      for (let i = 0; i < 100 && Option.isNone(yield* Fiber.poll(fiber)); i++) yield* TestClock.adjust(Duration.millis(10))
      assert.isTrue(Option.isSome(yield* Fiber.poll(fiber)), "no reply to the create")
      const stat = yield* Fiber.join(fiber)
      assert.isTrue(Number.isInteger(stat.ctime), `ctime ${stat.ctime}`)
    }))
})
