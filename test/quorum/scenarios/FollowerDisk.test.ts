/**
 * A follower's failing disk in broadcast (scripted leader, real follower): it never acknowledges a
 * proposal that is not durable, it cannot take a new role while the log is not durable
 * (ZOOKEEPER-4882), and it catches up by itself when the disk works again.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Queue } from "effect"
import { PacketType } from "../../../src/wire/Quorum.js"
import * as Zxid from "../../../src/wire/Zxid.js"
import { idle, make, newLeader, packet, proposal, z } from "./FakeLeader.js"

describe("follower disk failures (scripted leader, real follower)", () => {
  it.scoped("fsync failing: no ACK until the proposal is durable; no new role while the log is not durable; both recover with the disk", () =>
    Effect.gen(function* () {
      const h = yield* make()
      yield* h.startFollower
      const { leader } = yield* h.discover(1)
      leader.send(packet(PacketType.DIFF, 0), newLeader(1))
      assert.strictEqual((yield* leader.recv)?.zxid, Zxid.epochStart(1))
      leader.send(packet(PacketType.UPTODATE, -1))
      assert.strictEqual((yield* leader.recv)?.zxid, Zxid.epochStart(1))

      yield* h.disk.setFaults({ failSync: true })
      leader.send(proposal(z(1, 1), "/a"), packet(PacketType.COMMIT, z(1, 1)))
      // Nothing but PINGs for a while: recv would block, so watch the inbox through a forked reader.
      const received = yield* Queue.unbounded<number>()
      yield* Effect.forkScoped(Effect.forever(Effect.flatMap(leader.recv, (p) => Queue.offer(received, p === null ? -1 : p.type))))
      yield* idle(5_000)
      assert.deepStrictEqual(yield* Queue.takeAll(received).pipe(Effect.map((c) => [...c])), [], "no ACK for a proposal that is not durable")
      assert.isTrue(h.follower()!.context.store.tree.get("/a") !== undefined, "the committed txn is served from memory meanwhile")

      // The leader is lost: while the disk fails the follower does not even connect to the next one.
      yield* leader.close
      yield* idle(10_000)
      assert.strictEqual(yield* h.pendingConnections, 0, "no connection to a leader while the log is not durable")
      yield* h.disk.setFaults({ failSync: false })
      const next = yield* h.discover(2)
      assert.strictEqual(next.ackEpoch.zxid, z(1, 1), "its log holds the txn, durable")
      next.leader.send(packet(PacketType.DIFF, z(1, 1)), newLeader(2))
      assert.strictEqual((yield* next.leader.recv)?.zxid, Zxid.epochStart(2))
      yield* h.crashFollower
      yield* h.startFollower
      assert.isTrue(h.follower()!.context.store.tree.get("/a") !== undefined)
    }))
})
