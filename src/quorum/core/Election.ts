/**
 * FastLeaderElection as a pure state machine (quorum.md §2.2–2.3): `step(state, input)` returns the
 * new state and the outputs as data; the shell owns sockets and timers.
 *
 * Shell contract:
 * - `SendAll` goes to every other voter (an observer's too: observers only send to voters). The
 *   machine records its own vote itself, so the shell need not loop messages back to itself.
 * - After `StartFinalizeWait { wait }` the shell waits finalizeWait ms (200 in ZooKeeper) and then
 *   feeds `FinalizeTimeout { wait }`; a newer wait supersedes older ones (their timeouts are ignored).
 * - Notifications keep flowing after `Decided`: the machine answers LOOKING peers with its vote,
 *   which is how restarted servers find the running leader.
 */
import type { Zxid } from "../../wire/Zxid.js"
import { assert } from "./internal/assert.js"
import type { QuorumVerifier, Sid } from "./QuorumVerifier.js"
import { agrees, beats, type Candidate, nonVoter, type ServerState, type Vote } from "./Vote.js"

/** Election state of one server. Immutable: `step` returns a new one. */
export interface State {
  readonly myid: Sid
  readonly verifier: QuorumVerifier
  /** logicalclock: the election round. */
  readonly logicalClock: number
  /** Our own candidate (myid, lastLoggedZxid, currentEpoch), or the non-voter one. */
  readonly initial: Candidate
  readonly proposal: Candidate
  readonly state: ServerState
  /** Votes of this round, own vote included, from LOOKING (and same-round settled) peers. */
  readonly recvset: ReadonlyMap<Sid, Vote>
  /** Settled (FOLLOWING/LEADING) peers' votes, whatever their round. */
  readonly outofelection: ReadonlyMap<Sid, Vote>
  /** The current finalize wait, if one runs: its id, bumped on every new wait. */
  readonly finalizing: number | undefined
  readonly waits: number
  /** The decided vote while not LOOKING. */
  readonly decided: Vote | undefined
}

/** Inputs the shell feeds. */
export type Input =
  | { readonly _tag: "Start"; readonly lastLoggedZxid: Zxid; readonly currentEpoch: number }
  | { readonly _tag: "Notification"; readonly from: Sid; readonly vote: Vote }
  | { readonly _tag: "FinalizeTimeout"; readonly wait: number }
  | { readonly _tag: "NoNotificationTimeout" }
  | { readonly _tag: "Synced"; readonly peerEpoch: number }

/** Outputs, to perform in order. */
export type Output =
  | { readonly _tag: "SendAll"; readonly vote: Vote }
  | { readonly _tag: "SendTo"; readonly sid: Sid; readonly vote: Vote }
  | { readonly _tag: "StartFinalizeWait"; readonly wait: number }
  | { readonly _tag: "Decided"; readonly leader: Sid; readonly state: Exclude<ServerState, "LOOKING">; readonly vote: Vote }

/** Result of one step. */
export interface Step {
  readonly state: State
  readonly outputs: ReadonlyArray<Output>
}

const candidateOf = (myid: Sid, verifier: QuorumVerifier, lastLoggedZxid: Zxid, currentEpoch: number): Candidate =>
  verifier.isVoter(myid) ? { leader: myid, zxid: lastLoggedZxid, peerEpoch: currentEpoch } : nonVoter

/** A server that has not started looking yet (round 0); feed `Start` to begin. */
export const make = (myid: Sid, verifier: QuorumVerifier, lastLoggedZxid: Zxid, currentEpoch: number): State => {
  const initial = candidateOf(myid, verifier, lastLoggedZxid, currentEpoch)
  return {
    myid, verifier, logicalClock: 0, initial, proposal: initial, state: "LOOKING",
    recvset: new Map(), outofelection: new Map(), finalizing: undefined, waits: 0, decided: undefined
  }
}

/** Our proposal as a LOOKING notification of the current round. */
export const proposalVote = (s: State): Vote => ({
  leader: s.proposal.leader, zxid: s.proposal.zxid, peerEpoch: s.proposal.peerEpoch,
  electionEpoch: s.logicalClock, state: "LOOKING"
})

/** What we answer with: the decided vote once settled, the current proposal while looking. */
export const currentVote = (s: State): Vote => s.decided ?? proposalVote(s)

const withOwnVote = (s: State): State => {
  if (!s.verifier.isVoter(s.myid)) return s
  const recvset = new Map(s.recvset)
  recvset.set(s.myid, proposalVote(s))
  return { ...s, recvset }
}

const learningState = (s: State): "FOLLOWING" | "OBSERVING" => (s.verifier.isVoter(s.myid) ? "FOLLOWING" : "OBSERVING")

const decide = (s: State, vote: Vote, logicalClock: number): Step => {
  const state = vote.leader === s.myid ? "LEADING" : learningState(s)
  const decided: Vote = { ...vote, electionEpoch: logicalClock, state }
  return {
    state: { ...s, logicalClock, state, decided, finalizing: undefined, recvset: new Map(), outofelection: new Map() },
    outputs: [{ _tag: "Decided", leader: vote.leader, state, vote: decided }]
  }
}

const agreeingSids = (votes: ReadonlyMap<Sid, Vote>, vote: Vote): Array<Sid> =>
  [...votes].filter(([, v]) => agrees(v, vote)).map(([sid]) => sid)

/** checkLeader: the leader must have said LEADING itself, or be us in the round it was elected. */
const leaderConfirmed = (s: State, votes: ReadonlyMap<Sid, Vote>, vote: Vote): boolean =>
  vote.leader === s.myid ? s.logicalClock === vote.electionEpoch : votes.get(vote.leader)?.state === "LEADING"

/** One input → new state and outputs. */
export const step = (s: State, input: Input): Step => {
  switch (input._tag) {
    case "Start": {
      const initial = candidateOf(s.myid, s.verifier, input.lastLoggedZxid, input.currentEpoch)
      const next = withOwnVote({
        ...s, logicalClock: s.logicalClock + 1, initial, proposal: initial, state: "LOOKING",
        recvset: new Map(), outofelection: new Map(), finalizing: undefined, decided: undefined
      })
      return { state: next, outputs: [{ _tag: "SendAll", vote: proposalVote(next) }] }
    }
    case "NoNotificationTimeout":
      return s.state === "LOOKING" && s.logicalClock > 0
        ? { state: s, outputs: [{ _tag: "SendAll", vote: proposalVote(s) }] }
        : { state: s, outputs: [] }
    case "FinalizeTimeout": {
      if (s.state !== "LOOKING" || s.finalizing !== input.wait) return { state: s, outputs: [] }
      return decide(s, proposalVote(s), s.logicalClock)
    }
    case "Synced": {
      assert(s.decided !== undefined, "only a settled server syncs")
      return { state: { ...s, decided: { ...s.decided, peerEpoch: input.peerEpoch } }, outputs: [] }
    }
    case "Notification":
      return onNotification(s, input.from, input.vote)
  }
}

const onNotification = (s: State, from: Sid, n: Vote): Step => {
  // The receiver thread's replies, in every state.
  if (!s.verifier.isVoter(from)) return { state: s, outputs: [{ _tag: "SendTo", sid: from, vote: currentVote(s) }] }
  if (s.state !== "LOOKING") {
    return n.state === "LOOKING"
      ? { state: s, outputs: [{ _tag: "SendTo", sid: from, vote: currentVote(s) }] }
      : { state: s, outputs: [] }
  }
  if (n.state === "LOOKING" && n.electionEpoch < s.logicalClock) {
    return { state: s, outputs: [{ _tag: "SendTo", sid: from, vote: proposalVote(s) }] }
  }
  if (s.logicalClock === 0 || !s.verifier.isVoter(n.leader) || n.state === "OBSERVING") return { state: s, outputs: [] }
  if (s.finalizing !== undefined) {
    // During the finalize wait only a strictly better candidate matters; the rest is drained.
    if (!beats(n, s.proposal, s.verifier.weight)) return { state: s, outputs: answerWorse(s, from, n) }
    s = { ...s, finalizing: undefined }
  }
  return n.state === "LOOKING" ? onLooking(s, from, n) : onSettled(s, from, n)
}

const onLooking = (s: State, from: Sid, n: Vote): Step => {
  const outputs: Array<Output> = []
  let next = s
  if (n.electionEpoch > s.logicalClock) {
    const proposal = beats(n, s.initial, s.verifier.weight) ? n : s.initial
    next = withOwnVote({ ...s, logicalClock: n.electionEpoch, recvset: new Map(), proposal: pick(proposal) })
    outputs.push({ _tag: "SendAll", vote: proposalVote(next) })
  } else if (beats(n, s.proposal, s.verifier.weight)) {
    next = withOwnVote({ ...s, proposal: pick(n) })
    outputs.push({ _tag: "SendAll", vote: proposalVote(next) })
  } else {
    outputs.push(...answerWorse(s, from, n))
  }
  const recvset = new Map(next.recvset)
  recvset.set(from, n)
  next = { ...next, recvset }
  if (next.verifier.containsQuorum(agreeingSids(recvset, proposalVote(next)))) {
    const wait = next.waits + 1
    next = { ...next, finalizing: wait, waits: wait }
    outputs.push({ _tag: "StartFinalizeWait", wait })
  }
  return { state: next, outputs }
}

/**
 * A LOOKING peer of our round that proposes a worse leader has not seen our vote: it was busy
 * (e.g. still following a dead leader) when we sent it. ZooKeeper leaves it to the notification
 * timeout (200 ms, then a resend); we answer at once, which saves that wait after every leader loss.
 * Votes only move up the total order, so answers cannot ping-pong; extra notifications are harmless
 * to ZooKeeper peers.
 */
const answerWorse = (s: State, from: Sid, n: Vote): ReadonlyArray<Output> =>
  n.state === "LOOKING" && n.electionEpoch === s.logicalClock && beats(s.proposal, n, s.verifier.weight)
    ? [{ _tag: "SendTo", sid: from, vote: proposalVote(s) }]
    : []

const pick = (c: Candidate): Candidate => ({ leader: c.leader, zxid: c.zxid, peerEpoch: c.peerEpoch })

const onSettled = (s: State, from: Sid, n: Vote): Step => {
  if (n.electionEpoch === s.logicalClock) {
    const recvset = new Map(s.recvset)
    recvset.set(from, n)
    s = { ...s, recvset }
    if (s.verifier.containsQuorum(agreeingSids(recvset, n)) && leaderConfirmed(s, recvset, n)) {
      return decide(s, n, s.logicalClock)
    }
  }
  // Joining an established ensemble: a quorum follows n.leader and the leader says LEADING.
  const outofelection = new Map(s.outofelection)
  outofelection.set(from, n)
  s = { ...s, outofelection }
  if (s.verifier.containsQuorum(agreeingSids(outofelection, n)) && leaderConfirmed(s, outofelection, n)) {
    return decide(s, n, n.electionEpoch)
  }
  return { state: s, outputs: [] }
}
