/**
 * The standalone group-commit loop: one log write (O_DSYNC) per batch, and a batch is acknowledged
 * only after it. Also decides when to snapshot. Runs as a fiber in the server's scope.
 */
import { Clock, Duration, Effect, Random, Schedule, type Scope } from "effect"
import type * as Storage from "../../storage/Storage.js"
import type { ServerCore } from "../ServerCore.js"
import { StandaloneStage } from "./Standalone.js"

/** Longest wait for expected writers before a sync starts (see `gather`). */
const GATHER = Duration.micros(150n)

/** How often a batch is retried after a failed sync (disk full, I/O error): writes wait, nothing is acknowledged. */
const SYNC_RETRY = Schedule.exponential(Duration.millis(50), 2).pipe(Schedule.union(Schedule.spaced(Duration.seconds(5))))

export interface GroupCommit {
  readonly stage: StandaloneStage
  /** Makes what was prepared so far durable and commits it (shutdown uses it once more). */
  readonly commitOnce: Effect.Effect<void>
}

/**
 * Builds the standalone stage for `core` and forks its commit loop into the current scope. `core`
 * is a getter because the core is built with the stage.
 */
export const start = (
  store: Storage.Store,
  snapCount: number,
  core: () => ServerCore
): Effect.Effect<GroupCommit, never, Scope.Scope> =>
  Effect.gen(function* () {
    const work = yield* Effect.makeLatch(false)
    // Opened when the writers the last commit answered have all written again (or by anything new, see gather).
    const writersBack = yield* Effect.makeLatch(false)
    const stage = new StandaloneStage(store.log, () => work.unsafeOpen())
    const onAppend = stage.append.bind(stage)
    stage.append = (write, entry) => {
      onAppend(write, entry)
      if (stage.size >= core().recentWriters) writersBack.unsafeOpen()
    }

    const commitOnce = Effect.suspend(() => {
      const batch = stage.take()
      if (batch.length === 0) return Effect.void
      return Effect.gen(function* () {
        const started = yield* Clock.currentTimeNanos
        yield* store.log.sync.pipe(
          Effect.tapError((e) => Effect.logError(`txn log sync failed, retrying (writes wait, nothing is acknowledged): ${e.message}`)),
          Effect.retry(SYNC_RETRY),
          Effect.orDie
        )
        const c = core()
        c.stats.fsyncMs.record(Number((yield* Clock.currentTimeNanos) - started) / 1e6)
        c.stats.batchSize.record(batch.length)
        c.commit(batch)
      })
    }).pipe(Effect.uninterruptible)

    // ZooKeeper snapshots after snapCount/2 + rand(snapCount/2) txns, so peers do not snapshot together.
    const half = Math.max(1, Math.floor(snapCount / 2))
    const snapThreshold = Effect.map(Random.nextIntBetween(0, half), (r) => half + r)
    let nextSnapshotAt = yield* snapThreshold
    let snapshotting = false
    const maybeSnapshot = Effect.suspend(() => {
      const c = core()
      if (snapshotting || c.txnsSinceSnapshot < nextSnapshotAt) return Effect.void
      snapshotting = true
      c.txnsSinceSnapshot = 0
      store.log.roll()
      return Effect.zipRight(
        Effect.map(snapThreshold, (n) => void (nextSnapshotAt = n)),
        store.snapshot
      ).pipe(
        Effect.tapError((e) => Effect.logError(`snapshot failed: ${e.message}`)),
        Effect.ignore,
        Effect.ensuring(Effect.sync(() => (snapshotting = false))),
        Effect.forkScoped,
        Effect.asVoid
      )
    })

    // A client that writes in a loop sends its next write within tens of µs of its reply; waiting
    // briefly for the writers just answered saves each of them a whole extra sync.
    const gather = Effect.suspend(() => {
      if (stage.size >= core().recentWriters) return Effect.void
      return Effect.zipRight(
        writersBack.close,
        // Re-checked after closing the latch, so an append in between is not missed.
        Effect.suspend(() => (stage.size >= core().recentWriters ? Effect.void : Effect.raceFirst(writersBack.await, Effect.sleep(GATHER))))
      )
    })

    yield* Effect.gen(function* () {
      for (;;) {
        yield* work.await
        yield* gather
        yield* work.close
        yield* commitOnce
        yield* maybeSnapshot
      }
    }).pipe(Effect.forkScoped)

    return { stage, commitOnce }
  })
