/** Framed reading and writing over the memory network (chunked delivery, backpressure, limits). */
import { assert, describe, it } from "@effect/vitest"
import { Duration, Effect, Fiber, Option, TestClock } from "effect"
import * as Framed from "../../src/net/Framed.js"
import * as Memory from "../../src/net/Memory.js"
import type { Socket } from "../../src/net/Transport.js"

const advance = (ms: number) => TestClock.adjust(Duration.millis(ms))

/** A connected pair over a chunking network; both ends wrapped in Framed. */
const pair = (seed: number, readHighWaterBytes?: number) =>
  Effect.gen(function*() {
    const net = yield* Memory.makeNetwork({ seed, latencyMs: 1, jitterMs: 4, highWaterBytes: 256 })
    const accepted: Array<Socket> = []
    yield* net.transportFor("b").listen({ host: "b", port: 1 }, (s) => accepted.push(s))
    const connecting = yield* Effect.fork(net.transportFor("a").connect({ host: "b", port: 1 }))
    yield* advance(10)
    const options = { maxFrameBytes: 1000, ...(readHighWaterBytes === undefined ? {} : { readHighWaterBytes }) }
    return { net, a: Framed.make(yield* connecting, options), b: Framed.make(accepted[0]!, options) }
  })

/** Runs `self` while advancing the clock until it completes. */
const drive = <A, E>(self: Effect.Effect<A, E>) =>
  Effect.gen(function*() {
    const fiber = yield* Effect.fork(self)
    for (let i = 0; i < 500 && Option.isNone(yield* Fiber.poll(fiber)); i++) yield* advance(5)
    return yield* Fiber.join(fiber)
  })

describe("Framed", () => {
  it.scoped("frames survive seeded splitting and coalescing; take reads raw bytes across chunks", () =>
    Effect.gen(function*() {
      for (const seed of [1, 2, 3, 4, 5]) {
        const { a, b } = yield* pair(seed)
        const frames = Array.from({ length: 20 }, (_, i) => Uint8Array.from({ length: (i * 37) % 300 }, (_, j) => (i + j) & 0xff))
        for (const f of frames) yield* a.sendFrame(f).pipe(Effect.fork)
        yield* a.send(Uint8Array.of(9, 8, 7)).pipe(Effect.fork)
        const got = yield* drive(Effect.forEach(frames, () => b.frame))
        assert.deepStrictEqual(got, frames, `seed ${seed}`)
        assert.deepStrictEqual(yield* drive(b.take(3)), Uint8Array.of(9, 8, 7))
      }
    }))

  it.scoped("an oversized frame fails before it is read; a closed stream fails the pending take", () =>
    Effect.gen(function*() {
      const { a, b } = yield* pair(1)
      yield* a.send(Uint8Array.of(0, 0, 4, 0))
      const tooLarge = yield* drive(Effect.flip(b.frame))
      assert.match(tooLarge.message, /frame length 1024/)
      const { a: a2, b: b2 } = yield* pair(2)
      const pending = yield* Effect.fork(Effect.flip(b2.take(10)))
      yield* a2.send(Uint8Array.of(1, 2))
      a2.socket.end()
      yield* advance(20)
      assert.strictEqual((yield* Fiber.join(pending)).reason, "Closed")
    }))

  it.scoped("send waits while the reader does not read, and completes once it does", () =>
    Effect.gen(function*() {
      const { a, b } = yield* pair(1, 64)
      const sending = yield* Effect.fork(Effect.forEach(Array.from({ length: 10 }, () => new Uint8Array(200)), (f) => a.sendFrame(f)))
      yield* advance(200)
      assert.isTrue(Option.isNone(yield* Fiber.poll(sending)), "send completed although nobody read")
      const read = yield* drive(Effect.forEach(Array.from({ length: 10 }), () => b.frame))
      assert.strictEqual(read.length, 10)
      yield* drive(Fiber.join(sending))
    }))
})
