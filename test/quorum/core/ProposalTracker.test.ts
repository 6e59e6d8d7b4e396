import { assert, describe, it } from "@effect/vitest"
import { FastCheck as fc } from "effect"
import { ProposalTracker } from "../../../src/quorum/core/ProposalTracker.js"
import * as QV from "../../../src/quorum/core/QuorumVerifier.js"
import * as Zxid from "../../../src/wire/Zxid.js"

const qv = QV.majority([
  ...[1, 2, 3, 4, 5].map((sid) => ({ sid, type: "participant" as const })),
  { sid: 6, type: "observer" as const }
])
const z = (c: number): number => Zxid.make(2, c)

const tracker = (n: number): ProposalTracker => {
  const t = new ProposalTracker(qv, Zxid.epochStart(2))
  for (let c = 1; c <= n; c++) t.propose(z(c), c * 10)
  return t
}

describe("ProposalTracker", () => {
  it("commits once a quorum (leader's own ACK included) has acked", () => {
    const t = tracker(1)
    assert.deepStrictEqual(t.ack(1, z(1)), [])
    assert.deepStrictEqual(t.ack(2, z(1)), [])
    assert.deepStrictEqual(t.ack(3, z(1)), [z(1)])
    assert.strictEqual(t.lastCommitted, z(1))
    assert.strictEqual(t.size, 0)
  })

  it("proposals commit in zxid order, each once a quorum has logged it", () => {
    const t = tracker(2)
    for (const sid of [1, 2]) assert.deepStrictEqual(t.ack(sid, z(2)), [])
    assert.deepStrictEqual(t.ack(4, z(1)), [z(1)], "z(1) by 1, 2, 4; z(2) by 1, 2 only")
    assert.deepStrictEqual(t.ack(4, z(2)), [z(2)])
    assert.strictEqual(t.lastCommitted, z(2))
  })

  it("an ACK covers every earlier proposal (the leader's own durable batch, a learner's last ACK after syncing)", () => {
    const t = tracker(4)
    assert.deepStrictEqual(t.ack(1, z(3)), [])
    assert.deepStrictEqual(t.ack(2, z(1)), [])
    assert.deepStrictEqual(t.ack(3, z(2)), [z(1)])
    assert.deepStrictEqual(t.ack(2, z(2)), [z(2)])
    assert.deepStrictEqual(t.ack(1, z(2)), [], "an older ACK adds nothing")
    assert.deepStrictEqual(t.ack(6, z(4)), [], "observers do not vote")
    t.ack(2, z(4))
    assert.deepStrictEqual(t.ack(3, z(3)), [z(3)])
    assert.deepStrictEqual(t.ack(4, z(4)), [], "z(4) lacks the leader's ACK")
    assert.deepStrictEqual(t.ack(1, z(4)), [z(4)])
    assert.strictEqual(t.size, 0)
  })

  it("ignores ACKs from observers, for counter-0 and committed zxids, and duplicates", () => {
    const t = tracker(1)
    assert.deepStrictEqual(t.ack(6, z(1)), [])
    assert.deepStrictEqual(t.ack(1, Zxid.epochStart(2)), [])
    assert.deepStrictEqual(t.ack(1, z(1)), [])
    assert.deepStrictEqual(t.ack(1, z(1)), [], "a duplicate ACK is one vote")
    assert.deepStrictEqual(t.ack(6, z(1)), [])
    assert.deepStrictEqual(t.ack(2, z(1)), [])
    assert.deepStrictEqual(t.ack(3, z(1)), [z(1)])
    assert.deepStrictEqual(t.ack(4, z(1)), [], "already committed")
  })

  it("refuses proposals out of order or with counter 0 (defects)", () => {
    const t = tracker(2)
    assert.throws(() => t.propose(z(2), 0))
    assert.throws(() => t.propose(Zxid.epochStart(3), 0))
  })

  it("oldestUnackedAgeMs: age of the first proposal after the learner's last ACK", () => {
    const t = tracker(3) // proposed at 10, 20, 30
    assert.strictEqual(t.oldestUnackedAgeMs(2, 100), 90)
    t.ack(2, z(2))
    assert.strictEqual(t.oldestUnackedAgeMs(2, 100), 70)
    t.ack(2, z(3))
    assert.strictEqual(t.oldestUnackedAgeMs(2, 100), undefined)
    assert.strictEqual(new ProposalTracker(qv, 0).oldestUnackedAgeMs(2, 5), undefined)
  })

  it.prop("commits are exactly the prefix of proposals each acked (by an ACK of it or a later one) by a quorum, in order",
    [fc.integer({ min: 1, max: 12 }), fc.array(fc.tuple(fc.integer({ min: 1, max: 6 }), fc.integer({ min: 0, max: 13 })), { maxLength: 80 })],
    ([n, acks]) => {
      const t = tracker(n)
      const committed: Array<number> = []
      const ackers = new Map<number, Set<number>>()
      for (const [sid, c] of acks) {
        for (let d = 1; d <= Math.min(c, n); d++) ackers.set(d, (ackers.get(d) ?? new Set()).add(sid))
        committed.push(...t.ack(sid, Zxid.make(2, c)))
      }
      let prefix = 0
      while (prefix < n && qv.containsQuorum(ackers.get(prefix + 1) ?? [])) prefix++
      assert.deepStrictEqual(committed, Array.from({ length: prefix }, (_, i) => z(i + 1)))
      assert.strictEqual(t.size, n - prefix)
    })
})
