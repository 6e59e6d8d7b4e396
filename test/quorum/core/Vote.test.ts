import { assert, describe, it } from "@effect/vitest"
import { FastCheck as fc } from "effect"
import * as Vote from "../../../src/quorum/core/Vote.js"

const w1 = (): number => 1
const c = (leader: number, zxid: number, peerEpoch: number): Vote.Candidate => ({ leader, zxid, peerEpoch })

describe("Vote.beats (totalOrderPredicate)", () => {
  it("peerEpoch beats zxid beats sid", () => {
    assert.isTrue(Vote.beats(c(1, 0, 2), c(3, 0x1_0000_0009, 1), w1), "epoch over zxid and sid")
    assert.isFalse(Vote.beats(c(3, 0x1_0000_0009, 1), c(1, 0, 2), w1))
    assert.isTrue(Vote.beats(c(1, 0x1_0000_0002, 1), c(3, 0x1_0000_0001, 1), w1), "zxid over sid")
    assert.isFalse(Vote.beats(c(3, 0x1_0000_0001, 1), c(1, 0x1_0000_0002, 1), w1))
    assert.isTrue(Vote.beats(c(3, 0, 0), c(2, 0, 0), w1), "higher sid on a tie")
    assert.isFalse(Vote.beats(c(2, 0, 0), c(3, 0, 0), w1))
    assert.isFalse(Vote.beats(c(2, 0, 0), c(2, 0, 0), w1), "not strictly better than itself")
  })

  it("a weight-0 candidate never wins, and every voter beats the non-voter vote", () => {
    const weight = (sid: number): number => (sid === 9 ? 0 : 1)
    assert.isFalse(Vote.beats(c(9, 100, 100), c(1, 0, 0), weight))
    assert.isTrue(Vote.beats(c(1, 0, 0), Vote.nonVoter, weight))
    assert.isFalse(Vote.beats(Vote.nonVoter, c(1, 0, 0), weight))
  })

  it("agrees: all four fields while LOOKING, leader + peerEpoch between settled votes", () => {
    const v = (state: Vote.ServerState, electionEpoch: number, zxid = 5): Vote.Vote => ({ leader: 2, zxid, peerEpoch: 1, electionEpoch, state })
    assert.isTrue(Vote.agrees(v("LOOKING", 1), v("LOOKING", 1)))
    assert.isFalse(Vote.agrees(v("LOOKING", 1), v("LOOKING", 2)))
    assert.isFalse(Vote.agrees(v("FOLLOWING", 1), v("LOOKING", 1, 6)))
    assert.isTrue(Vote.agrees(v("FOLLOWING", 1, 5), v("LEADING", 3, 9)))
  })

  const cand = fc.record({ leader: fc.integer({ min: 1, max: 5 }), zxid: fc.integer({ min: 0, max: 20 }), peerEpoch: fc.integer({ min: 0, max: 3 }) })
  it.prop("is a strict total order on voters' candidates", [cand, cand, cand], ([a, b, d]) => {
    assert.isFalse(Vote.beats(a, b, w1) && Vote.beats(b, a, w1))
    if (!Vote.sameCandidate(a, b)) assert.isTrue(Vote.beats(a, b, w1) || Vote.beats(b, a, w1))
    if (Vote.beats(a, b, w1) && Vote.beats(b, d, w1)) assert.isTrue(Vote.beats(a, d, w1))
  })
})
