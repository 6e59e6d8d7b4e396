/**
 * Autopurge (ZooKeeper's PurgeTxnLog / DatadirCleanupManager): keep the newest
 * `snapRetainCount` valid snapshots and the logs needed to replay from the oldest of them; delete
 * everything older. Runs once at start and then every `purgeIntervalHours` (0 = off).
 */
import { Duration, Effect, Layer, Schedule, type Scope } from "effect"
import { Disk, type DiskError, join } from "../disk/Disk.js"
import * as Snapshot from "./Snapshot.js"
import * as TxnLog from "./TxnLog.js"

/** What to keep and where. */
export interface PurgeOptions {
  readonly snapDir: string
  readonly logDir: string
  /** Snapshots to keep; values below 3 count as 3, as in ZooKeeper. */
  readonly snapRetainCount: number
}

/** What a purge deleted. */
export interface PurgeReport {
  /** Name zxid of the oldest snapshot kept (null: no valid snapshot, nothing deleted). */
  readonly oldestKept: number | null
  readonly deletedSnapshots: ReadonlyArray<string>
  readonly deletedLogs: ReadonlyArray<string>
}

/** The smallest retain count ZooKeeper accepts. */
export const MIN_SNAP_RETAIN_COUNT = 3

/**
 * Which files to delete, given the snapshots (newest first, valid ones only counted) and logs:
 * snapshots older than the oldest kept one, and logs older than the newest log named at or
 * below that snapshot's zxid (that log may hold the txns right after it). Pure.
 */
export const plan = (
  validSnapshots: ReadonlyArray<Snapshot.SnapshotFile>,
  allSnapshots: ReadonlyArray<Snapshot.SnapshotFile>,
  logs: ReadonlyArray<TxnLog.LogFile>,
  retain: number
): { readonly oldestKept: number | null; readonly snapshots: ReadonlyArray<string>; readonly logs: ReadonlyArray<string> } => {
  const kept = validSnapshots.slice(0, Math.max(MIN_SNAP_RETAIN_COUNT, retain))
  const oldest = kept[kept.length - 1]
  if (oldest === undefined) return { oldestKept: null, snapshots: [], logs: [] }
  const least = oldest.zxid
  let logFloor = 0
  for (const l of logs) if (l.zxid <= least && l.zxid > logFloor) logFloor = l.zxid
  return {
    oldestKept: least,
    snapshots: allSnapshots.filter((s) => s.zxid < least).map((s) => s.name),
    logs: logs.filter((l) => l.zxid < logFloor).map((l) => l.name)
  }
}

/** Deletes old snapshots and logs once. */
export const purge = (opts: PurgeOptions): Effect.Effect<PurgeReport, DiskError, Disk> =>
  Effect.gen(function* () {
    const disk = yield* Disk
    const snaps = yield* Snapshot.listSnapshots(opts.snapDir)
    const valid: Array<Snapshot.SnapshotFile> = []
    const need = Math.max(MIN_SNAP_RETAIN_COUNT, opts.snapRetainCount)
    for (const s of snaps) {
      if (valid.length >= need) break
      if (yield* Snapshot.checkTail(opts.snapDir, s.name)) valid.push(s)
    }
    const logs = yield* TxnLog.listLogs(opts.logDir)
    const p = plan(valid, snaps, logs, opts.snapRetainCount)
    for (const name of p.snapshots) yield* disk.unlink(join(opts.snapDir, name))
    for (const name of p.logs) yield* disk.unlink(join(opts.logDir, name))
    return { oldestKept: p.oldestKept, deletedSnapshots: p.snapshots, deletedLogs: p.logs }
  })

/** Autopurge settings (autopurge.snapRetainCount, autopurge.purgeInterval). */
export interface AutopurgeOptions extends PurgeOptions {
  /** Hours between purges; 0 (or less) disables autopurge. */
  readonly purgeIntervalHours: number
}

/** Runs `purge` now and then every interval in a fiber of the current scope; failures are logged, not fatal. */
export const schedule = (opts: AutopurgeOptions): Effect.Effect<void, never, Disk | Scope.Scope> => {
  if (!(opts.purgeIntervalHours > 0)) return Effect.void
  const once = purge(opts).pipe(
    Effect.tap((r) =>
      r.deletedSnapshots.length + r.deletedLogs.length > 0
        ? Effect.logInfo(`autopurge deleted ${r.deletedSnapshots.length} snapshots and ${r.deletedLogs.length} logs`)
        : Effect.void
    ),
    Effect.catchAll((e) => Effect.logWarning(`autopurge failed: ${e.message}`))
  )
  return once.pipe(Effect.repeat(Schedule.spaced(Duration.hours(opts.purgeIntervalHours))), Effect.forkScoped, Effect.asVoid)
}

/** Autopurge as a Layer: the fiber lives as long as the layer. */
export const layer = (opts: AutopurgeOptions): Layer.Layer<never, never, Disk> => Layer.scopedDiscard(schedule(opts))
