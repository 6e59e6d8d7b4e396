/**
 * DIFF from the leader's txn log on disk (quorum.md §4.3): a leader restarted after many writes holds
 * only the last 500 of them in its committed log, yet a follower that lagged further behind is
 * brought up with a DIFF read from the txn log, not a SNAP, as long as those txns are small next to
 * the data a SNAP would send.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import * as Testing from "../../../src/quorum/Testing.js"
import { allServing, bytes, client } from "./Ensemble.js"
import { drive } from "./FakeLeader.js"

const range = (n: number) => Array.from({ length: n }, (_, i) => i)
const snapshotFiles = (peer: Testing.PeerHandle) => [...peer.disk.files().keys()].filter((f) => /\/snapshot\.[0-9a-f]+$/.test(f)).sort()

describe("DIFF from the txn log", () => {
  it.scoped("a restarted leader DIFFs a follower older than its committed log from the txn log, and it ends with every write and the leader's digest", () =>
    Effect.gen(function* () {
      const ens = yield* Testing.ensemble({ nodes: 3, leader: 3 })
      yield* allServing(ens)
      // Bulk that a SNAP would have to send: ~1.2 MB of data, written before s1 falls behind.
      const big = new Uint8Array(40_000).fill(3)
      yield* drive(Effect.gen(function* () {
        const zk = yield* client(ens, "s3:2181")
        yield* Effect.forEach(range(30), (i) => zk.create(`/big${i}`, big), { concurrency: 30, discard: true })
      }), 50)
      const s1 = ens.peers[0]!
      yield* s1.stop
      // 700 small writes: more than the 500 a restarted leader keeps in memory, far below 0.33 × 1.2 MB.
      yield* drive(Effect.gen(function* () {
        const zk = yield* client(ens, "s3:2181")
        yield* Effect.forEach(range(700), (i) => zk.create(`/n${i}`, bytes(String(i))), { concurrency: 100, discard: true })
      }), 50)
      const leader = ens.peers[2]!
      yield* leader.stop
      yield* leader.start
      yield* allServing(ens)
      const committed = leader.running()!.context.committedLog
      assert.strictEqual(committed.size, 500, "the restarted leader's committed log holds its last 500 replayed txns only")

      const before = snapshotFiles(s1)
      yield* s1.start
      yield* allServing(ens)
      assert.deepStrictEqual(snapshotFiles(s1), before, "s1 was not sent a snapshot (a SNAP writes one)")
      const seen = yield* drive(Effect.gen(function* () {
        const zk = yield* client(ens, "s1:2181")
        return { n0: (yield* zk.exists("/n0")) !== null, n699: (yield* zk.exists("/n699")) !== null }
      }), 50)
      assert.deepStrictEqual(seen, { n0: true, n699: true })
      const [t1, t3] = [s1, leader].map((p) => p.running()!.context.store.tree)
      assert.strictEqual(t1!.lastProcessedZxid, t3!.lastProcessedZxid)
      assert.deepStrictEqual([t1!.digest.hi, t1!.digest.lo], [t3!.digest.hi, t3!.digest.lo])

      // And the DIFFed history is durable on s1: after power loss it recovers it from its own log.
      yield* s1.crash
      yield* s1.start
      assert.isDefined(s1.running()!.context.store.tree.get("/n699"))
    }))

  it.scoped("the same follower gets a SNAP when its missing txns outweigh snapshotSizeFactor × the data", () =>
    Effect.gen(function* () {
      const ens = yield* Testing.ensemble({ nodes: 3, leader: 3 })
      yield* allServing(ens)
      // s1 holds a txn, so it lies inside the leader's txn log (as in the DIFF case above).
      yield* drive(Effect.gen(function* () { const zk = yield* client(ens, "s3:2181"); yield* zk.create("/first", bytes("x")) }), 50)
      const s1 = ens.peers[0]!
      yield* s1.stop
      // 700 creates of 1 KB each (~700 KB of txns) against ~700 KB of data: above 0.33 ×, so SNAP.
      const kb = new Uint8Array(1000).fill(5)
      yield* drive(Effect.gen(function* () {
        const zk = yield* client(ens, "s3:2181")
        yield* Effect.forEach(range(700), (i) => zk.create(`/k${i}`, kb), { concurrency: 100, discard: true })
      }), 50)
      const leader = ens.peers[2]!
      yield* leader.stop
      yield* leader.start
      yield* allServing(ens)
      const before = snapshotFiles(s1)
      yield* s1.start
      yield* allServing(ens)
      assert.strictEqual(snapshotFiles(s1).length, before.length + 1, "s1 received a snapshot")
      assert.isDefined(s1.running()!.context.store.tree.get("/k699"))
    }))
})
