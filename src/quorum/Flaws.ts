/**
 * Known-bad variants of the ZAB roles, for showing that the simulation's checkers catch them
 * (issue 6). Every flag is off unless a test provides this service (Testing.ensemble `flaws`);
 * each is read at exactly one decision point of Leader.ts / Learner.ts.
 */
import { Context } from "effect"

export interface FlawSet {
  /** A follower ACKs a proposal when it is appended, before the log sync made it durable. */
  readonly ackBeforeFsync: boolean
  /** At NEWLEADER a learner writes currentEpoch and ACKs without first making the synced txns durable. */
  readonly epochBeforeSync: boolean
  /** The leader commits a proposal without waiting for a quorum of ACKs. */
  readonly commitWithoutQuorum: boolean
  /** A learner told to TRUNC keeps its log (and so the proposals TRUNC should have removed). */
  readonly ignoreTrunc: boolean
  /** A follower answers a client's sync itself instead of through the leader. */
  readonly syncWithoutCatchUp: boolean
  /** A follower does not log the 5th proposal of each epoch, yet ACKs and applies it. */
  readonly logHole: boolean
}

export const none: FlawSet = {
  ackBeforeFsync: false,
  epochBeforeSync: false,
  commitWithoutQuorum: false,
  ignoreTrunc: false,
  syncWithoutCatchUp: false,
  logHole: false
}

export class Flaws extends Context.Reference<Flaws>()("ezk/quorum/Flaws", { defaultValue: (): FlawSet => none }) {}
