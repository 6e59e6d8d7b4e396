/**
 * The Promise facade of the ezk client (`import { connect } from "ezk/promise"`): the client's
 * operations and recipes for code that does not use Effect. See docs/client.md for a migration
 * guide from node-zookeeper-client.
 */
export { Client, connect, type PersistentWatch, type ReadOptions, type Watcher } from "./Client.js"
export { type PromiseLock, type PromiseMirror, Recipes } from "./recipes.js"
export type { CallOptions, Handle } from "./run.js"
/** Builders for `multi` ops. */
export * as MultiOp from "../MultiOp.js"
/** ACL helpers. */
export * as Acl from "../Acl.js"
/** Typed errors (`_tag`: KeeperError, ConnectionLoss, SessionExpired, MultiError, ...). */
export * as ZooKeeperError from "../ZooKeeperError.js"
export { LeaseLost } from "../Session.js"
export { CreateMode, Perms } from "../../wire/Codes.js"
export type { ACL, Id, Stat } from "../../wire/ClientRecords.js"
