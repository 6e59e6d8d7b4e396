/** The TCP transport over loopback (real sockets, port 0). */
import { assert, describe, it } from "@effect/vitest"
import { Deferred, Effect, Exit, Option, Scope } from "effect"
import * as Tcp from "../../src/net/Tcp.js"
import type { Socket } from "../../src/net/Transport.js"

const { connect, listen, resolve } = Tcp.transport

/** Resolves with everything the socket receives until the peer half-closes. */
const readToEnd = (socket: Socket) =>
  Effect.async<string>((resume) => {
    const chunks: Array<Uint8Array> = []
    socket.setHandlers({
      data: (chunk) => void chunks.push(chunk),
      end: () => resume(Effect.succeed(Buffer.concat(chunks).toString("utf8")))
    })
  })

describe("Tcp transport", () => {
  it.scopedLive("echoes over loopback, half-closing both ways", () =>
    Effect.gen(function*() {
      // allowHalfOpen: the server answers after the client has shut down its side.
      const bound = yield* listen({ host: "127.0.0.1", port: 0, allowHalfOpen: true }, (socket) => {
        const chunks: Array<Uint8Array> = []
        socket.setHandlers({
          data: (chunk) => void chunks.push(chunk),
          end: () => {
            socket.write(Buffer.concat([Buffer.from("echo:"), ...chunks]))
            socket.end()
          }
        })
      })
      assert.strictEqual(bound.host, "127.0.0.1")
      assert.isAbove(bound.port, 0)
      const socket = yield* connect({ host: "127.0.0.1", port: bound.port, timeoutMs: 5000 })
      assert.strictEqual(socket.remotePort, bound.port)
      const reply = yield* Effect.fork(readToEnd(socket))
      socket.write(Buffer.from("hello "))
      socket.write(Buffer.from("world"))
      socket.end()
      assert.strictEqual(yield* reply, "echo:hello world")
      const closed = yield* Deferred.make<boolean>()
      socket.setHandlers({ close: (hadError) => Deferred.unsafeDone(closed, Effect.succeed(hadError)) })
      socket.destroy()
      assert.isFalse(yield* Deferred.await(closed))
    }))

  it.scopedLive("a closed port refuses; a bound port is AddressInUse", () =>
    Effect.gen(function*() {
      const bound = yield* listen({ host: "127.0.0.1", port: 0 }, (s) => s.destroy())
      const inUse = yield* Effect.flip(listen({ host: "127.0.0.1", port: bound.port }, () => {}))
      assert.strictEqual(inUse.reason, "AddressInUse")
      assert.match(inUse.message, /address already in use/)
      const free = yield* Effect.scoped(listen({ host: "127.0.0.1", port: 0 }, () => {}))
      const refused = yield* Effect.flip(connect({ host: "127.0.0.1", port: free.port }))
      assert.strictEqual(refused.reason, "Refused")
    }))

  it.live("resolve: an address stands for itself, localhost is a loopback address, an .invalid name is NotFound", () =>
    Effect.gen(function*() {
      assert.deepStrictEqual(yield* resolve("10.1.2.3"), ["10.1.2.3"])
      assert.deepStrictEqual(yield* resolve("::1"), ["::1"])
      const local = yield* resolve("localhost")
      assert.isTrue(local.length > 0 && local.every((a) => a === "::1" || a.startsWith("127.")), local.join(","))
      // RFC 6761: .invalid never resolves.
      const missing = yield* Effect.flip(resolve("ezk-no-such-host.invalid"))
      assert.strictEqual(missing.reason, "NotFound")
      assert.match(missing.message, /host name not found: ezk-no-such-host.invalid/)
    }))

  it.scopedLive("closing a listener stops accepting without waiting for its open connections", () =>
    Effect.gen(function*() {
      // The accepted connection stays open (its handler owns it); closing the listener's scope must
      // still finish and free the port. It used to wait for every accepted connection to end.
      const accepted = yield* Deferred.make<Socket>()
      const scope = yield* Scope.make()
      const bound = yield* Scope.extend(listen({ host: "127.0.0.1", port: 0 }, (s) => Deferred.unsafeDone(accepted, Effect.succeed(s))), scope)
      const client = yield* connect({ host: "127.0.0.1", port: bound.port, timeoutMs: 5000 })
      const server = yield* Deferred.await(accepted)
      // disconnect: a release that hangs (uninterruptible) must fail the test, not hang it.
      const closed = yield* Scope.close(scope, Exit.void).pipe(Effect.disconnect, Effect.timeout("5 seconds"), Effect.option)
      assert.isTrue(Option.isSome(closed), "the listener's scope closed although a connection is open")
      const refused = yield* Effect.flip(connect({ host: "127.0.0.1", port: bound.port }))
      assert.strictEqual(refused.reason, "Refused")
      // The open connection still works both ways.
      const got = yield* Deferred.make<string>()
      server.setHandlers({ data: (c) => Deferred.unsafeDone(got, Effect.succeed(Buffer.from(c).toString())) })
      client.write(Buffer.from("still here"))
      assert.strictEqual(yield* Deferred.await(got), "still here")
      client.destroy()
      server.destroy()
    }))
})
