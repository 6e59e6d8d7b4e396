/**
 * Quorum peers snapshot as they commit (snapCount applies to every role, as in ZooKeeper's
 * SyncRequestProcessor): txn logs are rolled, and a restarted peer recovers from its newest
 * snapshot plus the log tail instead of replaying every txn since it was created.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import * as Testing from "../../../src/quorum/Testing.js"
import { allServing, createAll } from "./Ensemble.js"
import { idle } from "./FakeLeader.js"

const files = (peer: Testing.PeerHandle, kind: "snapshot" | "log") =>
  [...peer.disk.files().keys()].filter((f) => new RegExp(`/version-2/${kind}\\.[0-9a-f]+$`).test(f))

describe("periodic snapshots on quorum peers", () => {
  it.scoped("leader and followers snapshot every ~snapCount commits; a crashed follower replays only the tail", () =>
    Effect.gen(function* () {
      const ens = yield* Testing.ensemble({ nodes: 3, leader: 3, config: { snapCount: 20 } })
      yield* allServing(ens)
      const paths = Array.from({ length: 120 }, (_, i) => `/p${i}`)
      // Through a follower (forwarded) and the leader alike.
      yield* createAll(ens, "s1", paths.slice(0, 60))
      yield* createAll(ens, "s3", paths.slice(60))
      yield* idle(500)
      for (const peer of ens.peers) {
        // 120 commits (+ sessions) with a roll point below 20: at least 6 snapshots each, and as many log files.
        assert.isAtLeast(files(peer, "snapshot").length, 6, `s${peer.sid} snapshots`)
        assert.isAtLeast(files(peer, "log").length, 6, `s${peer.sid} log files`)
      }

      const s1 = ens.peers[0]!
      yield* s1.crash
      yield* s1.start
      const recovered = s1.running()!.context.store
      assert.isBelow(recovered.recovery.replayedTxns, 40, "recovery replays the tail after the newest snapshot, not the whole history")
      assert.isDefined(recovered.tree.get("/p119"))
      yield* allServing(ens)
      const [t1, t3] = [s1, ens.peers[2]!].map((p) => p.running()!.context.store.tree)
      assert.strictEqual(t1!.lastProcessedZxid, t3!.lastProcessedZxid)
      assert.deepStrictEqual([t1!.digest.hi, t1!.digest.lo], [t3!.digest.hi, t3!.digest.lo])
    }))
})
