/**
 * A learner's synchronisation phase (quorum.md §4.3 "Learner handling"), pure: the packets from the
 * first DIFF/TRUNC/SNAP up to UPTODATE in, ordered outputs out. The shell performs the outputs in
 * order; every output before an `Ack` must be durable before that ACK is sent.
 *
 * It encodes the fixes of ZooKeeper's sync-phase data-loss bugs:
 * - At NEWLEADER every buffered proposal is logged and fsynced *before* currentEpoch is persisted,
 *   and only then is NEWLEADER acked (ZOOKEEPER-3911, -4643, -4646, -4785): an ACK promises the
 *   leader that the history it sent survives a crash.
 * - Every COMMIT before UPTODATE, before or after the NEWLEADER ack, is remembered once and applied
 *   exactly once at UPTODATE (ZOOKEEPER-4394). Unlike ZooKeeper, a SNAP-synced learner does not apply
 *   commits before NEWLEADER: it logs them like the rest, so the snapshot it made durable is exactly
 *   the one the leader streamed (written as it arrived) and the log holds everything after it.
 * - A PROPOSAL that does not directly follow the previous one is refused: a hole in the history
 *   would be logged as if complete (ZOOKEEPER-4925). The learner aborts and looks again.
 * Per-proposal ACKs go out after UPTODATE and the final ACK, as 3.8.5+ sends them (quorum.md §7).
 */
import * as Zxid from "../../wire/Zxid.js"
import type { HasZxid } from "./SyncDecision.js"
import { follows } from "./ZxidOrder.js"

/** Packets a learner receives during synchronisation. */
export type Input<P extends HasZxid> =
  | { readonly _tag: "Diff"; readonly zxid: Zxid.Zxid }
  | { readonly _tag: "Trunc"; readonly zxid: Zxid.Zxid }
  | { readonly _tag: "Snap"; readonly zxid: Zxid.Zxid }
  | { readonly _tag: "Proposal"; readonly proposal: P }
  | { readonly _tag: "Commit"; readonly zxid: Zxid.Zxid }
  | { readonly _tag: "NewLeader"; readonly zxid: Zxid.Zxid }
  | { readonly _tag: "UpToDate" }

/** What the shell must do, in order. */
export type Output<P extends HasZxid> =
  /** Truncate the txn log to `zxid` and reload the database (fatal if impossible). */
  | { readonly _tag: "Truncate"; readonly zxid: Zxid.Zxid }
  /** Clear the database and load the snapshot that follows SNAP (checking "BenWasHere"). */
  | { readonly _tag: "LoadSnapshot"; readonly zxid: Zxid.Zxid }
  /** Apply a committed txn to the in-memory tree. */
  | { readonly _tag: "Apply"; readonly proposal: P }
  /** Make the snapshot SNAP loaded durable (the log holds nothing before it). */
  | { readonly _tag: "TakeSnapshot" }
  /** Append to the txn log. */
  | { readonly _tag: "Log"; readonly proposals: ReadonlyArray<P> }
  /** fsync the txn log. */
  | { readonly _tag: "Sync" }
  | { readonly _tag: "PersistCurrentEpoch"; readonly epoch: number }
  | { readonly _tag: "Ack"; readonly zxid: Zxid.Zxid }
  /** Sync is over: serve clients; the broadcast phase takes over (see `State.open`). */
  | { readonly _tag: "StartServing" }
  /** Protocol violation: close the connection and go back to LOOKING. */
  | { readonly _tag: "Abort"; readonly reason: "UnexpectedPacket" | "ProposalGap" | "UnexpectedCommit" | "WrongEpoch"; readonly detail: string }

/** Sync state. Immutable: `step` returns a new one. */
export interface State<P extends HasZxid> {
  readonly phase: "awaitingMode" | "syncing" | "newLeaderAcked" | "serving" | "aborted"
  /** snap: the loaded snapshot is made durable at NEWLEADER, before anything is logged. */
  readonly mode: "diff" | "snap"
  readonly newEpoch: number
  /** The zxid the next PROPOSAL must follow. */
  readonly lastQueued: Zxid.Zxid
  /** Received and not yet committed, in order (after `StartServing`: logged and acked, awaiting COMMIT). */
  readonly open: ReadonlyArray<P>
  /** Committed, to apply at UPTODATE, in order. */
  readonly committed: ReadonlyArray<P>
  /** Received, not yet written to the log, in order. */
  readonly unlogged: ReadonlyArray<P>
  /** Logged during sync, to ACK after UPTODATE. */
  readonly toAck: ReadonlyArray<Zxid.Zxid>
}

/** A learner that sent ACKEPOCH for `newEpoch` with its last logged zxid. */
export const make = <P extends HasZxid>(lastLoggedZxid: Zxid.Zxid, newEpoch: number): State<P> => ({
  phase: "awaitingMode", mode: "diff", newEpoch, lastQueued: lastLoggedZxid,
  open: [], committed: [], unlogged: [], toAck: []
})

type Step<P extends HasZxid> = { readonly state: State<P>; readonly outputs: ReadonlyArray<Output<P>> }

const abort = <P extends HasZxid>(s: State<P>, reason: Extract<Output<P>, { _tag: "Abort" }>["reason"], detail: string): Step<P> =>
  ({ state: { ...s, phase: "aborted" }, outputs: [{ _tag: "Abort", reason, detail }] })

/** One packet → new state and outputs. */
export const step = <P extends HasZxid>(s: State<P>, input: Input<P>): Step<P> => {
  if (s.phase === "aborted") return { state: s, outputs: [] }
  switch (input._tag) {
    case "Diff":
    case "Trunc":
    case "Snap":
      if (s.phase !== "awaitingMode") return abort(s, "UnexpectedPacket", `${input._tag} in phase ${s.phase}`)
      return onMode(s, input)
    case "Proposal": {
      if (s.phase !== "syncing" && s.phase !== "newLeaderAcked") return abort(s, "UnexpectedPacket", `PROPOSAL in phase ${s.phase}`)
      const p = input.proposal
      if (!follows(s.lastQueued, p.zxid)) {
        return abort(s, "ProposalGap", `PROPOSAL ${Zxid.toHex(p.zxid)} does not follow ${Zxid.toHex(s.lastQueued)}`)
      }
      return { state: { ...s, lastQueued: p.zxid, open: [...s.open, p], unlogged: [...s.unlogged, p] }, outputs: [] }
    }
    case "Commit":
      if (s.phase !== "syncing" && s.phase !== "newLeaderAcked") return abort(s, "UnexpectedPacket", `COMMIT in phase ${s.phase}`)
      return onCommit(s, input.zxid)
    case "NewLeader":
      if (s.phase !== "syncing") return abort(s, "UnexpectedPacket", `NEWLEADER in phase ${s.phase}`)
      if (input.zxid !== Zxid.epochStart(s.newEpoch)) {
        return abort(s, "WrongEpoch", `NEWLEADER ${Zxid.toHex(input.zxid)} for epoch ${s.newEpoch}`)
      }
      return onNewLeader(s)
    case "UpToDate":
      if (s.phase !== "newLeaderAcked") return abort(s, "UnexpectedPacket", `UPTODATE in phase ${s.phase}`)
      return onUpToDate(s)
  }
}

const onMode = <P extends HasZxid>(s: State<P>, input: Extract<Input<P>, { _tag: "Diff" | "Trunc" | "Snap" }>): Step<P> => {
  switch (input._tag) {
    case "Diff":
      // DIFF's zxid is the leader's last committed zxid; proposals continue our own log.
      return { state: { ...s, phase: "syncing", mode: "diff" }, outputs: [] }
    case "Trunc":
      if (input.zxid > s.lastQueued) return abort(s, "UnexpectedPacket", `TRUNC to ${Zxid.toHex(input.zxid)} beyond our ${Zxid.toHex(s.lastQueued)}`)
      return { state: { ...s, phase: "syncing", mode: "diff", lastQueued: input.zxid }, outputs: [{ _tag: "Truncate", zxid: input.zxid }] }
    case "Snap":
      return { state: { ...s, phase: "syncing", mode: "snap", lastQueued: input.zxid }, outputs: [{ _tag: "LoadSnapshot", zxid: input.zxid }] }
  }
}

const onCommit = <P extends HasZxid>(s: State<P>, zxid: Zxid.Zxid): Step<P> => {
  // Commits come in zxid order, each after its proposal.
  const head = s.open[0]
  if (head === undefined || head.zxid !== zxid) {
    return abort(s, "UnexpectedCommit", `COMMIT ${Zxid.toHex(zxid)}, next open proposal ${head === undefined ? "none" : Zxid.toHex(head.zxid)}`)
  }
  const open = s.open.slice(1)
  return { state: { ...s, open, committed: [...s.committed, head] }, outputs: [] }
}

const onNewLeader = <P extends HasZxid>(s: State<P>): Step<P> => {
  const outputs: Array<Output<P>> = []
  if (s.mode === "snap") outputs.push({ _tag: "TakeSnapshot" })
  if (s.unlogged.length > 0) outputs.push({ _tag: "Log", proposals: s.unlogged }, { _tag: "Sync" })
  outputs.push({ _tag: "PersistCurrentEpoch", epoch: s.newEpoch }, { _tag: "Ack", zxid: Zxid.epochStart(s.newEpoch) })
  return {
    state: { ...s, phase: "newLeaderAcked", unlogged: [], toAck: [...s.toAck, ...s.unlogged.map((p) => p.zxid)] },
    outputs
  }
}

const onUpToDate = <P extends HasZxid>(s: State<P>): Step<P> => {
  const outputs: Array<Output<P>> = []
  if (s.unlogged.length > 0) outputs.push({ _tag: "Log", proposals: s.unlogged }, { _tag: "Sync" })
  outputs.push({ _tag: "Ack", zxid: Zxid.epochStart(s.newEpoch) })
  for (const zxid of [...s.toAck, ...s.unlogged.map((p) => p.zxid)]) outputs.push({ _tag: "Ack", zxid })
  for (const proposal of s.committed) outputs.push({ _tag: "Apply", proposal })
  outputs.push({ _tag: "StartServing" })
  return { state: { ...s, phase: "serving", unlogged: [], toAck: [], committed: [] }, outputs }
}
