/**
 * The typed Effect client for ZooKeeper 3.8 (and ezk). Import namespaces:
 * `import { ZooKeeper, MultiOp, Acl, ZooKeeperError } from "ezk/client"`.
 */

/** The service, its Layer and every operation. */
export * as ZooKeeper from "./ZooKeeper.js"

/** Typed failures: KeeperError, ConnectionLoss, SessionExpired, MultiError, WatchOverflow. */
export * as ZooKeeperError from "./ZooKeeperError.js"

/** Builders for multi / multiRead ops. */
export * as MultiOp from "./MultiOp.js"

/** ACL constants and digest ids. */
export * as Acl from "./Acl.js"

/** Connect string parsing and chroot path mapping. */
export * as ConnectString from "./ConnectString.js"

/** Create flags, permission bits and other protocol constants the API takes as numbers. */
export { CreateMode, Perms } from "../wire/Codes.js"

/** Records the API returns. */
export type { ACL, Id, Stat } from "../wire/ClientRecords.js"
