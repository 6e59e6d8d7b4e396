import { assert, describe, it } from "@effect/vitest"
import { FastCheck as fc } from "effect"
import * as QV from "../../../src/quorum/core/QuorumVerifier.js"

const participants = (n: number): Array<QV.ServerSpec> =>
  Array.from({ length: n }, (_, i) => ({ sid: i + 1, type: "participant" as const }))

describe("QuorumVerifier", () => {
  it("majority: more than half of the voters; observers and unknown sids never count", () => {
    const qv = QV.majority([...participants(3), { sid: 4, type: "observer" }])
    assert.strictEqual(qv.kind, "majority")
    assert.isFalse(qv.containsQuorum([1]))
    assert.isTrue(qv.containsQuorum([1, 2]))
    assert.isFalse(qv.containsQuorum([1, 4, 9]))
    assert.isFalse(qv.containsQuorum([1, 1, 1]))
    assert.isTrue(qv.containsQuorum([3, 2, 4]))
    assert.isTrue(qv.isVoter(1))
    assert.isFalse(qv.isVoter(4))
    assert.strictEqual(qv.weight(4), 0)
    assert.strictEqual(qv.weight(9), 0)
    assert.strictEqual(qv.weight(2), 1)
  })

  it("majority of an even ensemble needs n/2 + 1", () => {
    const qv = QV.majority(participants(4))
    assert.isFalse(qv.containsQuorum([1, 2]))
    assert.isTrue(qv.containsQuorum([1, 2, 3]))
  })

  it("hierarchical: a majority of groups, each with a weight majority", () => {
    // Three groups of three; group 3 has a heavy server.
    const qv = QV.make([
      { sid: 1, type: "participant", group: 1 }, { sid: 2, type: "participant", group: 1 }, { sid: 3, type: "participant", group: 1 },
      { sid: 4, type: "participant", group: 2 }, { sid: 5, type: "participant", group: 2 }, { sid: 6, type: "participant", group: 2 },
      { sid: 7, type: "participant", group: 3, weight: 3 }, { sid: 8, type: "participant", group: 3 }, { sid: 9, type: "participant", group: 3 },
      { sid: 10, type: "observer" }
    ])
    assert.strictEqual(qv.kind, "hierarchical")
    assert.isTrue(qv.containsQuorum([1, 2, 4, 5]))
    assert.isFalse(qv.containsQuorum([1, 2, 3, 4]), "one group only")
    assert.isTrue(qv.containsQuorum([1, 2, 7]), "7 alone is 3/5 of group 3")
    assert.isFalse(qv.containsQuorum([1, 2, 8, 9]), "8+9 are 2/5 of group 3")
    assert.isFalse(qv.containsQuorum([1, 2, 10]))
    assert.strictEqual(qv.weight(7), 3)
    assert.strictEqual(qv.weight(10), 0)
  })

  it("hierarchical: weight-0 servers vote for nothing, cannot be elected, and all-zero groups are not counted", () => {
    const qv = QV.hierarchical([
      { sid: 1, type: "participant", group: 1 }, { sid: 2, type: "participant", group: 1, weight: 0 },
      { sid: 3, type: "participant", group: 2 },
      { sid: 4, type: "participant", group: 3, weight: 0 }
    ])
    assert.strictEqual(qv.weight(2), 0)
    assert.isTrue(qv.isVoter(2))
    // Groups 1 and 2 count (2 groups): a quorum needs both.
    assert.isFalse(qv.containsQuorum([1, 2, 4]))
    assert.isTrue(qv.containsQuorum([1, 3]))
    assert.isFalse(qv.containsQuorum([2, 3, 4]))
  })

  it.prop("majority is monotone and any two quorums intersect", [fc.integer({ min: 1, max: 9 }), fc.array(fc.integer({ min: 1, max: 12 })), fc.array(fc.integer({ min: 1, max: 12 }))], ([n, a, b]) => {
    const qv = QV.majority(participants(n))
    if (qv.containsQuorum(a)) assert.isTrue(qv.containsQuorum([...a, ...b]))
    if (qv.containsQuorum(a) && qv.containsQuorum(b)) assert.isTrue(a.some((x) => b.includes(x) && qv.isVoter(x)))
  })

  it.prop("a single-group hierarchy with unit weights is a majority", [fc.integer({ min: 1, max: 9 }), fc.array(fc.integer({ min: 0, max: 12 }))], ([n, set]) => {
    const servers = participants(n)
    const maj = QV.majority(servers)
    const hier = QV.hierarchical(servers.map((s) => ({ ...s, group: 1 })))
    assert.strictEqual(hier.containsQuorum(set), maj.containsQuorum(set))
  })
})
