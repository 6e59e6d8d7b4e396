/**
 * A distributed mutex (Curator's InterProcessMutex, kazoo's Lock): one holder at a time per
 * path, reentrant within a fiber tree, with a fencing token per hold.
 *
 * ```ts
 * const mutex = Mutex.make(zk, "/locks/orders")
 * yield* mutex.withLock((lease) => storage.write(order, { fencingToken: lease.token }))
 * ```
 */
import type { Client } from "../ZooKeeper.js"
import * as Lock from "./Lock.js"

/** A mutex: see `Lock.Lock` for `withLock` and `acquire`. */
export type Mutex = Lock.Lock

/** The mutex whose queue lives under `path` (created on first use). */
export const make = (zk: Client, path: string, options: Lock.LockOptions = {}): Mutex =>
  Lock.make(zk, path, "lock-", Lock.exclusive, options)
