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
})
