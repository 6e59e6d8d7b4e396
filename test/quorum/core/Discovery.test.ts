import { assert, describe, it } from "@effect/vitest"
import { FastCheck as fc } from "effect"
import * as D from "../../../src/quorum/core/Discovery.js"
import * as QV from "../../../src/quorum/core/QuorumVerifier.js"

const qv = QV.majority([
  ...[1, 2, 3, 4, 5].map((sid) => ({ sid, type: "participant" as const })),
  { sid: 6, type: "observer" as const }
])

const feed = (s: D.Leader, ...inputs: ReadonlyArray<D.LeaderInput>) => {
  const outputs: Array<D.LeaderOutput> = []
  for (const i of inputs) {
    const r = D.stepLeader(s, i)
    s = r.state
    outputs.push(...r.outputs)
  }
  return { state: s, outputs }
}
const info = (sid: number, acceptedEpoch: number): D.LeaderInput => ({ _tag: "LearnerInfo", sid, acceptedEpoch })
const ack = (sid: number, currentEpoch: number, lastZxid: number): D.LeaderInput => ({ _tag: "AckEpoch", sid, currentEpoch, lastZxid })

describe("Discovery (leader)", () => {
  it("waits for a quorum of voters (itself included) and proposes max(acceptedEpoch) + 1", () => {
    const s = D.makeLeader(1, qv, 2, { currentEpoch: 2, lastZxid: 0x2_0000_0005 })
    const a = feed(s, info(6, 7), info(2, 1))
    assert.deepStrictEqual(a.outputs, [], "an observer does not count for the quorum")
    const b = feed(a.state, info(3, 3))
    assert.deepStrictEqual(b.outputs, [{ _tag: "EpochChosen", newEpoch: 8 }], "the observer's epoch still raises it")
    assert.deepStrictEqual(feed(b.state, info(4, 8)).outputs, [], "late learners just get the chosen epoch")
  })

  it("a late learner that accepted a newer epoch (it would refuse ours) stops the leader", () => {
    const s = feed(D.makeLeader(1, qv, 2, { currentEpoch: 2, lastZxid: 0x2_0000_0005 }), info(2, 2), info(3, 2)).state
    assert.strictEqual(s.newEpoch, 3)
    const late = feed(s, info(4, 4))
    assert.deepStrictEqual(late.outputs, [{ _tag: "LearnerEpochAhead", sid: 4, acceptedEpoch: 4 }])
    assert.strictEqual(late.state.phase, "failed")
    const established = feed(s, ack(2, 2, 0x2_0000_0005), ack(3, 2, 0x2_0000_0005))
    assert.strictEqual(feed(established.state, info(6, 4)).state.phase, "failed", "after establishment too, observers too")
  })

  it("a quorum of ACKEPOCHs establishes the epoch; -1 (already accepted) is not compared", () => {
    const s = feed(D.makeLeader(1, qv, 2, { currentEpoch: 2, lastZxid: 0x2_0000_0005 }), info(2, 2), info(3, 2)).state
    assert.strictEqual(s.newEpoch, 3)
    const a = feed(s, ack(6, 2, 0x2_0000_0005), ack(2, -1, 0x2_0000_0009))
    assert.deepStrictEqual(a.outputs, [])
    const b = feed(a.state, ack(3, 2, 0x2_0000_0005))
    assert.deepStrictEqual(b.outputs, [{ _tag: "EpochAcked", newEpoch: 3 }])
    assert.deepStrictEqual(feed(b.state, ack(4, 9, 0)).outputs, [], "after the quorum late learners are not compared")
  })

  it("a follower ahead of the leader ((currentEpoch, lastZxid) newer) stops the leader", () => {
    const s = feed(D.makeLeader(1, qv, 2, { currentEpoch: 2, lastZxid: 0x2_0000_0005 }), info(2, 2), info(3, 2)).state
    const ahead = feed(s, ack(2, 2, 0x2_0000_0006))
    assert.deepStrictEqual(ahead.outputs, [{ _tag: "FollowerAhead", sid: 2, summary: { currentEpoch: 2, lastZxid: 0x2_0000_0006 } }])
    assert.strictEqual(ahead.state.phase, "failed")
    assert.deepStrictEqual(feed(ahead.state, ack(3, 1, 0), ack(4, 1, 0)).outputs, [])
    assert.deepStrictEqual(feed(s, ack(2, 2, 0x2_0000_0005)).outputs, [], "equal is not ahead")
    assert.strictEqual(feed(s, ack(2, 3, 0)).state.phase, "failed", "a newer epoch is ahead whatever the zxid")
  })

  it.prop("newEpoch exceeds every accepted epoch of the quorum that chose it", [fc.array(fc.tuple(fc.integer({ min: 2, max: 6 }), fc.nat(50)), { maxLength: 12 }), fc.nat(50)], ([infos, own]) => {
    let s = D.makeLeader(1, qv, own, { currentEpoch: 0, lastZxid: 0 })
    const seen = [own]
    let lateAhead = false
    for (const [sid, e] of infos) {
      const r = D.stepLeader(s, info(sid, e))
      if (s.phase === "collectingInfo") seen.push(e)
      else if (s.phase === "collectingAcks" && e > s.newEpoch!) lateAhead = true
      s = r.state
      for (const o of r.outputs) if (o._tag === "EpochChosen") assert.strictEqual(o.newEpoch, Math.max(...seen) + 1)
    }
    assert.strictEqual(s.phase !== "collectingInfo", qv.containsQuorum([1, ...infos.map(([sid]) => sid)]))
    assert.strictEqual(s.phase === "failed", lateAhead, "only a late learner above the chosen epoch stops the leader")
  })
})

describe("Discovery (learner, LEADERINFO)", () => {
  it("newer epoch: accept, persist it, ACKEPOCH carries the old currentEpoch", () => {
    assert.deepStrictEqual(D.onLeaderInfo(1, 1, 2), { _tag: "Accept", acceptedEpoch: 2, ackEpochData: 1 })
  })
  it("the epoch already accepted: ACKEPOCH data -1", () => {
    assert.deepStrictEqual(D.onLeaderInfo(2, 1, 2), { _tag: "AlreadyAccepted", ackEpochData: -1 })
  })
  it("an older epoch: refuse", () => {
    assert.deepStrictEqual(D.onLeaderInfo(3, 2, 2), { _tag: "Refuse", acceptedEpoch: 3, newEpoch: 2 })
  })
})
