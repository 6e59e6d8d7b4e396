/**
 * SNAP in a whole in-process ensemble (fixed leader s3): the leader streams a large snapshot to a
 * wiped follower chunk by chunk while it goes on committing writes with the other follower; the
 * rejoined follower ends with every write, the leader's digest, and a snapshot file of its own
 * that it restarts from.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import * as Testing from "../../../src/quorum/Testing.js"
import { allServing, bytes, client } from "./Ensemble.js"
import { drive } from "./FakeLeader.js"

const text = (b: Uint8Array | null) => (b === null ? null : new TextDecoder().decode(b))

describe("SNAP sync", () => {
  it.scoped("the leader keeps committing while a large SNAP streams to a third follower, which then holds every write and restarts from the snapshot it received", () =>
    Effect.gen(function* () {
      const ens = yield* Testing.ensemble({ nodes: 3, leader: 3 })
      yield* allServing(ens)
      // About 9 MB of snapshot: dozens of chunks, each waiting for the memory link to drain.
      const big = new Uint8Array(60_000).fill(7)
      yield* drive(
        Effect.gen(function* () {
          const zk = yield* client(ens, "s3:2181")
          for (let i = 0; i < 150; i++) yield* zk.create(`/big${i}`, big)
          yield* zk.create("/counter", bytes("0"))
        }),
        50
      )
      const s1 = ens.peers[0]!
      yield* s1.stop
      yield* s1.wipe
      yield* s1.start
      const streaming = () => ens.peers[2]!.running()!.core()!.quorumCounters()["snapshots_streaming"] ?? 0
      const load = yield* drive(
        Effect.gen(function* () {
          const zk = yield* client(ens, "s2:2181")
          let n = 0
          let during = 0
          while (s1.running()?.core() == null) {
            const before = streaming()
            yield* zk.setData("/counter", bytes(String(++n)))
            if (before > 0 && streaming() > 0) during++
          }
          return { n, during }
        }),
        5
      )
      assert.isAtLeast(load.during, 3, `writes committed from start to end within the SNAP stream (of ${load.n})`)

      const seen = yield* drive(
        Effect.gen(function* () {
          const zk = yield* client(ens, "s1:2181")
          yield* zk.sync("/")
          return { counter: text((yield* zk.getData("/counter")).data), big: (yield* zk.getData("/big149")).data?.length }
        }),
        50
      )
      assert.deepStrictEqual(seen, { counter: String(load.n), big: 60_000 })
      const trees = ens.peers.map((p) => p.running()!.context.store.tree)
      assert.strictEqual(trees[0]!.lastProcessedZxid, trees[2]!.lastProcessedZxid)
      assert.deepStrictEqual([trees[0]!.digest.hi, trees[0]!.digest.lo], [trees[2]!.digest.hi, trees[2]!.digest.lo], "the replayed fuzzy snapshot has the leader's digest")
      assert.strictEqual(s1.running()!.core()!.stats.digestMismatches, 0)

      // Power loss, then restart: the data dir holds the snapshot written from the stream.
      yield* s1.crash
      yield* s1.start
      const recovered = s1.running()!.context.store.recovery
      assert.isNotNull(recovered.snapshot, "recovered from the SNAP-received snapshot")
      assert.isAbove(recovered.replayedTxns, 0, "and the txns logged after it")
      assert.deepStrictEqual(recovered.digestMismatches, [])
      assert.isDefined(s1.running()!.context.store.tree.get("/big149"))
      yield* allServing(ens)
      const after = yield* drive(
        Effect.gen(function* () {
          const zk = yield* client(ens, "s1:2181")
          yield* zk.sync("/")
          return text((yield* zk.getData("/counter")).data)
        }),
        50
      )
      assert.strictEqual(after, String(load.n))
    }))
})
