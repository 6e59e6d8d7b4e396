/**
 * The quorum roles' log writer loop: appends are batched, each batch made durable with one write,
 * and only then reported (a follower ACKs, a leader counts its own ACK). A failing disk is retried
 * with backoff and nothing is reported meanwhile: never ACK what is not durable.
 */
import { Duration, Effect, Schedule, type Scope } from "effect"
import type { TxnLogWriter } from "../storage/TxnLog.js"
import type { Zxid } from "../wire/Zxid.js"

const SYNC_RETRY = Schedule.exponential(Duration.millis(50), 2).pipe(Schedule.union(Schedule.spaced(Duration.seconds(5))))

export interface LogSync {
  /** Call after `log.append`: a sync will follow. */
  readonly wake: () => void
}

export const start = (log: TxnLogWriter, onDurable: (upTo: Zxid) => void): Effect.Effect<LogSync, never, Scope.Scope> =>
  Effect.gen(function* () {
    const work = yield* Effect.makeLatch(false)
    yield* Effect.gen(function* () {
      for (;;) {
        yield* work.await
        yield* work.close
        // Everything appended before this point is in the batch the sync writes.
        const upTo = log.lastAppendedZxid
        if (upTo <= log.lastSyncedZxid) continue
        yield* log.sync.pipe(
          Effect.tapError((e) => Effect.logError(`txn log sync failed, retrying (nothing is acknowledged meanwhile): ${e.message}`)),
          Effect.retry(SYNC_RETRY),
          Effect.orDie
        )
        onDurable(upTo)
      }
    }).pipe(Effect.forkScoped)
    return { wake: () => work.unsafeOpen() }
  })
