/**
 * Whole ensembles in one process: three peers on the memory network, each with its own memory
 * disk, driven by TestClock. The leader is fixed here (the roles are under test, not the election).
 */
import { assert, describe, it } from "@effect/vitest"
import { Duration, Effect, Fiber, Option, type Scope, TestClock } from "effect"
import { ZooKeeper } from "../../src/client/index.js"
import * as Disk from "../../src/disk/Disk.js"
import * as Memory from "../../src/net/Memory.js"
import { Transport } from "../../src/net/Transport.js"
import * as Config from "../../src/server/Config.js"
import * as Peer from "../../src/quorum/Peer.js"
import * as QuorumServer from "../../src/quorum/QuorumServer.js"

const bytes = (s: string) => new TextEncoder().encode(s)
const text = (b: Uint8Array | null) => (b === null ? null : new TextDecoder().decode(b))

const ensembleConfig = (n: number, observers = 0): Config.ZkConfig =>
  Config.make({
    tickTime: 2000,
    clientPort: 2181,
    dataDir: "/data",
    quorum: {
      ...Config.defaults.quorum,
      initLimit: 10,
      syncLimit: 5,
      servers: Array.from({ length: n + observers }, (_, i) => ({
        sid: i + 1,
        addresses: [{ host: `s${i + 1}`, quorumPort: 2888, electionPort: 3888 }],
        type: i < n ? ("participant" as const) : ("observer" as const),
        clientAddress: undefined,
        spec: `s${i + 1}:2888:3888`
      }))
    }
  })

/** Starts peer `sid` on its own memory disk and host; returns the running peer. */
const startPeer = (net: Memory.Network, config: Config.ZkConfig, sid: number, elector: Peer.Elector) =>
  QuorumServer.make({ ...config, clientPortAddress: `s${sid}` }, { sid, elector }).pipe(
    Effect.provideService(Transport, net.transportFor(`s${sid}`)),
    Effect.provide(Disk.layerMemory())
  )

/** Runs `eff` (forked) while advancing TestClock in steps, until it completes. */
const drive = <A, E>(eff: Effect.Effect<A, E, Scope.Scope>, stepMs = 50, maxSteps = 2000) =>
  Effect.gen(function* () {
    const fiber = yield* Effect.fork(Effect.scoped(eff))
    for (let i = 0; i < maxSteps && Option.isNone(yield* Fiber.poll(fiber)); i++) yield* TestClock.adjust(Duration.millis(stepMs))
    return yield* Fiber.join(fiber)
  })

const client = (net: Memory.Network, connectString: string) =>
  ZooKeeper.make({ connectString, sessionTimeoutMs: 10_000 }).pipe(Effect.provideService(Transport, net.transportFor("client")))

describe("in-process ensemble (fixed leader)", () => {
  it.scoped("three peers: the leader serves after a quorum synced; writes through a follower are read on every peer", () =>
    Effect.gen(function* () {
      const net = yield* Memory.makeNetwork({ seed: 1, latencyMs: 1, jitterMs: 1 })
      const config = ensembleConfig(3)
      const elector = Peer.fixedElector(3)
      const peers = yield* Effect.all([1, 2, 3].map((sid) => startPeer(net, config, sid, elector)))
      yield* drive(
        Effect.gen(function* () {
          while (peers.some((p) => p.core() === null)) yield* Effect.sleep(Duration.millis(100))
        })
      )
      assert.deepStrictEqual(peers.map((p) => p.status.state), ["FOLLOWING", "FOLLOWING", "LEADING"])

      const result = yield* drive(
        Effect.gen(function* () {
          const zk = yield* client(net, "s1:2181")
          yield* zk.create("/a", bytes("one"))
          yield* zk.setData("/a", bytes("two"))
          const reads = []
          for (const host of ["s1", "s2", "s3"]) {
            const other = yield* client(net, `${host}:2181`)
            yield* other.sync("/a")
            reads.push(text((yield* other.getData("/a")).data))
          }
          return reads
        })
      )
      assert.deepStrictEqual(result, ["two", "two", "two"])
      // Every peer applied the same txns.
      const zxids = peers.map((p) => p.context.store.tree.lastProcessedZxid)
      assert.strictEqual(new Set(zxids).size, 1, `last zxids ${zxids.map((z) => z.toString(16)).join(",")}`)
      assert.strictEqual(Math.floor(zxids[0]! / 2 ** 32), 1, "the first epoch is 1")
    }))
})
