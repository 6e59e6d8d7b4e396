import { assert, describe, it } from "@effect/vitest"
import { FastCheck as fc } from "effect"
import * as Sync from "../../../src/quorum/core/SyncDecision.js"
import { contiguousFrom } from "../../../src/quorum/core/ZxidOrder.js"
import * as Zxid from "../../../src/wire/Zxid.js"

interface P { readonly zxid: number }
const z = Zxid.make
const props = (epoch: number, from: number, to: number): Array<P> =>
  Array.from({ length: to - from + 1 }, (_, i) => ({ zxid: z(epoch, from + i) }))

const base = { snapshotSizeFactor: 0.33, snapshotSizeBytes: 1000 }
const zxids = (d: Sync.SyncDecision<P>): Array<string> => d.proposals.map((p) => Zxid.toHex(p.zxid))
const shape = (d: Sync.SyncDecision<P>) => ({ kind: d.kind, zxid: Zxid.toHex(d.zxid), proposals: zxids(d) })

describe("SyncDecision (quorum.md §4.3)", () => {
  const history = [...props(1, 1, 10), ...props(2, 1, 6)]

  it("row 1: forceSnap → SNAP at lastProcessedZxid", () => {
    const d = Sync.decide({ ...base, peerLastZxid: z(2, 6), lastProcessedZxid: z(2, 6), committedLog: history, forceSnap: true })
    assert.deepStrictEqual(shape(d), { kind: "SNAP", zxid: "0x200000006", proposals: [] })
  })

  it("row 2 [B]: peer == lastProcessedZxid → empty DIFF (0x0 and 0x10000000a as captured)", () => {
    assert.deepStrictEqual(shape(Sync.decide({ ...base, peerLastZxid: 0, lastProcessedZxid: 0, committedLog: [] })), { kind: "DIFF", zxid: "0x0", proposals: [] })
    const d = Sync.decide({ ...base, peerLastZxid: z(1, 10), lastProcessedZxid: z(1, 10), committedLog: props(1, 1, 10) })
    assert.deepStrictEqual(shape(d), { kind: "DIFF", zxid: "0x10000000a", proposals: [] })
  })

  it("row 3: peer past maxCommittedLog (counter ≠ 0) → TRUNC to maxCommittedLog", () => {
    const d = Sync.decide({ ...base, peerLastZxid: z(2, 9), lastProcessedZxid: z(2, 6), committedLog: history })
    assert.deepStrictEqual(shape(d), { kind: "TRUNC", zxid: "0x200000006", proposals: [] })
  })

  it("row 3 does not apply to a peer at an epoch start (counter 0): nothing to walk → SNAP", () => {
    const d = Sync.decide({ ...base, peerLastZxid: z(3, 0), lastProcessedZxid: z(2, 6), committedLog: history })
    assert.strictEqual(d.kind, "SNAP")
  })

  it("row 4 [B]: the restarted old leader gets DIFF(0x200000006) and six proposals", () => {
    const d = Sync.decide({ ...base, peerLastZxid: z(1, 10), lastProcessedZxid: z(2, 6), committedLog: history })
    assert.deepStrictEqual(shape(d), {
      kind: "DIFF", zxid: "0x200000006",
      proposals: ["0x200000001", "0x200000002", "0x200000003", "0x200000004", "0x200000005", "0x200000006"]
    })
  })

  it("row 4: a peer that diverged across an epoch gets SNAP (no TRUNC across epochs)", () => {
    // Peer holds 1:1..1:2 and an uncommitted 1:5; the leader's history went on with epoch 2.
    const d = Sync.decide({ ...base, peerLastZxid: z(1, 5), lastProcessedZxid: z(2, 2), committedLog: [...props(1, 1, 3), ...props(2, 1, 2)] })
    assert.deepStrictEqual(shape(d), { kind: "SNAP", zxid: "0x200000002", proposals: [] })
  })

  it("row 4: ZooKeeper's same-epoch TRUNC(prev) needs a peer zxid missing from a log that goes on in its epoch: a hole, so SNAP", () => {
    // ZooKeeper would send TRUNC(1:2) + 1:4 here; with a contiguous log this branch cannot be reached.
    const d = Sync.decide({ ...base, peerLastZxid: z(1, 3), lastProcessedZxid: z(1, 4), committedLog: [{ zxid: z(1, 1) }, { zxid: z(1, 2) }, { zxid: z(1, 4) }] })
    assert.deepStrictEqual(shape(d), { kind: "SNAP", zxid: "0x100000004", proposals: [] })
  })

  it("row 4: peer at an epoch start inside the log → DIFF with everything after it", () => {
    const d = Sync.decide({ ...base, peerLastZxid: z(2, 0), lastProcessedZxid: z(2, 6), committedLog: history })
    assert.deepStrictEqual(shape(d).proposals.length, 6)
    assert.strictEqual(d.kind, "DIFF")
  })

  it("row 5: older than the committed log → walk the txn log, then the committed log", () => {
    const txnLog = { sizeBytes: 300, read: () => history }
    const d = Sync.decide({ ...base, peerLastZxid: z(1, 2), lastProcessedZxid: z(2, 6), committedLog: props(2, 1, 6), txnLog })
    assert.deepStrictEqual(shape(d), { kind: "DIFF", zxid: "0x200000006", proposals: zxids({ kind: "DIFF", zxid: 0, proposals: history.slice(2) }) })
  })

  it("row 5: a txn log larger than snapshotSizeFactor × snapshot, or disabled, is not read → SNAP", () => {
    let reads = 0
    const txnLog = { sizeBytes: 331, read: () => (reads++, history) }
    const input = { ...base, peerLastZxid: z(1, 2), lastProcessedZxid: z(2, 6), committedLog: props(2, 1, 6), txnLog }
    assert.strictEqual(Sync.decide(input).kind, "SNAP")
    assert.strictEqual(Sync.decide({ ...input, txnLog: { ...txnLog, sizeBytes: 10 }, snapshotSizeFactor: -1 }).kind, "SNAP")
    assert.strictEqual(reads, 0)
  })

  it("row 5: a txn log that ends before the committed log starts (gap) → SNAP", () => {
    const txnLog = { sizeBytes: 1, read: () => props(1, 1, 8) }
    const d = Sync.decide({ ...base, peerLastZxid: z(1, 2), lastProcessedZxid: z(2, 6), committedLog: props(2, 1, 6), txnLog })
    assert.strictEqual(d.kind, "SNAP")
  })

  it("row 6 [B]: a wiped follower (peer 0) with a big txn log gets SNAP 0x200000009", () => {
    const log = [...props(1, 1, 10), ...props(2, 1, 9)]
    const d = Sync.decide({ ...base, snapshotSizeBytes: 1074, peerLastZxid: 0, lastProcessedZxid: z(2, 9), committedLog: log, txnLog: { sizeBytes: 67108880, read: () => log } })
    assert.deepStrictEqual(shape(d), { kind: "SNAP", zxid: "0x200000009", proposals: [] })
  })

  it("ZOOKEEPER-4925: a committed log with a hole in the part to send → SNAP, never a holed DIFF", () => {
    const holed = history.filter((p) => p.zxid !== z(2, 3))
    const d = Sync.decide({ ...base, peerLastZxid: z(1, 10), lastProcessedZxid: z(2, 6), committedLog: holed })
    assert.deepStrictEqual(shape(d), { kind: "SNAP", zxid: "0x200000006", proposals: [] })
    const epochTail = [...props(1, 1, 10), ...props(2, 2, 6)]
    assert.strictEqual(Sync.decide({ ...base, peerLastZxid: z(1, 10), lastProcessedZxid: z(2, 6), committedLog: epochTail }).kind, "SNAP", "a new epoch starts at counter 1")
    const skippedEpoch = [...props(1, 1, 10), ...props(3, 1, 2)]
    assert.strictEqual(Sync.decide({ ...base, peerLastZxid: z(1, 10), lastProcessedZxid: z(3, 2), committedLog: skippedEpoch }).kind, "DIFF", "skipped epochs are no hole")
  })

  describe("property: applying the decision makes the follower's log the leader's history", () => {
    // Leader history: contiguous epochs (some skipped), counters from 1.
    const historyArb = fc.array(fc.tuple(fc.integer({ min: 1, max: 2 }), fc.integer({ min: 0, max: 4 })), { minLength: 1, maxLength: 4 }).map((eps) => {
      const out: Array<P> = []
      let epoch = 0
      for (const [step, count] of eps) {
        epoch += step
        for (let c = 1; c <= count; c++) out.push({ zxid: z(epoch, c) })
      }
      return out
    })
    const scenario = historyArb.chain((h) =>
      fc.record({
        h: fc.constant(h),
        prefix: fc.integer({ min: 0, max: h.length }),
        extras: fc.integer({ min: 0, max: 3 }),
        committed: fc.integer({ min: 0, max: h.length }),
        txnFrom: fc.option(fc.integer({ min: 0, max: h.length }), { nil: undefined }),
        hole: fc.option(fc.nat(), { nil: undefined }),
        sizeBytes: fc.integer({ min: 0, max: 600 }),
        forceSnap: fc.boolean()
      }))

    it.prop("DIFF appends, TRUNC truncates then appends, SNAP replaces", [scenario], ([sc]) => {
      const { h } = sc
      const follower: Array<number> = h.slice(0, sc.prefix).map((p) => p.zxid)
      // Divergent txns only after the last zxid of an epoch in the leader's history.
      const last = follower[follower.length - 1]
      if (last !== undefined && sc.extras > 0 && !h.some((p) => Zxid.epochOf(p.zxid) === Zxid.epochOf(last) && p.zxid > last)) {
        for (let i = 1; i <= sc.extras; i++) follower.push(last + i)
      }
      let committedLog = h.slice(h.length - sc.committed)
      if (sc.hole !== undefined && committedLog.length > 2) {
        // Only holes that zxids can reveal (a lost epoch tail, e.g. 2:4 → 4:1 without 2:5, cannot be seen).
        const holed = committedLog.filter((_, i) => i !== 1 + (sc.hole! % (committedLog.length - 2)))
        if (!contiguousFrom(holed[0]!.zxid, holed.slice(1).map((p) => p.zxid))) committedLog = holed
      }
      const txnLog = sc.txnFrom === undefined ? undefined : { sizeBytes: sc.sizeBytes, read: () => h.slice(Math.min(sc.txnFrom!, h.length - sc.committed)) }
      const d = Sync.decide({
        ...base, peerLastZxid: follower[follower.length - 1] ?? 0, lastProcessedZxid: h[h.length - 1]?.zxid ?? 0,
        committedLog, forceSnap: sc.forceSnap, ...(txnLog === undefined ? {} : { txnLog })
      })
      const applied = d.kind === "SNAP" ? h.map((p) => p.zxid)
        : d.kind === "TRUNC" ? follower.filter((x) => x <= d.zxid)
        : follower
      assert.deepStrictEqual([...applied, ...d.proposals.map((p) => p.zxid)], h.map((p) => p.zxid), JSON.stringify(d))
    }, { fastCheck: { numRuns: 1000 } })
  })
})
