/**
 * The standalone group-commit loop: one log write (O_DSYNC) per batch, and a batch is acknowledged
 * only after it. Runs as a fiber in the server's scope.
 */
import { Clock, Duration, Effect, Schedule, type Scope } from "effect"
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
      }
    }).pipe(Effect.forkScoped)

    return { stage, commitOnce }
  })
