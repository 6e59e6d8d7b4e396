/**
 * The storage facade the server uses: the two `version-2` directories, recovery, the group-commit
 * txn log, snapshots and purging, over the Disk port.
 *
 * Standalone use (ZooKeeperServer.loadData + SyncRequestProcessor):
 * ```ts
 * const store = yield* Storage.openStandalone({ dataDir, dataLogDir, tree: { extendedTypes, digestEnabled } })
 * // per write:   store.log.append(zxid, entryBytes)          (sync, into the pending batch)
 * // per batch:   yield* store.log.sync                        (one write + one fdatasync), then ack
 * // every ~snapCount txns: store.log.roll(); fork store.snapshot  (fuzzy, the server keeps serving)
 * // autopurge:   yield* store.purge(retainCount)  or  Purge.schedule(...)
 * // shutdown:    yield* store.close
 * ```
 * Ordering contract: a txn may be applied to the tree and acknowledged only after a `log.sync`
 * that started after its `append` has succeeded; the log is written before the tree changes, so
 * every txn a snapshot may reflect is also in the log (which is what makes fuzzy snapshots safe).
 */
import { Effect, type Scope } from "effect"
import type { DataTree, DataTreeOptions } from "../tree/DataTree.js"
import { Disk, type DiskError, join } from "../disk/Disk.js"
import * as Purge from "./Purge.js"
import * as Recovery from "./Recovery.js"
import * as Snapshot from "./Snapshot.js"
import * as SnapshotWriter from "./SnapshotWriter.js"
import * as SnapStream from "./SnapStream.js"
import * as TxnLog from "./TxnLog.js"

/** Storage settings (a slice of zoo.cfg and the zookeeper.* system properties). */
export interface StorageConfig {
  /** dataDir; snapshots (and epoch files) go to `<dataDir>/version-2`. */
  readonly dataDir: string
  /** dataLogDir (default dataDir); txn logs go to `<dataLogDir>/version-2`. */
  readonly dataLogDir?: string | undefined
  readonly tree: DataTreeOptions
  /** zookeeper.preAllocSize in bytes (default 64 MiB; 0 disables preallocation). */
  readonly preAllocSizeBytes?: number | undefined
  /** zookeeper.db.autocreate (default true). */
  readonly autoCreateDb?: boolean | undefined
  /** zookeeper.snapshot.trust.empty (default false). */
  readonly trustEmptySnapshot?: boolean | undefined
  /** Child entries visited between yields of a background snapshot (default 1000). */
  readonly snapshotChunkNodes?: number | undefined
  /** Replayed txns to keep for a quorum peer's committedLog (default 0). */
  readonly keepRecentTxns?: number | undefined
}

/** The snap and log directories of a configuration (`version-2` under dataDir / dataLogDir). */
export const directories = (config: Pick<StorageConfig, "dataDir" | "dataLogDir">): { readonly snapDir: string; readonly logDir: string } => ({
  snapDir: join(config.dataDir, "version-2"),
  logDir: join(config.dataLogDir ?? config.dataDir, "version-2")
})

/** Errors of opening storage; each has a one-line `message`. */
export type OpenError = DiskError | TxnLog.LogCorrupt | Recovery.RecoveryFailed

/** An open data dir: the recovered tree, its log writer and the snapshot/purge operations. */
export interface Store {
  readonly dataDir: string
  readonly dataLogDir: string
  readonly snapDir: string
  readonly logDir: string
  /** The database; a quorum learner may swap in a tree received by SNAP (`replaceTree`). */
  readonly tree: DataTree
  readonly recovery: Recovery.Recovered
  /** Group-commit log writer: `append` (sync) / `sync` (Effect) / `roll`. */
  readonly log: TxnLog.TxnLogWriter
  /** A fuzzy snapshot of `tree` named by its lastProcessedZxid; roll the log first (as ZooKeeper does). */
  readonly snapshot: Effect.Effect<SnapshotWriter.SnapshotInfo, DiskError>
  /** Like `snapshot`, without yielding (nothing else runs: startup, NEWLEADER). */
  readonly snapshotNow: Effect.Effect<SnapshotWriter.SnapshotInfo, DiskError>
  /** Deletes snapshots beyond the newest `snapRetainCount` (>= 3) and the logs only they needed. */
  readonly purge: (snapRetainCount: number) => Effect.Effect<Purge.PurgeReport, DiskError>
  /** Drops logged txns after `zxid` (ZAB TRUNC) and deletes snapshots newer than it; the next append starts a new file. */
  readonly truncateLog: (zxid: number) => Effect.Effect<TxnLog.TruncateResult, DiskError | TxnLog.LogCorrupt>
  /** Logged txns from `fromZxid` on, raw (DIFF sync, committedLog refill). */
  readonly readLog: (fromZxid: number, limit?: number) => Effect.Effect<ReadonlyArray<TxnLog.RawTxn>, DiskError | TxnLog.LogCorrupt>
  /** Logged txns of [fromZxid, toZxid] within a byte budget (a leader's DIFF from its txn log). */
  readonly readLogRange: (fromZxid: number, toZxid: number, maxBytes: number) => Effect.Effect<TxnLog.TxnRange, DiskError | TxnLog.LogCorrupt>
  /** Writes the SNAP stream a learner receives as `snapshot.<zxid>` while it arrives (SnapStream.receive). */
  readonly receiveSnapshot: (zxid: number) => Effect.Effect<SnapStream.SnapshotSink, DiskError, Scope.Scope>
  /** Uses another tree from now on (a learner after SNAP); the caller snapshots it. */
  readonly replaceTree: (tree: DataTree) => void
  /** Syncs and closes the log (idempotent; also run when the scope closes). */
  readonly close: Effect.Effect<void, DiskError>
}

/**
 * Opens a data dir and recovers it (storage.md §5 steps 1–5) without taking a snapshot: what a
 * quorum peer does before election. The log writer starts a new file at the next append.
 */
export const open = (config: StorageConfig): Effect.Effect<Store, OpenError, Disk | Scope.Scope> =>
  Effect.gen(function* () {
    const disk = yield* Disk
    const { snapDir, logDir } = directories(config)
    const recovery = yield* Recovery.recover({
      snapDir,
      logDir,
      tree: config.tree,
      autoCreateDb: config.autoCreateDb ?? true,
      initializeFile: join(config.dataDir, "initialize"),
      trustEmptySnapshot: config.trustEmptySnapshot ?? false,
      keepRecentTxns: config.keepRecentTxns ?? 0
    })
    const log = new TxnLog.TxnLogWriter(disk, {
      dir: logDir,
      preAllocSizeBytes: config.preAllocSizeBytes ?? TxnLog.DEFAULT_PREALLOC_BYTES,
      lastZxid: recovery.lastZxid
    })
    yield* Effect.addFinalizer(() => Effect.ignore(log.close))
    let tree = recovery.tree
    const chunkNodes = config.snapshotChunkNodes ?? 1000
    const provide = <A, E>(eff: Effect.Effect<A, E, Disk>): Effect.Effect<A, E> => Effect.provideService(eff, Disk, disk)
    const store: Store = {
      dataDir: config.dataDir,
      dataLogDir: config.dataLogDir ?? config.dataDir,
      snapDir,
      logDir,
      get tree() {
        return tree
      },
      recovery,
      log,
      snapshot: Effect.suspend(() => provide(SnapshotWriter.write(snapDir, tree, { chunkNodes, fuzzy: true }))),
      snapshotNow: Effect.suspend(() => provide(SnapshotWriter.write(snapDir, tree, { fuzzy: false }))),
      purge: (snapRetainCount) => provide(Purge.purge({ snapDir, logDir, snapRetainCount })),
      truncateLog: (zxid) =>
        provide(
          Effect.gen(function* () {
            yield* log.close
            const result = yield* TxnLog.truncateAfter(logDir, zxid)
            for (const s of yield* Snapshot.listSnapshots(snapDir)) if (s.zxid > zxid) yield* disk.unlink(join(snapDir, s.name))
            yield* disk.syncDir(snapDir)
            log.reset(zxid)
            return result
          })
        ),
      readLog: (fromZxid, limit) => provide(TxnLog.readFrom(logDir, fromZxid, limit)),
      readLogRange: (fromZxid, toZxid, maxBytes) => provide(TxnLog.readRange(logDir, fromZxid, toZxid, maxBytes)),
      receiveSnapshot: (zxid) => Effect.provideService(SnapStream.receive(snapDir, zxid), Disk, disk),
      replaceTree: (next) => {
        tree = next
      },
      close: log.close
    }
    return store
  })

/**
 * Opens a standalone server's data dir: recovers it, then (storage.md §5 step 6) writes
 * `snapshot.<lastZxid>` of the recovered state unless the newest snapshot already is exactly that,
 * and starts a new log file with the next txn.
 */
export const openStandalone = (config: StorageConfig): Effect.Effect<Store, OpenError, Disk | Scope.Scope> =>
  Effect.tap(open(config), (store) => startupSnapshot(store))

/** The snapshot a standalone server takes after loading (ZooKeeperServer.loadData → takeSnapshot). */
export const startupSnapshot = (store: Store): Effect.Effect<SnapshotWriter.SnapshotInfo | null, DiskError> => {
  const r = store.recovery
  const current = r.created || (r.replayedTxns === 0 && r.snapshot !== null && r.snapshot.zxid === r.lastZxid)
  if (current) return Effect.succeed(null)
  store.log.roll()
  return store.snapshotNow
}
