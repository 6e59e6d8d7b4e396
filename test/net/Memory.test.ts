/** The in-memory network on TestClock: TCP's guarantees under latency, chunking and faults. */
import { assert, describe, it } from "@effect/vitest"
import { Duration, Effect, Exit, FastCheck, TestClock } from "effect"
import * as Memory from "../../src/net/Memory.js"
import type { Socket, TransportError } from "../../src/net/Transport.js"

/** What one end of a connection saw. */
interface Seen {
  bytes: Array<number>
  chunks: number
  ended: boolean
  closed: boolean | null
  errors: Array<TransportError["reason"]>
  drains: number
}

const watch = (socket: Socket): Seen => {
  const seen: Seen = { bytes: [], chunks: 0, ended: false, closed: null, errors: [], drains: 0 }
  socket.setHandlers({
    data: (chunk) => {
      seen.chunks++
      for (const b of chunk) seen.bytes.push(b)
    },
    end: () => void (seen.ended = true),
    close: (hadError) => void (seen.closed = hadError),
    error: (e) => void seen.errors.push(e.reason),
    drain: () => void seen.drains++
  })
  return seen
}

const advance = (ms: number) => TestClock.adjust(Duration.millis(ms))

/** A network with hosts a and b, b listening on port 7; returns the client socket and both views. */
const pair = (options: Memory.NetworkOptions, listen: { allowHalfOpen?: boolean } = {}) =>
  Effect.gen(function*() {
    const net = yield* Memory.makeNetwork(options)
    const servers: Array<{ socket: Socket; seen: Seen }> = []
    yield* net.transportFor("b").listen({ host: "0.0.0.0", port: 7, ...listen }, (socket) => servers.push({ socket, seen: watch(socket) }))
    const client = yield* Effect.fork(net.transportFor("a").connect({ host: "b", port: 7 }))
    yield* advance(1000)
    const socket = yield* client
    return { net, client: socket, clientSeen: watch(socket), server: servers[0]!.socket, serverSeen: servers[0]!.seen }
  })

const pattern = (from: number, length: number) => Uint8Array.from({ length }, (_, i) => (from + i) & 0xff)

describe("Memory network", () => {
  it.scoped("delivers every byte once and in order under latency, jitter and chunking (seeds)", () =>
    Effect.gen(function*() {
      const cases = FastCheck.sample(
        FastCheck.record({ seed: FastCheck.integer(), sizes: FastCheck.array(FastCheck.integer({ min: 1, max: 300 }), { minLength: 1, maxLength: 20 }) }),
        { numRuns: 15, seed: 42 }
      )
      for (const { seed, sizes } of cases) {
        const { client, serverSeen } = yield* pair({ seed, latencyMs: 3, jitterMs: 20 })
        let sent = 0
        for (const size of sizes) {
          client.write(pattern(sent, size))
          sent += size
          yield* advance(1)
        }
        yield* advance(100)
        assert.deepStrictEqual(serverSeen.bytes, Array.from(pattern(0, sent)), `seed ${seed}`)
      }
    }))

  it.scoped("splits and coalesces writes, so readers must reassemble", () =>
    Effect.gen(function*() {
      const { client, serverSeen } = yield* pair({ seed: 7, latencyMs: 0, jitterMs: 5 })
      for (let i = 0; i < 50; i++) client.write(pattern(i * 10, 10))
      yield* advance(50)
      assert.strictEqual(serverSeen.bytes.length, 500)
      assert.notStrictEqual(serverSeen.chunks, 50)
    }))

  it.scoped("delivers asynchronously even at zero latency", () =>
    Effect.gen(function*() {
      const { client, serverSeen } = yield* pair({ latencyMs: 0, chunking: false })
      client.write(pattern(0, 4))
      assert.strictEqual(serverSeen.bytes.length, 0)
      yield* advance(0)
      assert.deepStrictEqual(serverSeen.bytes, [0, 1, 2, 3])
    }))

  it.scoped("bytes wait for the reader's data handler instead of being lost", () =>
    Effect.gen(function*() {
      const net = yield* Memory.makeNetwork({ latencyMs: 1 })
      const accepted: Array<Socket> = []
      yield* net.transportFor("b").listen({ host: "b", port: 7 }, (s) => accepted.push(s))
      const connecting = yield* Effect.fork(net.transportFor("a").connect({ host: "b", port: 7 }))
      yield* advance(10)
      const client = yield* connecting
      client.write(pattern(0, 8))
      yield* advance(50)
      const seen = watch(accepted[0]!)
      yield* advance(0)
      assert.deepStrictEqual(seen.bytes, Array.from(pattern(0, 8)))
    }))

  it.scoped("write returns false over the high-water mark; drain fires once the paused peer reads", () =>
    Effect.gen(function*() {
      const { client, clientSeen, server, serverSeen } = yield* pair({ latencyMs: 1, highWaterBytes: 1024 })
      server.pause()
      assert.isTrue(client.write(pattern(0, 512)))
      assert.isFalse(client.write(pattern(512, 1024)))
      assert.strictEqual(client.writableLength, 1536)
      yield* advance(100)
      assert.strictEqual(serverSeen.bytes.length, 0)
      assert.strictEqual(clientSeen.drains, 0)
      server.resume()
      yield* advance(1)
      assert.deepStrictEqual(serverSeen.bytes, Array.from(pattern(0, 1536)))
      assert.strictEqual(clientSeen.drains, 1)
      assert.strictEqual(client.writableLength, 0)
    }))

  it.scoped("a reset is seen by both ends as an error and close(true); later writes are dropped", () =>
    Effect.gen(function*() {
      const { client, clientSeen, net, serverSeen } = yield* pair({ latencyMs: 5 })
      client.write(pattern(0, 10))
      net.reset("a", "b")
      yield* advance(100)
      client.write(pattern(0, 10))
      yield* advance(100)
      for (const seen of [clientSeen, serverSeen]) {
        assert.deepStrictEqual(seen.errors, ["Reset"])
        assert.isTrue(seen.closed)
      }
      assert.strictEqual(serverSeen.bytes.length, 0)
      assert.strictEqual(net.connectionCount(), 0)
    }))

  it.scoped("abandon: the host's side resets at once; its last bytes reach the peer after its new connection, then the reset", () =>
    Effect.gen(function*() {
      const net = yield* Memory.makeNetwork({ latencyMs: 5, chunking: false })
      const order: Array<string> = []
      let conns = 0
      yield* net.transportFor("b").listen({ host: "b", port: 7 }, (s) => {
        const n = ++conns
        s.setHandlers({ data: (d) => void order.push(`conn${n} ${d.length}`), error: (e) => void order.push(`conn${n} ${e.reason}`) })
      })
      const connect = Effect.fork(net.transportFor("a").connect({ host: "b", port: 7 }))
      const first = yield* connect
      yield* advance(20)
      const old = yield* first
      const oldSeen = watch(old)
      old.write(pattern(0, 3))
      net.abandon("a", 200)
      yield* advance(1)
      assert.deepStrictEqual(oldSeen.errors, ["Reset"])
      assert.isTrue(oldSeen.closed)
      const second = yield* connect
      yield* advance(20)
      ;(yield* second).write(pattern(0, 4))
      yield* advance(300)
      assert.deepStrictEqual(order, ["conn2 4", "conn1 3", "conn1 Reset"])
    }))

  it.scoped("half-close: end reaches the peer, which may still answer; both close cleanly", () =>
    Effect.gen(function*() {
      const { client, clientSeen, server, serverSeen } = yield* pair({ latencyMs: 2 }, { allowHalfOpen: true })
      client.write(pattern(0, 4))
      client.end()
      yield* advance(10)
      assert.isTrue(serverSeen.ended)
      assert.strictEqual(serverSeen.closed, null)
      server.write(pattern(9, 3))
      server.end()
      yield* advance(10)
      assert.deepStrictEqual(clientSeen.bytes, [9, 10, 11])
      assert.isTrue(clientSeen.ended)
      assert.isFalse(clientSeen.closed)
      assert.isFalse(serverSeen.closed)
    }))

  it.scoped("connects fail: Refused without listener or when refused, Unreachable for unknown hosts, AddressInUse", () =>
    Effect.gen(function*() {
      const net = yield* Memory.makeNetwork()
      const a = net.transportFor("a")
      yield* net.transportFor("b").listen({ host: "b", port: 7 }, () => {})
      const reason = (port: number, host = "b") => Effect.map(Effect.flip(a.connect({ host, port })), (e) => e.reason)
      assert.strictEqual(yield* reason(8), "Refused")
      net.refuse("b", 7)
      assert.strictEqual(yield* reason(7), "Refused")
      net.unrefuse("b", 7)
      assert.isTrue(Exit.isSuccess(yield* Effect.exit(a.connect({ host: "b", port: 7 }))))
      assert.strictEqual(yield* reason(7, "nowhere"), "Unreachable")
      const again = yield* Effect.flip(net.transportFor("b").listen({ host: "b", port: 7 }, () => {}))
      assert.strictEqual(again.reason, "AddressInUse")
    }))

  it.scoped("a symmetric partition stalls bytes and connects; after heal the stalled bytes arrive", () =>
    Effect.gen(function*() {
      const { client, clientSeen, net, server, serverSeen } = yield* pair({ latencyMs: 1 })
      net.partition("a", "b")
      client.write(pattern(0, 5))
      server.write(pattern(5, 5))
      const connecting = yield* Effect.fork(Effect.flip(net.transportFor("a").connect({ host: "b", port: 7, timeoutMs: 3000 })))
      yield* advance(5000)
      assert.strictEqual((yield* connecting).reason, "Timeout")
      assert.strictEqual(serverSeen.bytes.length + clientSeen.bytes.length, 0)
      net.heal("a", "b")
      yield* advance(1)
      assert.deepStrictEqual(serverSeen.bytes, Array.from(pattern(0, 5)))
      assert.deepStrictEqual(clientSeen.bytes, Array.from(pattern(5, 5)))
    }))

  it.scoped("a one-way partition stops only one direction", () =>
    Effect.gen(function*() {
      const { client, clientSeen, net, server, serverSeen } = yield* pair({ latencyMs: 1 })
      net.partitionOneWay("a", "b")
      client.write(pattern(0, 5))
      server.write(pattern(5, 5))
      yield* advance(100)
      assert.strictEqual(serverSeen.bytes.length, 0)
      assert.deepStrictEqual(clientSeen.bytes, Array.from(pattern(5, 5)))
      net.heal()
      yield* advance(1)
      assert.deepStrictEqual(serverSeen.bytes, Array.from(pattern(0, 5)))
    }))

  it.scoped("a partition longer than partitionResetAfterMs resets the connections it cuts", () =>
    Effect.gen(function*() {
      const { clientSeen, net, serverSeen } = yield* pair({ latencyMs: 1, partitionResetAfterMs: 2000 })
      net.partition("a", "b")
      yield* advance(1999)
      assert.strictEqual(clientSeen.closed, null)
      yield* advance(10)
      assert.isTrue(clientSeen.closed)
      assert.isTrue(serverSeen.closed)
    }))

  it.scoped("stall holds a link's bytes for its duration", () =>
    Effect.gen(function*() {
      const { client, net, serverSeen } = yield* pair({ latencyMs: 1 })
      net.stall("a", "b", 500)
      client.write(pattern(0, 5))
      yield* advance(499)
      assert.strictEqual(serverSeen.bytes.length, 0)
      yield* advance(2)
      assert.strictEqual(serverSeen.bytes.length, 5)
    }))

  it.scoped("the same seed replays the same delivery trace; another seed differs", () =>
    Effect.gen(function*() {
      const run = (seed: number) =>
        Effect.scoped(Effect.gen(function*() {
          const { client, net, server } = yield* pair({ seed, latencyMs: 2, jitterMs: 10, trace: true })
          for (let i = 0; i < 20; i++) {
            client.write(pattern(i, 17))
            server.write(pattern(i, 9))
            yield* advance(3)
          }
          yield* advance(100)
          return [...net.trace]
        }))
      const first = yield* run(99)
      assert.isAbove(first.length, 20)
      assert.deepStrictEqual(yield* run(99), first)
      assert.notDeepEqual(yield* run(100), first)
    }))

  it.scoped("names: a host and loopback resolve to themselves, setAddresses plays DNS, other names are NotFound", () =>
    Effect.gen(function*() {
      const net = yield* Memory.makeNetwork()
      const a = net.transportFor("a")
      net.transportFor("b")
      assert.deepStrictEqual(yield* a.resolve("b"), ["b"])
      assert.deepStrictEqual(yield* a.resolve("localhost"), ["localhost"])
      assert.strictEqual((yield* Effect.flip(a.resolve("svc"))).reason, "NotFound")
      net.setAddresses("svc", ["b", "a"])
      assert.deepStrictEqual(yield* a.resolve("svc"), ["b", "a"])
      net.setAddresses("svc", ["a"])
      assert.deepStrictEqual(yield* a.resolve("svc"), ["a"])
      net.setAddresses("svc", [])
      assert.strictEqual((yield* Effect.flip(a.resolve("svc"))).reason, "NotFound")
    }))
})
