/**
 * ZAB discovery (epoch establishment, quorum.md §4.2), both sides, pure. Replaces Leader.java's
 * getEpochToPropose / waitForEpochAck wait loops: the shell feeds packets and applies the outputs
 * (persist before send), and bounds each phase with initLimit·tickTime itself.
 */
import type { Zxid } from "../../wire/Zxid.js"
import { assert } from "./internal/assert.js"
import type { QuorumVerifier, Sid } from "./QuorumVerifier.js"

/** A server's epoch summary: `(currentEpoch, lastZxid)`, ordered lexicographically. */
export interface StateSummary {
  readonly currentEpoch: number
  readonly lastZxid: Zxid
}

/** StateSummary.isMoreRecentThan. */
export const isMoreRecent = (a: StateSummary, b: StateSummary): boolean =>
  a.currentEpoch > b.currentEpoch || (a.currentEpoch === b.currentEpoch && a.lastZxid > b.lastZxid)

/** Leader-side discovery state. */
export interface Leader {
  readonly myid: Sid
  readonly verifier: QuorumVerifier
  readonly own: StateSummary
  readonly phase: "collectingInfo" | "collectingAcks" | "done" | "failed"
  /** max acceptedEpoch seen so far (own included): newEpoch will be one more. */
  readonly maxAcceptedEpoch: number
  readonly connecting: ReadonlySet<Sid>
  readonly newEpoch: number | undefined
  readonly acked: ReadonlySet<Sid>
}

/** Leader-side inputs: FOLLOWERINFO/OBSERVERINFO (acceptedEpoch from its zxid) and ACKEPOCH. */
export type LeaderInput =
  | { readonly _tag: "LearnerInfo"; readonly sid: Sid; readonly acceptedEpoch: number }
  | { readonly _tag: "AckEpoch"; readonly sid: Sid; readonly currentEpoch: number; readonly lastZxid: Zxid }

/** Leader-side outputs. */
export type LeaderOutput =
  /** Persist acceptedEpoch = newEpoch, then send LEADERINFO(newEpoch) to every connected learner (late ones too). */
  | { readonly _tag: "EpochChosen"; readonly newEpoch: number }
  /** A quorum acked the epoch: persist currentEpoch = newEpoch, then sync the learners. */
  | { readonly _tag: "EpochAcked"; readonly newEpoch: number }
  /** "Follower is ahead of the leader": give up leading and look again. */
  | { readonly _tag: "FollowerAhead"; readonly sid: Sid; readonly summary: StateSummary }
  /** A late learner accepted a newer epoch than ours, so it refuses ours: give up leading, look again. */
  | { readonly _tag: "LearnerEpochAhead"; readonly sid: Sid; readonly acceptedEpoch: number }

/** The leader's discovery at its own (acceptedEpoch, currentEpoch, lastZxid); its own vote counts. */
export const makeLeader = (myid: Sid, verifier: QuorumVerifier, acceptedEpoch: number, own: StateSummary): Leader => {
  assert(verifier.isVoter(myid), "only a voter leads")
  return {
    myid, verifier, own, phase: "collectingInfo", maxAcceptedEpoch: acceptedEpoch,
    connecting: new Set([myid]), newEpoch: undefined, acked: new Set([myid])
  }
}

/** One packet → new state and outputs. Observers' epochs raise newEpoch but never count for a quorum. */
export const stepLeader = (s: Leader, input: LeaderInput): { state: Leader; outputs: ReadonlyArray<LeaderOutput> } => {
  if (s.phase === "failed") return { state: s, outputs: [] }
  switch (input._tag) {
    case "LearnerInfo": {
      if (s.phase !== "collectingInfo") {
        // It accepted the epoch of a leader that never established it (ours came from a quorum without
        // it): it refuses ours (onLeaderInfo), and while the others follow us it would look again
        // forever. Stepping down lets the next election choose an epoch above it. (ZooKeeper leaves
        // such a learner out until the leader changes.)
        if (input.acceptedEpoch > s.newEpoch!) {
          return { state: { ...s, phase: "failed" }, outputs: [{ _tag: "LearnerEpochAhead", sid: input.sid, acceptedEpoch: input.acceptedEpoch }] }
        }
        return { state: s, outputs: [] }
      }
      const connecting = new Set(s.connecting)
      if (s.verifier.isVoter(input.sid)) connecting.add(input.sid)
      const next: Leader = { ...s, connecting, maxAcceptedEpoch: Math.max(s.maxAcceptedEpoch, input.acceptedEpoch) }
      if (!s.verifier.containsQuorum(connecting)) return { state: next, outputs: [] }
      const newEpoch = next.maxAcceptedEpoch + 1
      assert(newEpoch > s.own.currentEpoch, "a new epoch is newer than the leader's current one")
      return { state: { ...next, phase: "collectingAcks", newEpoch }, outputs: [{ _tag: "EpochChosen", newEpoch }] }
    }
    case "AckEpoch": {
      // Once the epoch is established late learners are not compared (as in ZooKeeper); before that a
      // learner ahead of us means we may lack committed txns, so we give up leading at once (ZooKeeper
      // only drops that learner and lets the ACKEPOCH wait time out). currentEpoch -1: the learner had
      // already accepted this epoch; nothing to compare.
      if (s.phase === "done") return { state: s, outputs: [] }
      const summary = { currentEpoch: input.currentEpoch, lastZxid: input.lastZxid }
      if (input.currentEpoch !== -1 && isMoreRecent(summary, s.own)) {
        return { state: { ...s, phase: "failed" }, outputs: [{ _tag: "FollowerAhead", sid: input.sid, summary }] }
      }
      if (s.phase !== "collectingAcks") return { state: s, outputs: [] }
      const acked = new Set(s.acked)
      if (s.verifier.isVoter(input.sid)) acked.add(input.sid)
      if (!s.verifier.containsQuorum(acked)) return { state: { ...s, acked }, outputs: [] }
      return { state: { ...s, acked, phase: "done" }, outputs: [{ _tag: "EpochAcked", newEpoch: s.newEpoch! }] }
    }
  }
}

/** What a learner does with LEADERINFO(newEpoch). */
export type LearnerDecision =
  /** Persist acceptedEpoch = newEpoch, then send ACKEPOCH(lastLoggedZxid, currentEpoch). */
  | { readonly _tag: "Accept"; readonly acceptedEpoch: number; readonly ackEpochData: number }
  /** Already accepted this epoch: ACKEPOCH with data -1, nothing to persist. */
  | { readonly _tag: "AlreadyAccepted"; readonly ackEpochData: -1 }
  /** An older epoch than we accepted: refuse and look again. */
  | { readonly _tag: "Refuse"; readonly acceptedEpoch: number; readonly newEpoch: number }

/** Learner side of LEADERINFO (Learner.registerWithLeader). */
export const onLeaderInfo = (acceptedEpoch: number, currentEpoch: number, newEpoch: number): LearnerDecision => {
  assert(currentEpoch <= acceptedEpoch, "a server never completes an epoch it did not accept")
  if (newEpoch > acceptedEpoch) return { _tag: "Accept", acceptedEpoch: newEpoch, ackEpochData: currentEpoch }
  if (newEpoch === acceptedEpoch) return { _tag: "AlreadyAccepted", ackEpochData: -1 }
  return { _tag: "Refuse", acceptedEpoch, newEpoch }
}
