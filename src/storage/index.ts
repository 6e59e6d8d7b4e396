/**
 * Durable storage in ZooKeeper 3.8's version-2 data dir format: txn log (group commit), fuzzy
 * snapshots, recovery, purge, epoch files, and the `Storage` facade the server uses.
 */
export * as Epoch from "./Epoch.js"
export * as Purge from "./Purge.js"
export * as Recovery from "./Recovery.js"
export * as Snapshot from "./Snapshot.js"
export * as SnapshotWriter from "./SnapshotWriter.js"
export * as SnapStream from "./SnapStream.js"
export * as Storage from "./Storage.js"
export * as TxnLog from "./TxnLog.js"
