/**
 * A learner SNAPped to a zxid below what its txn log holds (a leader that never committed the tail,
 * e.g. ZooKeeper with forceSnapSync) must not keep that tail: a restart replays the log from the
 * snapshot on, and would bring the uncommitted txns back in front of the new leader's history.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { PacketType } from "../../../src/wire/Quorum.js"
import * as Zxid from "../../../src/wire/Zxid.js"
import { make, newLeader, packet, proposal, treeOf, z } from "./FakeLeader.js"

describe("SNAP below the learner's logged txns (scripted leader, real follower)", () => {
  it.scoped("the txns it logged above the snapshot are dropped: after a restart it holds exactly the leader's history", () =>
    Effect.gen(function* () {
      const h = yield* make()
      yield* h.startFollower
      const first = yield* h.discover(1)
      // Epoch 1: /a committed; /b and /c logged and acknowledged but never committed.
      first.leader.send(packet(PacketType.DIFF, 0), newLeader(1))
      assert.strictEqual((yield* first.leader.recv)?.zxid, Zxid.epochStart(1))
      first.leader.send(packet(PacketType.UPTODATE, -1))
      assert.strictEqual((yield* first.leader.recv)?.zxid, Zxid.epochStart(1))
      first.leader.send(proposal(z(1, 1), "/a"), packet(PacketType.COMMIT, z(1, 1)), proposal(z(1, 2), "/b"), proposal(z(1, 3), "/c"))
      for (const zxid of [z(1, 1), z(1, 2), z(1, 3)]) assert.strictEqual((yield* first.leader.recv)?.zxid, zxid)
      yield* first.leader.close

      // Epoch 2: the new leader holds /a only and SNAPs the follower to 1:1, then commits /d at 2:1.
      const second = yield* h.discover(2)
      assert.strictEqual(second.ackEpoch.zxid, z(1, 3))
      yield* second.leader.sendSnap(z(1, 1), treeOf([z(1, 1), "/a"]))
      second.leader.send(newLeader(2))
      assert.strictEqual((yield* second.leader.recv)?.zxid, Zxid.epochStart(2))
      second.leader.send(packet(PacketType.UPTODATE, -1))
      assert.strictEqual((yield* second.leader.recv)?.zxid, Zxid.epochStart(2))
      second.leader.send(proposal(z(2, 1), "/d"), packet(PacketType.COMMIT, z(2, 1)))
      assert.strictEqual((yield* second.leader.recv)?.zxid, z(2, 1))
      const paths = () => ["/a", "/b", "/c", "/d"].filter((p) => h.follower()!.context.store.tree.get(p) !== undefined)
      assert.deepStrictEqual(paths(), ["/a", "/d"])

      yield* h.crashFollower
      yield* h.startFollower
      assert.deepStrictEqual(paths(), ["/a", "/d"], "the restarted follower replays only the leader's history")
      assert.strictEqual(h.follower()!.context.store.tree.lastProcessedZxid, z(2, 1))
    }))
})
