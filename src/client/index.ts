/**
 * The typed Effect client for ZooKeeper 3.8 (and ezk). Import namespaces:
 * `import { ZooKeeper, MultiOp, Acl, ZooKeeperError } from "ezk/client"`.
 */

/** The service, its Layer and every operation. */
export * as ZooKeeper from "./ZooKeeper.js"

/** Typed failures: KeeperError, ConnectionLoss, SessionExpired, MultiError, WatchOverflow. */
export * as ZooKeeperError from "./ZooKeeperError.js"

/** Ops of `batch`: many independent requests pipelined, one fiber resumed when all have settled. */
export * as Batch from "./Batch.js"

/** Builders for multi / multiRead ops. */
export * as MultiOp from "./MultiOp.js"

/** Connection states (Connected, Suspended, Reconnected, ...) and the loss signals recipes use. */
export * as Session from "./Session.js"

/** ConnectionLoss-aware retries and protected (session-unique) creates. */
export * as Retry from "./Retry.js"

/** Node data typed by a Schema. */
export * as Typed from "./Typed.js"

/** A typed multi builder whose results line up with its ops. */
export * as Transaction from "./Transaction.js"

/** ACL constants and digest ids. */
export * as Acl from "./Acl.js"

/** Connect string parsing and chroot path mapping. */
export * as ConnectString from "./ConnectString.js"

/** Create flags, permission bits and other protocol constants the API takes as numbers. */
export { CreateMode, Perms } from "../wire/Codes.js"

/** Records the API returns. */
export type { ACL, Id, Stat } from "../wire/ClientRecords.js"
