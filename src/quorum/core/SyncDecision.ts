/**
 * The leader's DIFF / TRUNC / SNAP choice for one learner (quorum.md §4.3; LearnerHandler.syncFollower
 * and queueCommittedProposals), as a pure function of what the leader holds.
 *
 * One deliberate difference from ZooKeeper (ZOOKEEPER-4925): the proposals a DIFF or TRUNC would send
 * must continue the learner's history without a hole. Zxids of one epoch are consecutive and a new
 * epoch starts at counter 1 (`ZxidOrder.follows`); if the committed log or txn log handed in skips a
 * zxid in the part the learner needs, a DIFF would leave the learner silently missing a txn, so the
 * decision falls back to SNAP. Zxids cannot reveal a lost epoch tail (2:4 → 4:1 when 2:5 existed),
 * so the shell must still build the committed log from one contiguous replay.
 */
import * as Zxid from "../../wire/Zxid.js"
import { assert } from "./internal/assert.js"
import { contiguousFrom } from "./ZxidOrder.js"

/** Anything carrying a zxid: the shell's committed proposals (packet bytes and all). */
export interface HasZxid {
  readonly zxid: Zxid.Zxid
}

/**
 * The on-disk txn log as seen from the learner's last zxid; used only when the size check passes.
 * ZooKeeper compares the length of the log files, preallocation padding included (64 MiB each), so
 * it rarely passes; ezk counts the bytes of the txns themselves, which is what a DIFF sends.
 */
export interface TxnLogSource<P extends HasZxid> {
  /** Bytes of the logged txns from peerLastZxid on (a reader may stop counting past `txnLogLimitBytes`). */
  readonly sizeBytes: number
  /** Proposals in zxid order; if the first is past peerLastZxid the log cannot be used (→ SNAP). */
  readonly read: () => Iterable<P>
}

/** What the leader knows when a learner's ACKEPOCH arrives. */
export interface SyncInput<P extends HasZxid> {
  /** ACKEPOCH's zxid: the learner's last logged zxid. */
  readonly peerLastZxid: Zxid.Zxid
  readonly lastProcessedZxid: Zxid.Zxid
  /** The in-memory committed log (the last ≥ 500 committed proposals), in zxid order. */
  readonly committedLog: ReadonlyArray<P>
  /** `zookeeper.snapshotSizeFactor` (0.33 by default); negative disables syncing from the txn log. */
  readonly snapshotSizeFactor: number
  /** What a SNAP would send (ZooKeeper: the newest snapshot file): the txn log is used only up to factor × this. */
  readonly snapshotSizeBytes: number
  readonly txnLog?: TxnLogSource<P>
  /** `forceSnapSync` (a test flag in ZooKeeper). */
  readonly forceSnap?: boolean
}

/** The first packet and the proposals to send as PROPOSAL + COMMIT pairs after it. */
export interface SyncDecision<P extends HasZxid> {
  readonly kind: "DIFF" | "TRUNC" | "SNAP"
  /** DIFF: the leader's last committed zxid; TRUNC: truncate to this; SNAP: lastProcessedZxid. */
  readonly zxid: Zxid.Zxid
  readonly proposals: ReadonlyArray<P>
}

interface Walk<P> {
  op: { readonly kind: "DIFF" | "TRUNC"; readonly zxid: Zxid.Zxid } | undefined
  readonly proposals: Array<P>
}

/**
 * queueCommittedProposals: skip what the peer has, pick DIFF or TRUNC at the first proposal at or
 * past peerLastZxid, queue every later one. Returns the last zxid queued (or peerLastZxid).
 * Leaves `op` unset when the peer's history diverges across an epoch (no TRUNC across epochs).
 */
const walk = <P extends HasZxid>(acc: Walk<P>, items: Iterable<P>, peerLastZxid: Zxid.Zxid, maxZxid: Zxid.Zxid | undefined, lastCommitted: Zxid.Zxid): Zxid.Zxid => {
  const peerAtEpochStart = Zxid.counterOf(peerLastZxid) === 0
  let queued = peerLastZxid
  let prev = -1
  for (const p of items) {
    if (maxZxid !== undefined && p.zxid > maxZxid) break
    if (p.zxid < peerLastZxid) {
      prev = p.zxid
      continue
    }
    if (acc.op === undefined) {
      if (p.zxid === peerLastZxid) {
        acc.op = { kind: "DIFF", zxid: lastCommitted }
        continue
      }
      if (peerAtEpochStart) acc.op = { kind: "DIFF", zxid: lastCommitted }
      else if (Zxid.epochOf(p.zxid) !== Zxid.epochOf(peerLastZxid)) return queued
      else acc.op = { kind: "TRUNC", zxid: prev }
    }
    if (p.zxid <= queued) continue
    acc.proposals.push(p)
    queued = p.zxid
  }
  if (acc.op === undefined && peerAtEpochStart) acc.op = { kind: "DIFF", zxid: lastCommitted }
  return queued
}

/**
 * How many bytes of txns a DIFF from the txn log may send (ZKDatabase.calculateTxnLogSizeLimit), or
 * undefined when syncing from the txn log is disabled (a negative factor).
 */
export const txnLogLimitBytes = (snapshotSizeFactor: number, snapshotSizeBytes: number): number | undefined =>
  snapshotSizeFactor < 0 ? undefined : snapshotSizeFactor * snapshotSizeBytes

/** The committed log's oldest zxid, or lastProcessedZxid when it is empty (ZooKeeper's minCommittedLog). */
export const minCommitted = (committedLog: ReadonlyArray<HasZxid>, lastProcessedZxid: Zxid.Zxid): Zxid.Zxid =>
  committedLog.length > 0 ? committedLog[0]!.zxid : lastProcessedZxid

/** Whether a learner at peerLastZxid lies below the committed log, so only the txn log could DIFF it. */
export const needsTxnLog = (peerLastZxid: Zxid.Zxid, committedLog: ReadonlyArray<HasZxid>, lastProcessedZxid: Zxid.Zxid): boolean =>
  peerLastZxid < minCommitted(committedLog, lastProcessedZxid)

/** Chooses how to bring a learner from peerLastZxid to the leader's committed history. */
export const decide = <P extends HasZxid>(input: SyncInput<P>): SyncDecision<P> => {
  const { committedLog: log, lastProcessedZxid: last, peerLastZxid: peer } = input
  const snap: SyncDecision<P> = { kind: "SNAP", zxid: last, proposals: [] }
  const min = minCommitted(log, last)
  const max = log.length > 0 ? log[log.length - 1]!.zxid : last
  assert(min <= max, "the committed log is in zxid order")

  if (input.forceSnap === true) return snap
  if (peer === last) return { kind: "DIFF", zxid: peer, proposals: [] }
  if (peer > max && Zxid.counterOf(peer) !== 0) return { kind: "TRUNC", zxid: max, proposals: [] }

  const acc: Walk<P> = { op: undefined, proposals: [] }
  if (min <= peer && peer <= max) {
    walk(acc, log, peer, undefined, max)
  } else if (peer < min && input.txnLog !== undefined && input.txnLog.sizeBytes <= (txnLogLimitBytes(input.snapshotSizeFactor, input.snapshotSizeBytes) ?? -1)) {
    const txns = [...input.txnLog.read()]
    // A log that starts after the peer's zxid cannot show what the peer has (FileTxnSnapLog checks the same).
    if (txns.length === 0 || txns[0]!.zxid > peer) return snap
    const reached = walk(acc, txns, peer, min, max)
    // The txn log must reach the committed log; if it ends before, there is a gap between them.
    if (reached < min) return snap
    walk(acc, log, reached, undefined, max)
  }
  return checked(acc, peer, snap)
}

/** The walk's result, or SNAP when it chose nothing, a TRUNC below every zxid, or a history with a hole. */
const checked = <P extends HasZxid>(acc: Walk<P>, peer: Zxid.Zxid, snap: SyncDecision<P>): SyncDecision<P> => {
  const op = acc.op
  if (op === undefined || (op.kind === "TRUNC" && op.zxid < 0)) return snap
  const start = op.kind === "DIFF" ? peer : op.zxid
  if (!contiguousFrom(start, acc.proposals.map((p) => p.zxid))) return snap
  return { kind: op.kind, zxid: op.zxid, proposals: acc.proposals }
}
