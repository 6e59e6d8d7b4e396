import { assert, describe, it } from "@effect/vitest"
import * as LS from "../../../src/quorum/core/LearnerSync.js"
import * as Zxid from "../../../src/wire/Zxid.js"

interface P { readonly zxid: number }
const p = (epoch: number, counter: number): P => ({ zxid: Zxid.make(epoch, counter) })
const E = 2
const newLeader: LS.Input<P> = { _tag: "NewLeader", zxid: Zxid.epochStart(E) }
const prop = (x: P): LS.Input<P> => ({ _tag: "Proposal", proposal: x })
const commit = (x: P): LS.Input<P> => ({ _tag: "Commit", zxid: x.zxid })

const run = (s: LS.State<P>, inputs: ReadonlyArray<LS.Input<P>>) => {
  const outputs: Array<LS.Output<P>> = []
  for (const i of inputs) {
    const r = LS.step(s, i)
    s = r.state
    outputs.push(...r.outputs)
  }
  return { state: s, outputs }
}

/** Outputs as short strings, to compare whole sequences at a glance. */
const show = (outputs: ReadonlyArray<LS.Output<P>>): Array<string> =>
  outputs.map((o) => {
    switch (o._tag) {
      case "Log": return `Log(${o.proposals.map((x) => Zxid.toHex(x.zxid)).join(",")})`
      case "Apply": return `Apply(${Zxid.toHex(o.proposal.zxid)})`
      case "Ack": case "Truncate": case "LoadSnapshot": return `${o._tag}(${Zxid.toHex(o.zxid)})`
      case "PersistCurrentEpoch": return `PersistCurrentEpoch(${o.epoch})`
      case "Abort": return `Abort(${o.reason})`
      default: return o._tag
    }
  })

describe("LearnerSync", () => {
  it("[B] restarted old leader: DIFF, six PROPOSAL/COMMIT pairs, NEWLEADER, UPTODATE", () => {
    const ps = [1, 2, 3, 4, 5, 6].map((c) => p(2, c))
    const s = LS.make<P>(p(1, 10).zxid, E)
    const sync = run(s, [{ _tag: "Diff", zxid: p(2, 6).zxid }, ...ps.flatMap((x) => [prop(x), commit(x)]), newLeader])
    assert.deepStrictEqual(show(sync.outputs), [
      "Log(0x200000001,0x200000002,0x200000003,0x200000004,0x200000005,0x200000006)", "Sync", "PersistCurrentEpoch(2)", "Ack(0x200000000)"
    ])
    const done = run(sync.state, [{ _tag: "UpToDate" }])
    assert.deepStrictEqual(show(done.outputs), [
      "Ack(0x200000000)", ...ps.map((x) => `Ack(${Zxid.toHex(x.zxid)})`), ...ps.map((x) => `Apply(${Zxid.toHex(x.zxid)})`), "StartServing"
    ])
    assert.strictEqual(done.state.phase, "serving")
  })

  it("NEWLEADER: buffered proposals are logged and fsynced before currentEpoch is persisted, and acked only then (ZOOKEEPER-3911/4643/4646/4785)", () => {
    const r = run(LS.make<P>(p(1, 3).zxid, E), [{ _tag: "Diff", zxid: p(1, 5).zxid }, prop(p(1, 4)), prop(p(1, 5)), newLeader])
    const out = show(r.outputs)
    assert.deepStrictEqual(out, ["Log(0x100000004,0x100000005)", "Sync", "PersistCurrentEpoch(2)", "Ack(0x200000000)"])
    assert.isTrue(out.indexOf("Sync") < out.indexOf("PersistCurrentEpoch(2)"))
    assert.isTrue(out.indexOf("PersistCurrentEpoch(2)") < out.indexOf("Ack(0x200000000)"))
  })

  it("ZOOKEEPER-4394: DIFF, PROPOSAL, COMMIT, PROPOSAL, NEWLEADER, COMMIT, UPTODATE applies each txn exactly once", () => {
    const [a, b] = [p(1, 4), p(1, 5)]
    const r = run(LS.make<P>(p(1, 3).zxid, E), [
      { _tag: "Diff", zxid: b.zxid }, prop(a), commit(a), prop(b), newLeader, commit(b), { _tag: "UpToDate" }
    ])
    assert.deepStrictEqual(show(r.outputs), [
      "Log(0x100000004,0x100000005)", "Sync", "PersistCurrentEpoch(2)", "Ack(0x200000000)",
      "Ack(0x200000000)", "Ack(0x100000004)", "Ack(0x100000005)", "Apply(0x100000004)", "Apply(0x100000005)", "StartServing"
    ])
    assert.strictEqual(show(r.outputs).filter((o) => o.startsWith("Apply")).length, 2)
  })

  it("ZOOKEEPER-4925: a PROPOSAL that skips a zxid aborts the sync (back to LOOKING)", () => {
    const r = run(LS.make<P>(p(1, 3).zxid, E), [{ _tag: "Diff", zxid: p(1, 6).zxid }, prop(p(1, 4)), prop(p(1, 6)), newLeader])
    assert.deepStrictEqual(show(r.outputs), ["Abort(ProposalGap)"])
    assert.strictEqual(r.state.phase, "aborted")
    const epochTail = run(LS.make<P>(p(1, 3).zxid, E), [{ _tag: "Diff", zxid: p(2, 2).zxid }, prop(p(2, 2))])
    assert.deepStrictEqual(show(epochTail.outputs), ["Abort(ProposalGap)"], "a new epoch starts at counter 1")
    const ok = run(LS.make<P>(p(1, 3).zxid, E), [{ _tag: "Diff", zxid: p(2, 1).zxid }, prop(p(2, 1))])
    assert.deepStrictEqual(show(ok.outputs), [])
  })

  it("SNAP: load; at NEWLEADER the snapshot is made durable, then every proposal logged; commits apply at UPTODATE, once", () => {
    const [a, b, c] = [p(2, 10), p(2, 11), p(2, 12)]
    const r = run(LS.make<P>(0, 3), [
      { _tag: "Snap", zxid: p(2, 9).zxid }, prop(a), commit(a), prop(b), prop(c), commit(b),
      { _tag: "NewLeader", zxid: Zxid.epochStart(3) }, commit(c), { _tag: "UpToDate" }
    ])
    assert.deepStrictEqual(show(r.outputs), [
      "LoadSnapshot(0x200000009)",
      "TakeSnapshot", "Log(0x20000000a,0x20000000b,0x20000000c)", "Sync", "PersistCurrentEpoch(3)", "Ack(0x300000000)",
      "Ack(0x300000000)", "Ack(0x20000000a)", "Ack(0x20000000b)", "Ack(0x20000000c)",
      "Apply(0x20000000a)", "Apply(0x20000000b)", "Apply(0x20000000c)", "StartServing"
    ])
  })

  it("TRUNC: truncate, then as DIFF (the log holds the rest; no snapshot)", () => {
    const r = run(LS.make<P>(p(1, 7).zxid, E), [{ _tag: "Trunc", zxid: p(1, 5).zxid }, prop(p(1, 6)), commit(p(1, 6)), newLeader, { _tag: "UpToDate" }])
    assert.deepStrictEqual(show(r.outputs), [
      "Truncate(0x100000005)", "Log(0x100000006)", "Sync", "PersistCurrentEpoch(2)", "Ack(0x200000000)",
      "Ack(0x200000000)", "Ack(0x100000006)", "Apply(0x100000006)", "StartServing"
    ])
  })

  it("proposals after the NEWLEADER ack are logged, fsynced and acked at UPTODATE; uncommitted ones stay open", () => {
    const [a, b] = [p(2, 1), p(2, 2)]
    const r = run(LS.make<P>(p(1, 3).zxid, E), [{ _tag: "Diff", zxid: p(1, 3).zxid }, newLeader, prop(a), prop(b), commit(a), { _tag: "UpToDate" }])
    assert.deepStrictEqual(show(r.outputs), [
      "PersistCurrentEpoch(2)", "Ack(0x200000000)",
      "Log(0x200000001,0x200000002)", "Sync", "Ack(0x200000000)", "Ack(0x200000001)", "Ack(0x200000002)", "Apply(0x200000001)", "StartServing"
    ])
    assert.deepStrictEqual(r.state.open, [b])
  })

  it("refuses packets out of place: COMMIT without its proposal, UPTODATE before NEWLEADER, a NEWLEADER of another epoch", () => {
    const diff: LS.Input<P> = { _tag: "Diff", zxid: 0 }
    assert.deepStrictEqual(show(run(LS.make<P>(0, E), [diff, commit(p(1, 1))]).outputs), ["Abort(UnexpectedCommit)"])
    assert.deepStrictEqual(show(run(LS.make<P>(0, E), [diff, { _tag: "UpToDate" }]).outputs), ["Abort(UnexpectedPacket)"])
    assert.deepStrictEqual(show(run(LS.make<P>(0, E), [prop(p(1, 1))]).outputs), ["Abort(UnexpectedPacket)"])
    assert.deepStrictEqual(show(run(LS.make<P>(0, E), [diff, { _tag: "NewLeader", zxid: Zxid.epochStart(3) }]).outputs), ["Abort(WrongEpoch)"])
    assert.deepStrictEqual(show(run(LS.make<P>(0, E), [diff, diff, newLeader]).outputs), ["Abort(UnexpectedPacket)"], "nothing after an abort")
  })
})
