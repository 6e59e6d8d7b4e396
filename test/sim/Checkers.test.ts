/**
 * The checkers catch what they claim to, on crafted histories (no ensemble involved).
 */
import { assert, describe, it } from "@effect/vitest"
import * as Checkers from "../../src/sim/Checkers.js"
import * as History from "../../src/sim/History.js"
import * as Wgl from "../../src/sim/Wgl.js"

const Z = (n: number) => 2 ** 32 + n

/** A history from compact op specs (all on session s<process>). */
const build = (
  specs: ReadonlyArray<{
    p: number
    kind: History.OpKind
    key?: string
    steps?: ReadonlyArray<History.WriteStep>
    at: [number, number]
    outcome?: History.Outcome
    zxid?: number
    error?: string
    read?: History.ReadResult
  }>
): History.History => {
  const h = History.empty()
  for (const s of specs) {
    const op = History.invoke(h, { process: s.p, session: `0x${s.p}`, kind: s.kind, steps: s.steps ?? [], key: s.key ?? s.steps?.[0]?.key ?? "/k0", invokeMs: s.at[0] })
    History.complete(h, op, s.at[1], s.outcome ?? "ok", { zxid: s.zxid ?? null, error: s.error ?? null, read: s.read ?? null })
  }
  return h
}

const set = (key: string, value: string, version = -1): History.WriteStep => ({ kind: "set", key, value, version })
const create = (key: string, value: string): History.WriteStep => ({ kind: "create", key, value, version: -1 })
const txn = (zxid: number, session: string, writes: ReadonlyArray<Checkers.TxnWrite>): Checkers.CommittedTxn => ({ zxid, session, writes, bytes: `${zxid}/${session}/${JSON.stringify(writes)}` })
const peer = (sid: number, log: ReadonlyArray<Checkers.CommittedTxn>, digest = "d"): Checkers.PeerFinal => ({ sid, lastProcessedZxid: log.at(-1)?.zxid ?? 0, digest, snapshots: [], log })

const committed = [
  txn(Z(1), "0x1", [{ kind: "create", key: "/k0", value: "a", version: 0 }]),
  txn(Z(2), "0x2", [{ kind: "set", key: "/k0", value: "b", version: 1 }])
]
const valid = build([
  { p: 1, kind: "create", steps: [create("/k0", "a")], at: [0, 10], zxid: Z(1) },
  { p: 2, kind: "set", steps: [set("/k0", "b")], at: [20, 30], zxid: Z(2) },
  { p: 1, kind: "syncGet", key: "/k0", at: [40, 50], zxid: Z(2), read: { exists: true, value: "b", version: 1, mzxid: Z(2) } }
])
const input = (history: History.History, peers = [peer(1, committed), peer(2, committed)]): Checkers.CheckInput => ({ history, peers, leaders: [], notConverged: null })
const checkers = (vs: ReadonlyArray<Checkers.Violation>) => [...new Set(vs.map((v) => v.checker))].sort()

describe("checkers", () => {
  it("a valid history passes every checker", () => {
    assert.deepStrictEqual(Checkers.checkAll(input(valid)), [])
  })

  it("an acknowledged write missing from the committed sequence is a lost write", () => {
    const lost = [committed[0]!]
    assert.deepStrictEqual(checkers(Checkers.noLostWrites(valid.ops, lost)), ["no-lost-write"])
    // A different session's txn at the acked zxid is a lost write too.
    const other = [committed[0]!, txn(Z(2), "0x9", [{ kind: "set", key: "/k0", value: "x", version: 1 }])]
    assert.deepStrictEqual(checkers(Checkers.noLostWrites(valid.ops, other)), ["no-lost-write"])
  })

  it("a read that sees a stale value at its zxid, or a sync read behind an acked write, is caught", () => {
    const stale = build([
      { p: 1, kind: "create", steps: [create("/k0", "a")], at: [0, 10], zxid: Z(1) },
      { p: 2, kind: "set", steps: [set("/k0", "b")], at: [20, 30], zxid: Z(2) },
      { p: 3, kind: "syncGet", key: "/k0", at: [40, 50], zxid: Z(1), read: { exists: true, value: "a", version: 0, mzxid: Z(1) } },
      { p: 4, kind: "get", key: "/k0", at: [40, 50], zxid: Z(2), read: { exists: true, value: "a", version: 0, mzxid: Z(1) } }
    ])
    assert.deepStrictEqual(checkers(Checkers.readAfterSync(stale.ops)), ["read-after-sync"])
    assert.deepStrictEqual(Checkers.readValues(stale.ops, committed).map((v) => v.marker), ["#3 "])
  })

  it("zxid order against real time, session FIFO and monotonic reads", () => {
    const reordered = build([
      { p: 1, kind: "set", steps: [set("/k0", "a")], at: [0, 10], zxid: Z(5) },
      { p: 2, kind: "set", steps: [set("/k0", "b")], at: [20, 30], zxid: Z(4) },
      { p: 2, kind: "get", key: "/k0", at: [40, 50], zxid: Z(3) }
    ])
    assert.deepStrictEqual(checkers(Checkers.realTimeOrder(reordered.ops)), ["linearizable"])
    assert.deepStrictEqual(checkers(Checkers.sessionOrder(reordered.ops)), ["monotonic-reads"])
  })

  it("peers that differ at a zxid, skip one, or disagree on the digest are caught; two leaders in an epoch too", () => {
    const forked = [committed[0]!, txn(Z(2), "0x2", [{ kind: "set", key: "/k0", value: "other", version: 1 }])]
    assert.deepStrictEqual(checkers(Checkers.committedSequence([peer(1, committed), peer(2, forked)]).violations), ["same-sequence"])
    const holed = { ...peer(2, [committed[0]!, txn(Z(3), "0x3", [])]) }
    assert.isAbove(Checkers.committedSequence([peer(1, [...committed, txn(Z(3), "0x3", [])]), holed]).violations.length, 0)
    assert.deepStrictEqual(checkers(Checkers.committedSequence([peer(1, committed, "x"), peer(2, committed, "y")]).violations), ["same-sequence"])
    assert.deepStrictEqual(checkers(Checkers.oneLeaderPerEpoch([{ epoch: 2, sid: 1, atMs: 0 }, { epoch: 2, sid: 3, atMs: 5 }])), ["one-leader"])
  })

  it("a learner's log entries under its SNAP snapshot are superseded; entries no one else vouches for still count", () => {
    // Peer 3 logged Z(3) as a leader that lost its quorum, then was synced by SNAP at epoch 2: Z(3) never committed.
    const next = txn(2 * 2 ** 32 + 1, "0x4", [{ kind: "set", key: "/k0", value: "c", version: 2 }])
    const stale = txn(Z(3), "0x3", [{ kind: "set", key: "/k0", value: "lost", version: 2 }])
    const snapped: Checkers.PeerFinal = { ...peer(3, [...committed, stale, next]), snapshots: [2 * 2 ** 32] }
    const others = [peer(1, [...committed, next]), peer(2, [...committed, next])]
    const { merged, violations } = Checkers.committedSequence([...others, snapped])
    assert.deepStrictEqual(violations, [])
    assert.deepStrictEqual(merged.map((t) => t.zxid), [Z(1), Z(2), next.zxid])
    // When every peer has a snapshot above a write, the logs under the snapshots still give the sequence.
    const allSnapped = [1, 2].map((sid) => ({ ...peer(sid, [...committed, next]), snapshots: [Z(2)] }))
    assert.deepStrictEqual(Checkers.committedSequence(allSnapped).merged.map((t) => t.zxid), [Z(1), Z(2), next.zxid])
  })

  it("ephemerals left after their sessions vanished are a violation", () => {
    assert.deepStrictEqual(checkers(Checkers.checkAll({ ...input(valid), ephemeralsLeft: ["peer 1: 0x1 owns /e-p1-0"] })), ["ephemerals-expire"])
  })

  it("watch notifications: a lost, reordered or late notification is caught", () => {
    const log = (events: ReadonlyArray<[string, number]>): History.WatchLog => ({
      process: 1,
      session: "0x1",
      fromZxid: new Map([["/k0", 0]]),
      events: events.map(([type, atMs]) => ({ type, path: "/k0", atMs })),
      disconnectedAtMs: null
    })
    const ok = log([["NodeCreated", 5], ["NodeDataChanged", 25]])
    assert.deepStrictEqual(Checkers.watchNotifications([ok], valid.ops, committed), [])
    // The set at Z(2) never notified.
    assert.deepStrictEqual(checkers(Checkers.watchNotifications([log([["NodeCreated", 5]])], valid.ops, committed)), ["watch-order"])
    // Out of order.
    assert.deepStrictEqual(checkers(Checkers.watchNotifications([log([["NodeDataChanged", 5], ["NodeCreated", 25]])], valid.ops, committed)), ["watch-order"])
    // Notified only after session 1's read at Z(2) was answered (at 50).
    assert.deepStrictEqual(checkers(Checkers.watchNotifications([log([["NodeCreated", 5], ["NodeDataChanged", 60]])], valid.ops, committed)), ["watch-order"])
    // Nothing is required after the session disconnected.
    assert.deepStrictEqual(Checkers.watchNotifications([{ ...log([["NodeCreated", 5]]), disconnectedAtMs: 15 }], valid.ops, committed), [])
  })

  it("Wing-Gong-Lowe: finds an order when one exists, reports none when versions contradict real time", () => {
    assert.deepStrictEqual(Wgl.check(valid.ops)._tag, "Linearizable")
    // Both versioned sets (expecting version 0) succeeded one after the other: impossible.
    const bad = build([
      { p: 1, kind: "create", steps: [create("/k0", "a")], at: [0, 10], zxid: Z(1) },
      { p: 2, kind: "set", steps: [set("/k0", "b", 0)], at: [20, 30], zxid: Z(2) },
      { p: 3, kind: "set", steps: [set("/k0", "c", 0)], at: [40, 50], zxid: Z(3) }
    ])
    assert.deepStrictEqual(Wgl.check(bad.ops)._tag, "NotLinearizable")
    // Overlapping in time, one ok and one BadVersion is fine; an info op may or may not have applied.
    const overlapping = build([
      { p: 1, kind: "create", steps: [create("/k0", "a")], at: [0, 10], zxid: Z(1) },
      { p: 2, kind: "set", steps: [set("/k0", "b", 0)], at: [20, 40], outcome: "fail", error: "BadVersion" },
      { p: 3, kind: "set", steps: [set("/k0", "c", 0)], at: [15, 30], outcome: "info", error: "ConnectionLoss" }
    ])
    assert.deepStrictEqual(Wgl.check(overlapping.ops)._tag, "Linearizable")
  })
})
