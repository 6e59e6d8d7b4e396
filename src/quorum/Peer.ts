/**
 * The peer state machine (QuorumPeer's main loop): LOOKING until an election decides, then one
 * role — leader, follower or observer — in its own Scope until it ends, then LOOKING again. A role
 * ends by failing (leader lost, quorum lost, bad peer); closing its scope closes every socket,
 * fiber and queue it opened.
 */
import { Clock, Effect, type Scope } from "effect"
import * as Zxid from "../wire/Zxid.js"
import * as Leader from "./Leader.js"
import * as Learner from "./Learner.js"
import { memberOf, type PeerContext } from "./PeerContext.js"

export type PeerState = "LOOKING" | "LEADING" | "FOLLOWING" | "OBSERVING"

export interface Decision {
  readonly leader: number
  readonly state: Exclude<PeerState, "LOOKING">
}

/** Leader election as the peer uses it (FastLeaderElection over the election port, or a fixed leader in tests). */
export interface Elector {
  /** One election from this server's current state (last logged zxid, currentEpoch). */
  readonly lookForLeader: (ctx: PeerContext) => Effect.Effect<Decision>
  /**
   * This peer synced with the leader in `epoch` (currentEpoch was written): later answers to LOOKING
   * peers carry it as peerEpoch, as ZooKeeper's do, or ZooKeeper peers never see a quorum agree.
   */
  readonly synced: (epoch: number) => Effect.Effect<void>
}

/** Observable state of a running peer (srvr/mntr, tests). */
export interface PeerStatus {
  state: PeerState
  leader: number | null
  /** Elections this peer went through. */
  elections: number
}

/** Runs the peer forever (until its scope closes). */
export const run = (ctx: PeerContext, elector: Elector, status: PeerStatus): Effect.Effect<never, never, Scope.Scope> =>
  Effect.forever(
    Effect.gen(function* () {
      status.state = "LOOKING"
      status.leader = null
      const started = yield* Clock.currentTimeMillis
      const decision = yield* elector.lookForLeader(ctx)
      const took = (yield* Clock.currentTimeMillis) - started
      status.elections++
      status.state = decision.state
      status.leader = decision.leader
      yield* Effect.logInfo(
        `peer ${ctx.sid}: election took ${took} ms: ${decision.state}${decision.state === "LEADING" ? "" : ` leader ${decision.leader}`} (last zxid ${Zxid.toHex(ctx.store.tree.lastProcessedZxid)}, epoch ${ctx.epochs.current})`
      )
      const role =
        decision.state === "LEADING"
          ? Leader.run(ctx)
          : Learner.run(ctx, memberOf(ctx, decision.leader)!, decision.state === "OBSERVING" ? "observer" : "follower")
      const exit = yield* Effect.exit(Effect.scoped(role))
      if (exit._tag === "Failure") {
        yield* Effect.logWarning(`peer ${ctx.sid}: ${decision.state.toLowerCase()} ended: ${exit.cause._tag === "Fail" ? exit.cause.error.message : String(exit.cause)}`)
      }
      // The tree must hold the whole logged history before the next election. If the log cannot be
      // made durable now, leave it: the next role reconciles log and tree first (and refuses to start
      // while the log is not durable). Reloading here, with unsynced appends pending, would race the writer.
      yield* ctx.fastForward.pipe(Effect.catchAll((e) => Effect.logWarning(`peer ${ctx.sid}: ${e.message}`)))
    })
  )

/**
 * A fixed leader (no election traffic): the highest voter sid leads. For tests of the roles
 * before/without FastLeaderElection; a peer that is not that leader waits a tick between tries.
 */
export const fixedElector = (leader: number): Elector => ({
  lookForLeader: (ctx) =>
    Effect.succeed<Decision>({
      leader,
      state: leader === ctx.sid ? "LEADING" : memberOf(ctx, ctx.sid)?.type === "observer" ? "OBSERVING" : "FOLLOWING"
    }).pipe(Effect.delay(ctx.tickTime)),
  synced: () => Effect.void
})
