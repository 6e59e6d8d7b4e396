/**
 * Learners in whole in-process ensembles (fixed leader s3): an observer serves reads, forwards
 * writes and learns commits by INFORM; a learner that lags for syncLimit is dropped and resyncs.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import * as Testing from "../../../src/quorum/Testing.js"
import { allServing, client, createAll, holds, state } from "./Ensemble.js"
import { drive } from "./FakeLeader.js"

describe("learners", () => {
  it.scoped("an observer serves reads, forwards writes and receives commits by INFORM without voting", () =>
    Effect.gen(function* () {
      const ens = yield* Testing.ensemble({ nodes: 3, observers: 1 })
      yield* allServing(ens)
      assert.deepStrictEqual(state(ens), ["FOLLOWING", "FOLLOWING", "LEADING", "OBSERVING"])
      yield* createAll(ens, "s1", ["/via-follower"])
      yield* createAll(ens, "s4", ["/via-observer"])
      const read = yield* drive(
        Effect.gen(function* () {
          const zk = yield* client(ens, "s4:2181")
          return new TextDecoder().decode((yield* zk.getData("/via-follower")).data!)
        }),
        50
      )
      assert.strictEqual(read, "/via-follower", "a txn committed elsewhere is read on the observer")
      for (let i = 0; i < 4; i++) assert.isTrue(holds(ens, i, "/via-observer"), `s${i + 1} holds the observer's write`)
      // The observer does not count: with both followers gone no write commits.
      yield* ens.peers[0]!.stop
      yield* ens.peers[1]!.stop
      const outcome = yield* drive(
        Effect.gen(function* () {
          const zk = yield* client(ens, "s4:2181")
          return yield* Effect.either(zk.create("/no-quorum", new Uint8Array(0)))
        }).pipe(Effect.timeout("20 seconds"), Effect.either),
        50
      )
      assert.isTrue(outcome._tag === "Left" || outcome.right._tag === "Left", "no write commits with the leader and an observer alone")
      assert.isFalse(holds(ens, 2, "/no-quorum"))
    }))

  it.scoped("a follower whose link to the leader stalls beyond syncLimit is dropped, and resyncs what it missed when the link recovers", () =>
    Effect.gen(function* () {
      const ens = yield* Testing.ensemble({ nodes: 3 })
      yield* allServing(ens)
      ens.network.stall("s1", "s3", 15_000)
      ens.network.stall("s3", "s1", 15_000)
      yield* createAll(ens, "s2", ["/during0", "/during1"])
      assert.isFalse(holds(ens, 0, "/during0"))
      yield* drive(Effect.sleep("12 seconds"))
      assert.isNull(ens.peers[0]!.running()!.core(), "the lagging follower stopped serving")
      yield* allServing(ens)
      yield* createAll(ens, "s2", ["/after"])
      yield* drive(Effect.sleep("1 second"))
      for (const path of ["/during0", "/during1", "/after"]) assert.isTrue(holds(ens, 0, path), `s1 holds ${path}`)
      const last = ens.peers.map((p) => p.running()!.context.store.tree.lastProcessedZxid)
      assert.strictEqual(new Set(last).size, 1)
    }))
})
