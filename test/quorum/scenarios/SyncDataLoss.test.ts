/**
 * ZooKeeper's sync-phase data-loss bugs, each replayed packet by packet against a real follower
 * (src/quorum/Learner.ts) by a scripted leader (./FakeLeader.ts): every txn the leader sent as
 * committed, and every txn the follower acknowledged, must survive a power loss of the follower.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { PacketType } from "../../../src/wire/Quorum.js"
import * as Zxid from "../../../src/wire/Zxid.js"
import { idle, make, newLeader, packet, proposal, z } from "./FakeLeader.js"

const has = (h: { follower: () => { context: { store: { tree: { get: (p: string) => unknown } } } } | null }, path: string) =>
  h.follower()!.context.store.tree.get(path) !== undefined

describe("sync-phase data loss (scripted leader, real follower)", () => {
  it.scoped("ZOOKEEPER-3911/-4646/-4785: every txn received in sync is durable before NEWLEADER is acknowledged", () =>
    Effect.gen(function* () {
      const h = yield* make()
      yield* h.startFollower
      const { leader, ackEpoch } = yield* h.discover(1)
      assert.strictEqual(ackEpoch.zxid, 0)
      leader.send(
        packet(PacketType.DIFF, 0),
        proposal(z(1, 1), "/a"),
        packet(PacketType.COMMIT, z(1, 1)),
        proposal(z(1, 2), "/b"),
        packet(PacketType.COMMIT, z(1, 2)),
        newLeader(1)
      )
      const ack = yield* leader.recv
      assert.deepStrictEqual([ack?.type, ack?.zxid], [PacketType.ACK, Zxid.epochStart(1)])
      // The leader may now count this follower; power fails before UPTODATE.
      yield* h.crashFollower
      yield* h.startFollower
      const ctx = h.follower()!.context
      assert.isTrue(has(h, "/a") && has(h, "/b"), "both txns were replayed from the log")
      assert.strictEqual(ctx.store.tree.lastProcessedZxid, z(1, 2))
      assert.strictEqual(ctx.epochs.current, 1)
    }))

  it.scoped("ZOOKEEPER-4643: currentEpoch is written only after the synced txns are durable; a full disk means no ACK, and the follower recovers when it has space", () =>
    Effect.gen(function* () {
      const h = yield* make()
      yield* h.startFollower
      const first = yield* h.discover(1)
      first.leader.send(packet(PacketType.DIFF, 0), proposal(z(1, 1), "/a"), packet(PacketType.COMMIT, z(1, 1)), proposal(z(1, 2), "/b"), packet(PacketType.COMMIT, z(1, 2)))
      yield* idle(100)
      // Room for an epoch file, not for the txns.
      yield* h.disk.setFaults({ writeLimitBytes: h.disk.bytesWritten() + 4 })
      first.leader.send(newLeader(1))
      assert.isNull(yield* first.leader.recv, "the follower gives up instead of acknowledging")
      assert.strictEqual(h.follower()!.context.epochs.current, 0, "currentEpoch was not advanced")

      // Space again: the follower comes back on its own and must end up with both txns, acknowledged once durable.
      yield* h.disk.setFaults({ writeLimitBytes: null })
      const second = yield* h.discover(1)
      const last = second.ackEpoch.zxid
      assert.isTrue(last === 0 || last === z(1, 2), `ACKEPOCH reports ${Zxid.toHex(last)}`)
      if (last === 0) second.leader.send(packet(PacketType.DIFF, 0), proposal(z(1, 1), "/a"), packet(PacketType.COMMIT, z(1, 1)), proposal(z(1, 2), "/b"), packet(PacketType.COMMIT, z(1, 2)))
      else second.leader.send(packet(PacketType.DIFF, z(1, 2)))
      second.leader.send(newLeader(1))
      const ack = yield* second.leader.recv
      assert.deepStrictEqual([ack?.type, ack?.zxid], [PacketType.ACK, Zxid.epochStart(1)])
      second.leader.send(packet(PacketType.UPTODATE, -1))
      yield* idle(100)
      assert.isTrue(has(h, "/a") && has(h, "/b"), `the serving tree has both txns (ACKEPOCH said ${Zxid.toHex(last)})`)
      yield* h.crashFollower
      yield* h.startFollower
      assert.isTrue(has(h, "/a") && has(h, "/b"), "and so has the disk")
      assert.strictEqual(h.follower()!.context.epochs.current, 1)
    }))

  it.scoped("ZOOKEEPER-4394: DIFF, PROPOSAL, COMMIT, PROPOSAL, NEWLEADER, COMMIT, UPTODATE applies the late COMMIT exactly once", () =>
    Effect.gen(function* () {
      const h = yield* make()
      yield* h.startFollower
      const rootCversion = (h.follower()!.context.store.tree.get("/") as { cversion: number }).cversion
      const { leader } = yield* h.discover(1)
      leader.send(packet(PacketType.DIFF, 0), proposal(z(1, 1), "/a"), packet(PacketType.COMMIT, z(1, 1)), proposal(z(1, 2), "/b"), newLeader(1))
      const ack = yield* leader.recv
      assert.deepStrictEqual([ack?.type, ack?.zxid], [PacketType.ACK, Zxid.epochStart(1)])
      leader.send(packet(PacketType.COMMIT, z(1, 2)), packet(PacketType.UPTODATE, -1))
      const final = yield* leader.recv
      assert.deepStrictEqual([final?.type, final?.zxid], [PacketType.ACK, Zxid.epochStart(1)])
      const perProposal = [yield* leader.recv, yield* leader.recv].map((p) => [p?.type, p?.zxid])
      assert.deepStrictEqual(perProposal, [[PacketType.ACK, z(1, 1)], [PacketType.ACK, z(1, 2)]], "then one ACK per txn logged in sync, as 3.8.5+ sends them")
      yield* idle(100)
      const tree = h.follower()!.context.store.tree
      assert.isTrue(has(h, "/a") && has(h, "/b"))
      assert.strictEqual(tree.lastProcessedZxid, z(1, 2))
      // A create applied twice fails with NodeExists and bumps its parent's cversion once more.
      assert.strictEqual((tree.get("/") as { cversion: number }).cversion, rootCversion + 2, "each txn applied once")
      // Broadcast goes on from there: the next proposal is logged and acknowledged.
      leader.send(proposal(z(1, 3), "/c"))
      const ack3 = yield* leader.recv
      assert.deepStrictEqual([ack3?.type, ack3?.zxid], [PacketType.ACK, z(1, 3)])
    }))

  it.scoped("ZOOKEEPER-4925: a proposal that does not follow the previous one is refused, nothing after the hole is logged or acknowledged", () =>
    Effect.gen(function* () {
      const h = yield* make()
      yield* h.startFollower
      const { leader } = yield* h.discover(1)
      leader.send(packet(PacketType.DIFF, 0), proposal(z(1, 1), "/a"), packet(PacketType.COMMIT, z(1, 1)), proposal(z(1, 3), "/c"), packet(PacketType.COMMIT, z(1, 3)), newLeader(1))
      assert.isNull(yield* leader.recv, "the follower drops the leader instead of acknowledging a history with a hole")
      yield* h.crashFollower
      yield* h.startFollower
      assert.isFalse(has(h, "/c"))
      assert.strictEqual(h.follower()!.context.epochs.current, 0)
    }))

  it.scoped("TRUNC: a proposal logged but never committed is cut when a later epoch's leader truncates, and applied nowhere", () =>
    Effect.gen(function* () {
      const h = yield* make()
      yield* h.startFollower
      const one = yield* h.discover(1)
      one.leader.send(packet(PacketType.DIFF, 0), proposal(z(1, 1), "/a"), packet(PacketType.COMMIT, z(1, 1)), newLeader(1))
      assert.strictEqual((yield* one.leader.recv)?.type, PacketType.ACK)
      one.leader.send(packet(PacketType.UPTODATE, -1))
      assert.strictEqual((yield* one.leader.recv)?.zxid, Zxid.epochStart(1))
      assert.strictEqual((yield* one.leader.recv)?.zxid, z(1, 1), "the txn logged in sync, acknowledged after UPTODATE")
      one.leader.send(proposal(z(1, 2), "/ghost"))
      const acked = yield* one.leader.recv
      assert.deepStrictEqual([acked?.type, acked?.zxid], [PacketType.ACK, z(1, 2)])
      // The leader dies before committing it; the next leader never saw it.
      yield* one.leader.close
      const two = yield* h.discover(2)
      assert.strictEqual(two.ackEpoch.zxid, z(1, 2), "the follower reports what it logged")
      two.leader.send(packet(PacketType.TRUNC, z(1, 1)), proposal(z(2, 1), "/b"), packet(PacketType.COMMIT, z(2, 1)), newLeader(2))
      assert.strictEqual((yield* two.leader.recv)?.zxid, Zxid.epochStart(2))
      two.leader.send(packet(PacketType.UPTODATE, -1))
      yield* idle(100)
      assert.isFalse(has(h, "/ghost"), "not applied while serving")
      assert.isTrue(has(h, "/a") && has(h, "/b"))
      yield* h.crashFollower
      yield* h.startFollower
      assert.isFalse(has(h, "/ghost"), "not on disk either")
      assert.isTrue(has(h, "/a") && has(h, "/b"))
      assert.strictEqual(h.follower()!.context.store.tree.lastProcessedZxid, z(2, 1))
    }))
})
