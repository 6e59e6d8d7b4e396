/**
 * A full (or failing) disk: the in-process server on the fault-injecting memory disk. Writes must
 * wait unacknowledged while the log cannot be written, reads keep being answered, the writes go
 * through once space returns, and a crash afterwards loses none of them.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Fiber, Layer, Option, type Scope } from "effect"
import * as Disk from "../../src/disk/Disk.js"
import * as Server from "../../src/server/Server.js"
import * as Testing from "../../src/server/Testing.js"
import { client, eventually, text } from "../client/helpers.js"

const bytes = (s: string) => new TextEncoder().encode(s)

/** Runs `use` against a server on the given (shared) memory disk. */
const withServer = <A, E>(disk: Layer.Layer<Disk.Disk | Disk.MemoryDisk>, use: (connectString: string) => Effect.Effect<A, E, Scope.Scope>) =>
  Effect.scoped(
    Effect.gen(function* () {
      const server = yield* Server.ZkServer
      return yield* Effect.scoped(use(`127.0.0.1:${server.port}`))
    }).pipe(Effect.provide(Testing.layerOnDisk({ snapCount: 1000 }).pipe(Layer.provide(disk))))
  )

describe("disk full", () => {
  it.live("writes wait unacknowledged, reads go on, the writes land when space returns, a crash keeps them", () =>
    Effect.gen(function* () {
      const { disk, control } = Disk.makeMemory()
      const diskLayer = Layer.merge(Layer.succeed(Disk.Disk, disk), Layer.succeed(Disk.MemoryDisk, control))

      yield* withServer(diskLayer, (cs) =>
        Effect.gen(function* () {
          const writer = yield* client(cs)
          const reader = yield* client(cs)
          yield* writer.create("/before", bytes("1"))
          // Not one more byte fits.
          yield* control.setFaults({ writeLimitBytes: control.bytesWritten() })
          const pending = yield* Effect.fork(writer.create("/during", bytes("2")))
          yield* Effect.sleep("400 millis")
          assert.isTrue(Option.isNone(yield* Fiber.poll(pending)), "a write was acknowledged while the disk was full")
          assert.strictEqual(text((yield* reader.getData("/before")).data), "1", "reads are served meanwhile")
          assert.isTrue(Option.isNone(yield* reader.exists("/during")), "an unlogged write is visible")
          yield* control.setFaults({ writeLimitBytes: null })
          assert.strictEqual(yield* Fiber.join(pending), "/during")
          assert.strictEqual(text((yield* reader.getData("/during")).data), "2")
        })
      )

      // Power loss after the server stopped: what was acknowledged is still there.
      yield* control.crash({ tear: true })
      yield* withServer(diskLayer, (cs) =>
        Effect.gen(function* () {
          const zk = yield* client(cs)
          yield* eventually(Effect.map(zk.exists("/during"), Option.isSome), 5_000, "/during after restart")
          assert.strictEqual(text((yield* zk.getData("/before")).data), "1")
        })
      )
    })
  )

  it.live("a failing fsync holds writes back the same way", () =>
    Effect.gen(function* () {
      const { disk, control } = Disk.makeMemory()
      const diskLayer = Layer.merge(Layer.succeed(Disk.Disk, disk), Layer.succeed(Disk.MemoryDisk, control))
      yield* withServer(diskLayer, (cs) =>
        Effect.gen(function* () {
          const zk = yield* client(cs)
          yield* zk.create("/x", bytes("0"))
          yield* control.setFaults({ failSync: true })
          const pending = yield* Effect.fork(zk.setData("/x", bytes("1")))
          yield* Effect.sleep("300 millis")
          assert.isTrue(Option.isNone(yield* Fiber.poll(pending)))
          yield* control.setFaults({ failSync: false })
          assert.strictEqual((yield* Fiber.join(pending)).version, 1)
        })
      )
    })
  )
})
