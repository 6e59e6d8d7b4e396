/**
 * History files (src/sim/HistoryFile.ts) and the checker over them (src/sim/CheckHistory.ts), on
 * crafted files: a valid one, a lost acknowledged write, stale reads with and without peer logs,
 * and malformed input.
 */
import { assert, describe, it } from "@effect/vitest"
import * as CheckHistory from "../../src/sim/CheckHistory.js"
import * as History from "../../src/sim/History.js"

const lines = (...objects: ReadonlyArray<object>): string => objects.map((o) => JSON.stringify(o)).join("\n") + "\n"

const create = { type: "op", process: 1, session: "0x1", kind: "create", key: "/k0", value: "a", invokeMs: 0, completeMs: 10, outcome: "ok", zxid: "0x100000001" }
const set = { type: "op", process: 2, session: "0x2", kind: "set", key: "/k0", value: "b", version: 0, invokeMs: 20, completeMs: 30, outcome: "ok", zxid: "0x100000002" }
const syncRead = { type: "op", process: 1, session: "0x1", kind: "syncGet", key: "/k0", invokeMs: 40, completeMs: 50, outcome: "ok", zxid: "0x100000002", read: { exists: true, value: "b", version: 1, mzxid: "0x100000002" } }
const log = [
  { zxid: "0x100000001", session: "0x1", writes: [{ kind: "create", key: "/k0", value: "a" }] },
  { zxid: "0x100000002", session: "0x2", writes: [{ kind: "set", key: "/k0", value: "b", version: 1 }] }
]
const peers = [1, 2, 3].map((sid) => ({ type: "peer", sid, lastZxid: "0x100000002", digest: "d", log }))
const leader = { type: "leader", epoch: 1, sid: 2, atMs: 0 }

const check = (text: string) => CheckHistory.checkHistory(CheckHistory.parse(text))
const checkers = (r: CheckHistory.Report) => [...new Set(r.violations.map((v) => v.checker))].sort()

describe("history files", () => {
  it("a valid file with peer logs: VALID, every checker ran, none skipped", () => {
    const r = check(lines({ type: "run", converged: true }, create, set, syncRead, ...peers, leader))
    assert.deepStrictEqual(r.violations, [])
    assert.isTrue(r.valid)
    assert.deepStrictEqual(r.skipped.map((s) => s.checker), ["watch-order"])
    assert.deepStrictEqual(r.counts, { ops: 3, ok: 3, fail: 0, info: 0, peers: 3, committed: 2 })
    assert.include(CheckHistory.formatReport(r), "VALID: 3 ops (3 ok, 0 fail, 0 info), 3 peer logs, 2 committed txns, 0 violations")
  })

  it("a lost acknowledged write: acked at a zxid no peer committed", () => {
    const lost = { ...set, id: 7, zxid: "0x100000003" }
    const r = check(lines(create, lost, ...peers))
    assert.isFalse(r.valid)
    assert.deepStrictEqual(checkers(r), ["no-lost-write"])
    assert.include(r.violations[0]!.message, "acknowledged write #7 (/k0) at 0x100000003 is not in the committed sequence")
    assert.match(CheckHistory.formatReport(r), /^INVALID: /)
  })

  it("a stale read with peer logs: the read values checker and read-sees-acked-writes fire", () => {
    const stale = { ...syncRead, completeMs: 60, read: { exists: true, value: "a", version: 0, mzxid: "0x100000001" } }
    const r = check(lines(create, set, stale, ...peers))
    assert.deepStrictEqual(checkers(r), ["linearizable", "read-sees-acked-writes"])
  })

  it("a stale read without peer logs is still caught; the peer-log checkers are listed as skipped", () => {
    const stale = { ...syncRead, read: { exists: true, value: "a", version: 0, mzxid: "0x100000001" } }
    const r = check(lines(create, set, stale))
    assert.deepStrictEqual(checkers(r), ["read-sees-acked-writes"])
    assert.deepStrictEqual(r.skipped.map((s) => s.checker), ["same-sequence", "no-lost-write", "linearizable (read values vs the committed sequence)", "watch-order", "one-leader"])
    const text = CheckHistory.formatReport(r)
    assert.include(text, "skipped: no-lost-write (the file has no peer logs)")
    assert.include(text, "violation read-sees-acked-writes: read #2 of /k0 answered at 0x100000002 saw a v0 at 0x100000001, but write #1 on it was acknowledged at 0x100000002")
  })

  it("an absent read after an acked create is stale unless a delete (or an unknown outcome) may explain it", () => {
    const absent = { ...syncRead, kind: "get", read: { exists: false } }
    assert.deepStrictEqual(checkers(check(lines(create, absent))), ["read-sees-acked-writes"])
    const maybeDeleted = { type: "op", process: 3, kind: "delete", key: "/k0", invokeMs: 12, completeMs: 80, outcome: "info" }
    assert.deepStrictEqual(checkers(check(lines(create, maybeDeleted, absent))), [])
    const deletedBefore = { ...maybeDeleted, outcome: "ok", zxid: "0x100000002", completeMs: 15 }
    assert.deepStrictEqual(checkers(check(lines(create, deletedBefore, absent))), [])
  })

  it("a read that reflects every acked write up to its zxid passes without peer logs", () => {
    assert.deepStrictEqual(check(lines(create, set, syncRead)).violations, [])
  })

  it("peers that disagree, a missing digest and two leaders in one epoch", () => {
    const forked = { ...peers[2]!, log: [log[0]!, { ...log[1]!, session: "0x9" }] }
    const noDigest = { type: "peer", sid: 4, lastZxid: "0x100000002", log }
    const r = check(lines(create, set, peers[0]!, peers[1]!, forked, noDigest, leader, { ...leader, sid: 3, atMs: 5 }))
    assert.deepStrictEqual(checkers(r), ["one-leader", "same-sequence"])
    assert.deepStrictEqual(r.skipped.map((s) => s.checker).filter((c) => c.startsWith("same-sequence")), ["same-sequence: tree digests"])
  })

  it("serialize and parse are inverse on a recorded history", () => {
    const h = History.empty()
    const w = History.invoke(h, { process: 1, session: "0x1", kind: "multi", steps: [{ kind: "set", key: "/k0", value: "x", version: -1 }, { kind: "create", key: "/k1", value: "y", version: -1 }], key: "/k0", invokeMs: 5 })
    History.complete(h, w, 9, "info", { error: "ConnectionLoss" })
    const r = History.invoke(h, { process: 1, session: "0x1", kind: "get", steps: [], key: "/k1", invokeMs: 11 })
    History.complete(h, r, 12, "ok", { zxid: 2 ** 32 + 3, read: { exists: true, value: "y", version: 0, mzxid: 2 ** 32 + 3 } })
    h.watches.push({ process: 1, session: "0x1", fromZxid: new Map([["/k0", 2 ** 32]]), events: [{ type: "NodeCreated", path: "/k1", atMs: 10 }], disconnectedAtMs: null })
    const file = { history: h, peers: [], leaders: [{ epoch: 1, sid: 1, atMs: 0 }], notConverged: "no leader", ephemeralsLeft: ["/e-1"] }
    const back = CheckHistory.parse(CheckHistory.serialize(file))
    assert.deepStrictEqual(back.history.ops, h.ops)
    assert.deepStrictEqual(back.history.watches, h.watches)
    assert.deepStrictEqual(back.history.events, h.events)
    assert.deepStrictEqual([back.leaders, back.notConverged, back.ephemeralsLeft], [file.leaders, "no leader", ["/e-1"]])
  })

  it("malformed input names the line and what is wrong", () => {
    const bad = (text: string) => {
      try {
        CheckHistory.parse(text)
        return "parsed"
      } catch (e) {
        assert.instanceOf(e, CheckHistory.HistoryFileError)
        return (e as Error).message
      }
    }
    assert.strictEqual(bad(lines(create) + "{oops\n"), `line 2: not JSON (${jsonError("{oops")})`)
    assert.strictEqual(bad("# a comment\n\n" + lines({ type: "opp" })), `line 3: unknown type "opp" (op, peer, leader, watch, run, note)`)
    assert.strictEqual(bad(lines({ ...create, zxid: "12x" })), `line 1: "zxid" must be a zxid (a number or "0x…")`)
    assert.strictEqual(bad(lines({ ...create, outcome: "maybe" })), `line 1: "outcome" must be one of ok, fail, info, not "maybe"`)
    assert.strictEqual(bad(lines({ type: "op", kind: "get", key: "/k0", invokeMs: 0 })), `line 1: missing "process"`)
    assert.strictEqual(bad(lines({ type: "op", process: 1, kind: "multi", invokeMs: 0 })), `line 1: a multi needs "steps"`)
    assert.strictEqual(bad("[1]\n"), "line 1: a line must be an object")
  })
})

const jsonError = (text: string): string => {
  try {
    JSON.parse(text)
    return ""
  } catch (e) {
    return (e as Error).message
  }
}
