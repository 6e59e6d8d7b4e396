/**
 * The checkers over a history file (HistoryFile.ts), for `ezk check-history` and the `ezk/check`
 * export: every checker of Checkers.ts whose inputs the file holds runs; the others are listed as
 * skipped with the reason, never dropped silently. Pure.
 *
 * Without peer logs, the checkers that need the committed sequence (same-sequence, no-lost-write,
 * the read values, watch order) cannot run; `Checkers.readsSeeAckedWrites` still catches a stale read, and so
 * a lost acknowledged write that a later read misses, from the history alone.
 */
import * as Checkers from "./Checkers.js"
import { isWrite } from "./History.js"
import type { HistoryFile } from "./HistoryFile.js"
import * as Wgl from "./Wgl.js"

export { HistoryFileError, parse, serialize, type HistoryFile } from "./HistoryFile.js"
export type { Violation } from "./Checkers.js"

export interface Report {
  readonly valid: boolean
  readonly violations: ReadonlyArray<Checkers.Violation>
  /** Checkers that ran. */
  readonly ran: ReadonlyArray<string>
  /** Checkers that did not run, each with why. */
  readonly skipped: ReadonlyArray<{ readonly checker: string; readonly why: string }>
  readonly counts: { readonly ops: number; readonly ok: number; readonly fail: number; readonly info: number; readonly peers: number; readonly committed: number }
}

/** The largest number of writes the Wing–Gong–Lowe search is run on (it is exponential). */
export const WGL_MAX_WRITES = 16

/** Runs every checker the file has inputs for. */
export const checkHistory = (file: HistoryFile): Report => {
  const ops = file.history.ops
  const violations: Array<Checkers.Violation> = []
  const ran: Array<string> = []
  const skipped: Array<{ checker: string; why: string }> = []
  const run = (checker: string, found: () => ReadonlyArray<Checkers.Violation>) => {
    ran.push(checker)
    violations.push(...found())
  }
  const skip = (checker: string, why: string) => void skipped.push({ checker, why })

  run("completes", () => [
    ...(file.notConverged === null ? [] : [{ checker: "converges", message: file.notConverged, marker: "heal" }]),
    ...ops.filter((o) => o.outcome === null).map((o) => ({ checker: "converges", message: `op #${o.id} never completed`, marker: `#${o.id} ` })),
    ...file.ephemeralsLeft.map((e) => ({ checker: "ephemerals-expire", message: `ephemerals left after their sessions ended: ${e}`, marker: "" }))
  ])
  run("linearizable (zxid order vs real time)", () => Checkers.realTimeOrder(ops))
  run("read-sees-acked-writes", () => Checkers.readsSeeAckedWrites(ops))
  run("session-fifo, monotonic-reads", () => Checkers.sessionOrder(ops))
  run("read-after-sync", () => Checkers.readAfterSync(ops))

  let merged: ReadonlyArray<Checkers.CommittedTxn> = []
  if (file.peers.length === 0) {
    const why = "the file has no peer logs"
    for (const c of ["same-sequence", "no-lost-write", "linearizable (read values vs the committed sequence)", "watch-order"]) skip(c, why)
  } else {
    const sequence = Checkers.committedSequence(file.peers)
    merged = sequence.merged
    // committedSequence compares digests of peers at equal zxids; a missing digest counts as equal.
    run("same-sequence", () => sequence.violations)
    if (!file.peers.every((p) => p.hasDigest)) skip("same-sequence: tree digests", "not every peer has a digest")
    run("no-lost-write", () => Checkers.noLostWrites(ops, merged))
    run("linearizable (read values vs the committed sequence)", () => Checkers.readValues(ops, merged))
    if (file.history.watches.length === 0) skip("watch-order", "the file has no watch logs")
    else run("watch-order", () => Checkers.watchNotifications(file.history.watches, ops, merged))
  }
  if (file.leaders.length === 0) skip("one-leader", "the file has no leader sightings")
  else run("one-leader", () => Checkers.oneLeaderPerEpoch(file.leaders))

  const writes = ops.filter((o) => isWrite(o) && o.outcome !== null).length
  if (writes > WGL_MAX_WRITES) skip("wgl", `${writes} writes; the search runs on at most ${WGL_MAX_WRITES}`)
  else {
    run("wgl", () => {
      const wgl = Wgl.check(ops, WGL_MAX_WRITES)
      return wgl._tag === "NotLinearizable"
        ? [{ checker: "wgl", message: `no linearization of the writes exists (longest prefix: ${wgl.longestPrefix.map((id) => `#${id}`).join(" ")})`, marker: "invoke" }]
        : []
    })
  }
  const count = (outcome: string) => ops.filter((o) => o.outcome === outcome).length
  return {
    valid: violations.length === 0,
    violations,
    ran,
    skipped,
    counts: { ops: ops.length, ok: count("ok"), fail: count("fail"), info: count("info"), peers: file.peers.length, committed: merged.length }
  }
}

/** The report as `ezk check-history` prints it: VALID/INVALID with counts, then violations and skips. */
export const formatReport = (report: Report, maxViolations = 20): string => {
  const c = report.counts
  const lines = [
    `${report.valid ? "VALID" : "INVALID"}: ${c.ops} ops (${c.ok} ok, ${c.fail} fail, ${c.info} info), ${c.peers} peer logs, ${c.committed} committed txns, ${report.violations.length} violations`,
    ...report.violations.slice(0, maxViolations).map((v) => `  violation ${v.checker}: ${v.message}`),
    ...(report.violations.length > maxViolations ? [`  … ${report.violations.length - maxViolations} more`] : []),
    `  checked: ${report.ran.join("; ")}`,
    ...report.skipped.map((s) => `  skipped: ${s.checker} (${s.why})`)
  ]
  return lines.join("\n")
}
