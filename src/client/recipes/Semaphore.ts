/**
 * A distributed counting semaphore (Curator's InterProcessSemaphoreV2, kazoo's Semaphore): at
 * most `permits` leases at a time. Every contender must use the same `permits` for a path. A
 * lease's token is its node's czxid: unique per lease, so a resource can tell leases apart and
 * refuse one that was lost.
 */
import type { Client } from "../ZooKeeper.js"
import * as Lock from "./Lock.js"

/** A semaphore: `withLock` / `acquire` take one lease. */
export type Semaphore = Lock.Lock

/** The semaphore with `permits` leases whose queue lives under `path`. */
export const make = (zk: Client, path: string, permits: number, options: Lock.LockOptions = {}): Semaphore => {
  if (!Number.isInteger(permits) || permits < 1) throw new RangeError(`permits must be a positive integer, got ${permits}`)
  // Any release ahead can free a permit, so a waiter watches the directory (bounded herd: waiters past `permits`).
  return Lock.make(zk, path, "lease-", (_, index) => (index < permits ? { _tag: "Hold" } : { _tag: "WaitChildren" }), options)
}
