/**
 * When a server snapshots: after a randomised number of committed txns (ZooKeeper's roll point,
 * snapCount/2 + rand(snapCount/2), so the peers of an ensemble do not snapshot together), the txn
 * log is rolled and a fuzzy snapshot of the tree is written by a fiber in the caller's scope while
 * the server keeps committing.
 *
 * Quorum peers start this in a role's scope once the role serves, never outside one: the tree then
 * holds only the established history. At a role's end the peer fast-forwards its tree over txns it
 * logged but never saw committed, and a later TRUNC may remove them; a snapshot must not capture
 * them. Closing the scope interrupts a snapshot in progress (its temporary file is deleted) before
 * the fast-forward can touch the tree.
 */
import { Effect, Random, type Scope } from "effect"
import type * as Storage from "../../storage/Storage.js"

export interface Snapshots {
  /** Counts `txns` just committed to the tree; starts a snapshot when the roll point is passed. */
  readonly committed: (txns: number) => void
}

export const start = (store: Storage.Store, snapCount: number): Effect.Effect<Snapshots, never, Scope.Scope> =>
  Effect.gen(function* () {
    const half = Math.max(1, Math.floor(snapCount / 2))
    // Drawn once `half` txns are in: a server that never gets that far consumes no randomness (the
    // simulation's recorded seeds replay unchanged with the default snapCount).
    let rollPoint: number | null = null
    let since = 0
    const due = yield* Effect.makeLatch(false)

    yield* Effect.gen(function* () {
      for (;;) {
        yield* due.await
        yield* due.close
        if (rollPoint === null) rollPoint = half + (yield* Random.nextIntBetween(0, half))
        if (since < rollPoint) continue
        // Counted from here: a snapshot still being written delays the next one, never skips it.
        since = 0
        rollPoint = null
        // The new log file starts after every txn the snapshot can reflect was appended: recovery
        // reads this snapshot plus the log from its zxid on.
        store.log.roll()
        yield* store.snapshot.pipe(
          Effect.tap((s) => Effect.logDebug(`snapshot ${s.name}: ${s.nodes} znodes, ${s.bytes} bytes`)),
          Effect.catchAll((e) => Effect.logError(`snapshot failed (the txn log still holds everything): ${e.message}`))
        )
      }
      // Interruptible even when started inside an acquire (QuorumServer's serve): the scope's close must stop it.
    }).pipe(Effect.interruptible, Effect.forkScoped)

    return {
      committed: (txns) => {
        since += txns
        if (since >= (rollPoint ?? half)) due.unsafeOpen()
      }
    }
  })
