/**
 * Failure scenarios of whole in-process ensembles (fixed leader: the highest voter sid) on the
 * memory network and TestClock: lost followers, a leader losing its quorum, partitions.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Fiber, Option } from "effect"
import * as Testing from "../../../src/quorum/Testing.js"
import { allServing, chosenElector, client, createAll, holds, state } from "./Ensemble.js"
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

  it.scoped("a follower cut off from the rest cannot serve or commit while the majority goes on; it catches up after the partition heals", () =>
    Effect.gen(function* () {
      const ens = yield* Testing.ensemble({ nodes: 3 })
      yield* allServing(ens)
      ens.network.partition("s1", "s3")
      ens.network.partition("s1", "s2")
      yield* idle(15_000)
      assert.isNull(ens.peers[0]!.running()!.core(), "the cut-off follower stopped serving after syncLimit")
      yield* createAll(ens, "s2", ["/m0", "/m1"])
      assert.isTrue(holds(ens, 1, "/m0") && holds(ens, 2, "/m1"), "the majority commits")
      assert.isFalse(holds(ens, 0, "/m0"), "the minority has nothing of it")
      ens.network.heal()
      yield* allServing(ens)
      assert.isTrue(holds(ens, 0, "/m0") && holds(ens, 0, "/m1"), "and catches up after healing")
    }))

  it.scoped("a leader in a minority steps down after syncLimit; its proposal, logged by the minority only, is applied nowhere once a new leader leads a later epoch", () =>
    Effect.gen(function* () {
      const choice = { leader: 3 }
      const ens = yield* Testing.ensemble({ nodes: 3, elector: () => chosenElector(choice) })
      yield* allServing(ens)
      yield* createAll(ens, "s3", ["/before"])
      ens.network.partition("s3", "s1")
      ens.network.partition("s3", "s2")
      const lost = yield* Effect.fork(Effect.scoped(Effect.flatMap(client(ens, "s3:2181"), (zk) => zk.create("/lost", new Uint8Array(0)))))
      yield* idle(500)
      assert.isTrue(ens.peers[2]!.running()!.context.store.log.lastAppendedZxid > ens.peers[0]!.running()!.context.store.log.lastAppendedZxid, "the leader logged the proposal")
      assert.isFalse(holds(ens, 2, "/lost"), "but without a quorum it does not apply it")
      assert.isTrue(Option.isNone(yield* Fiber.poll(lost)), "nor answer the client")
      choice.leader = 2
      yield* idle(30_000)
      assert.notStrictEqual(state(ens)[2], "LEADING", "the old leader stepped down")
      yield* createAll(ens, "s2", ["/after"])
      ens.network.heal()
      yield* allServing(ens)
      yield* idle(1_000)
      yield* Fiber.interrupt(lost)
      for (let i = 0; i < 3; i++) {
        assert.isFalse(holds(ens, i, "/lost"), `s${i + 1} never applies /lost`)
        assert.isTrue(holds(ens, i, "/before") && holds(ens, i, "/after"), `s${i + 1} has the committed txns`)
      }
      // Not on disk either: s3 restarted from its data dir has no /lost.
      yield* ens.peers[2]!.crash
      yield* ens.peers[2]!.start
      assert.isFalse(holds(ens, 2, "/lost"))
    }))
})
