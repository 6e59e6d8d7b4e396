/**
 * FastLeaderElection votes and their total order (quorum.md §2.1, FastLeaderElection.totalOrderPredicate).
 */
import type { Zxid } from "../../wire/Zxid.js"
import type { Sid } from "./QuorumVerifier.js"

/** ServerState as notifications carry it (ordinals LOOKING 0, FOLLOWING 1, LEADING 2, OBSERVING 3). */
export type ServerState = "LOOKING" | "FOLLOWING" | "LEADING" | "OBSERVING"

/** The candidate part of a vote: who, and how up to date that candidate is. */
export interface Candidate {
  readonly leader: Sid
  readonly zxid: Zxid
  readonly peerEpoch: number
}

/** A full vote as a notification carries it. */
export interface Vote extends Candidate {
  readonly electionEpoch: number
  readonly state: ServerState
}

/** Long.MIN_VALUE: a non-voter's own leader/zxid/peerEpoch (exact as a double: it is -2^63). */
export const NON_VOTER = -(2 ** 63)

/** A non-voter's initial candidate; it loses to every voter's vote. */
export const nonVoter: Candidate = { leader: NON_VOTER, zxid: NON_VOTER, peerEpoch: NON_VOTER }

/**
 * Whether candidate `n` beats `c`: `n`'s leader must have non-zero weight, then higher peerEpoch,
 * then higher zxid, then higher sid wins.
 */
export const beats = (n: Candidate, c: Candidate, weight: (sid: Sid) => number): boolean => {
  if (weight(n.leader) === 0) return false
  if (n.peerEpoch !== c.peerEpoch) return n.peerEpoch > c.peerEpoch
  if (n.zxid !== c.zxid) return n.zxid > c.zxid
  return n.leader > c.leader
}

/** Whether two candidates name the same leader with the same zxid and peerEpoch. */
export const sameCandidate = (a: Candidate, b: Candidate): boolean =>
  a.leader === b.leader && a.zxid === b.zxid && a.peerEpoch === b.peerEpoch

/**
 * Vote.equals: with either side LOOKING compare leader, zxid, electionEpoch and peerEpoch; two
 * settled votes (FOLLOWING/LEADING) agree on leader and peerEpoch alone.
 */
export const agrees = (a: Vote, b: Vote): boolean =>
  a.state === "LOOKING" || b.state === "LOOKING"
    ? sameCandidate(a, b) && a.electionEpoch === b.electionEpoch
    : a.leader === b.leader && a.peerEpoch === b.peerEpoch
