/**
 * The quorum roles' log writer loop: appends are batched, each batch made durable with one write,
 * and only then reported (a follower ACKs, a leader counts its own ACK), in log order. A failing
 * disk is retried with backoff and nothing is reported meanwhile: never ACK what is not durable.
 */
import { Clock, Duration, Effect, Schedule, type Scope } from "effect"
import type { TxnLogWriter } from "../storage/TxnLog.js"
import { toHex, type Zxid } from "../wire/Zxid.js"
import * as HopTimes from "../server/HopTimes.js"
import { type PeerContext, PeerError } from "./PeerContext.js"

const SYNC_RETRY = Schedule.exponential(Duration.millis(50), 2).pipe(Schedule.union(Schedule.spaced(Duration.seconds(5))))

export interface LogSync {
  /** Call after `log.append`: a sync will follow. */
  readonly wake: () => void
}

/**
 * `onDurable` gets the last zxid made durable and how long its sync took (mntr's fsync time), in
 * ms, always with a larger zxid than the call before. A wake while syncs are in flight starts
 * another at once (up to the writer's `maxFlights`): appends do not wait for a slow sync to end.
 */
export const start = (log: TxnLogWriter, onDurable: (upTo: Zxid, syncMs: number) => void): Effect.Effect<LogSync, never, Scope.Scope> =>
  Effect.gen(function* () {
    const work = yield* Effect.makeLatch(false)
    let requested = log.lastSyncedZxid
    let reported = requested
    let wokenAt = 0
    const syncRetrying = log.sync.pipe(
      Effect.tapError((e) => Effect.logError(`txn log sync failed, retrying (nothing is acknowledged meanwhile): ${e.message}`)),
      Effect.retry(SYNC_RETRY),
      Effect.orDie
    )
    // `maxFlights` workers: a wake finds an idle one while the others wait for their syncs.
    const worker = Effect.gen(function* () {
      for (;;) {
        yield* work.await
        yield* work.close
        // Everything appended before this point is in the batch the sync writes.
        const upTo = log.lastAppendedZxid
        if (upTo <= requested) continue
        requested = upTo
        HopTimes.record("log: first wake → sync starts", wokenAt)
        wokenAt = 0
        const started = yield* Clock.currentTimeNanos
        const syncAt = HopTimes.now()
        yield* syncRetrying
        HopTimes.record("log: sync (write + fsync)", syncAt)
        // A sync covers every append before it: one started earlier and finishing later adds nothing.
        if (upTo <= reported) continue
        reported = upTo
        onDurable(upTo, Number((yield* Clock.currentTimeNanos) - started) / 1e6)
      }
    })
    for (let i = 0; i < log.maxFlights; i++) yield* Effect.forkScoped(worker)
    return {
      wake: () => {
        if (HopTimes.enabled && wokenAt === 0) wokenAt = HopTimes.now()
        work.unsafeOpen()
      }
    }
  })

/**
 * Run before a role starts: the txn log is made durable (failing while the disk fails: such a
 * peer neither leads nor follows), then the tree is reloaded from disk unless it already is what
 * the log holds. A previous role may have logged proposals it never applied, or applied commits
 * its failing disk had not yet logged (ZOOKEEPER-4882); ZooKeeper likewise reloads its database
 * after every role. Without this a learner reports its logged zxid while serving an older tree,
 * and a DIFF from that zxid leaves the gap unapplied forever.
 */
export const reconcile = (ctx: PeerContext): Effect.Effect<void, PeerError> =>
  Effect.gen(function* () {
    const log = ctx.store.log
    yield* log.sync.pipe(Effect.mapError((e) => new PeerError({ phase: "storage", detail: `txn log not durable, cannot take a role: ${e.message}` })))
    if (ctx.store.tree.lastProcessedZxid === log.lastAppendedZxid) return
    yield* Effect.logInfo(`peer ${ctx.sid}: reloading the database (tree at ${toHex(ctx.store.tree.lastProcessedZxid)}, log at ${toHex(log.lastAppendedZxid)})`)
    yield* ctx.reload
  })
