/**
 * Failure scenarios of whole in-process ensembles (fixed leader: the highest voter sid) on the
 * memory network and TestClock: lost followers, a leader losing its quorum, partitions.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import * as Testing from "../../../src/quorum/Testing.js"
import { allServing, createAll, holds } from "./Ensemble.js"
import { idle } from "./FakeLeader.js"

describe("ensemble failure scenarios", () => {
  it.scoped("ZOOKEEPER-4925 (leader side): a leader that lost its quorum and leads again syncs from a committed log without a hole", () =>
    Effect.gen(function* () {
      const ens = yield* Testing.ensemble({ nodes: 3, leader: 3 })
      const [s1, s2] = ens.peers
      yield* allServing(ens)
      yield* createAll(ens, "s3", ["/x0"])
      // Restart everyone: the leader's startup committed log ends in epoch 1.
      for (const p of ens.peers) yield* p.stop
      for (const p of ens.peers) yield* p.start
      yield* allServing(ens)
      yield* createAll(ens, "s3", ["/y0"])
      yield* s1!.stop
      yield* createAll(ens, "s3", ["/y1"])
      // Without s2 the leader loses its quorum and steps down; it leads again once both are back.
      yield* s2!.stop
      yield* idle(30_000)
      yield* s1!.start
      yield* s2!.start
      yield* allServing(ens)
      for (let i = 0; i < 3; i++) {
        for (const path of ["/x0", "/y0", "/y1"]) assert.isTrue(holds(ens, i, path), `s${i + 1} holds ${path}`)
      }
      const last = ens.peers.map((p) => p.running()!.context.store.tree.lastProcessedZxid)
      assert.strictEqual(new Set(last).size, 1, `last zxids ${last.map((z) => z.toString(16)).join(",")}`)
    }))
})
