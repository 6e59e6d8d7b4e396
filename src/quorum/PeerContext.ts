/**
 * What a quorum role (leader, follower, observer) works with: this server's identity and limits,
 * its storage and epoch files, and the client port it serves through. One per peer process;
 * roles come and go around it.
 */
import { Data, Duration, Effect, type Scope } from "effect"
import { Disk, type DiskError } from "../disk/Disk.js"
import * as Epoch from "../storage/Epoch.js"
import type * as Storage from "../storage/Storage.js"
import type { CommitStage } from "../server/commit/CommitStage.js"
import type { ServerCore } from "../server/ServerCore.js"
import type { DataTreeOptions } from "../tree/DataTree.js"
import type { CommittedLog } from "./CommittedLog.js"
import type { QuorumVerifier } from "./core/QuorumVerifier.js"

/** A quorum member's addresses (a `server.N` line). */
export interface Member {
  readonly sid: number
  readonly host: string
  readonly quorumPort: number
  readonly electionPort: number
  readonly type: "participant" | "observer"
}

export interface PeerContext {
  readonly sid: number
  readonly members: ReadonlyArray<Member>
  readonly verifier: QuorumVerifier
  readonly tickTime: number
  readonly initLimit: number
  readonly syncLimit: number
  /** Where a leader listens for learners: 0.0.0.0 with `quorumListenOnAllIPs`, else our `server.N` host. */
  readonly quorumListenHost: string
  readonly store: Storage.Store
  readonly treeOptions: DataTreeOptions
  readonly epochs: Epochs
  /** Serves clients through a fresh core with `stage` until the scope closes (then its connections close). */
  readonly serve: (stage: CommitStage) => Effect.Effect<ServerCore, never, Scope.Scope>
  /** Loads the database again from disk (after a TRUNC cut the log). */
  readonly reload: Effect.Effect<void, PeerError>
  /**
   * After a role ends: applies the txns this peer logged but did not see committed, so the tree is
   * its whole logged history again (ZooKeeper's fastForwardDataBase); elections and the next sync
   * start from the last logged zxid.
   */
  readonly fastForward: Effect.Effect<void, PeerError>
  /** The recent txns applied on this peer, contiguous, for DIFF (kept across roles). */
  readonly committedLog: CommittedLog
}

/** Why a role ended; the peer goes back to LOOKING. */
export class PeerError extends Data.TaggedError("PeerError")<{
  readonly phase: "connect" | "discovery" | "sync" | "broadcast" | "storage"
  readonly detail: string
}> {
  override get message(): string {
    return `${this.phase}: ${this.detail}`
  }
}

export const initLimitDuration = (ctx: PeerContext): Duration.Duration => Duration.millis(ctx.tickTime * ctx.initLimit)
export const syncLimitDuration = (ctx: PeerContext): Duration.Duration => Duration.millis(ctx.tickTime * ctx.syncLimit)

export const memberOf = (ctx: PeerContext, sid: number): Member | undefined => ctx.members.find((m) => m.sid === sid)

/** acceptedEpoch / currentEpoch, cached and written through to their files (storage.md §1). */
export interface Epochs {
  readonly accepted: number
  readonly current: number
  readonly setAccepted: (epoch: number) => Effect.Effect<void, PeerError>
  readonly setCurrent: (epoch: number) => Effect.Effect<void, PeerError>
}

const storageError = (what: string) => (e: DiskError | Epoch.EpochFileCorrupt) => new PeerError({ phase: "storage", detail: `${what}: ${e.message}` })

/**
 * Reads the epoch files; a missing file starts at the epoch of the last logged zxid, as ZooKeeper
 * does for a data dir that never ran in a quorum.
 */
export const loadEpochs = (snapDir: string, lastZxidEpoch: number): Effect.Effect<Epochs, PeerError, Disk> =>
  Effect.gen(function* () {
    const disk = yield* Disk
    let accepted = (yield* Epoch.read(snapDir, "acceptedEpoch").pipe(Effect.mapError(storageError("reading acceptedEpoch")))) ?? lastZxidEpoch
    let current = (yield* Epoch.read(snapDir, "currentEpoch").pipe(Effect.mapError(storageError("reading currentEpoch")))) ?? lastZxidEpoch
    const epochs: Epochs = {
      get accepted() {
        return accepted
      },
      get current() {
        return current
      },
      setAccepted: (e) =>
        Epoch.write(snapDir, "acceptedEpoch", e).pipe(
          Effect.provideService(Disk, disk),
          Effect.mapError(storageError("writing acceptedEpoch")),
          Effect.tap(() => Effect.sync(() => (accepted = e)))
        ),
      setCurrent: (e) =>
        Epoch.write(snapDir, "currentEpoch", e).pipe(
          Effect.provideService(Disk, disk),
          Effect.mapError(storageError("writing currentEpoch")),
          Effect.tap(() => Effect.sync(() => (current = e)))
        )
    }
    return epochs
  })
