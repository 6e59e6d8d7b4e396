/**
 * Coordination recipes on the Effect client: `import { Mutex, LeaderElection, Cache } from "ezk/recipes"`.
 * Every lock-like recipe hands out a `Lease` with a fencing token and interrupts its holder when
 * the session is lost (see `Session`).
 */

/** The lock queue, Lease and fencing tokens shared by the lock-like recipes. */
export * as Lock from "./Lock.js"
/** Exclusive, reentrant lock. */
export * as Mutex from "./Mutex.js"
/** Shared readers / exclusive writer. */
export * as ReadWriteLock from "./ReadWriteLock.js"
/** At most N holders. */
export * as Semaphore from "./Semaphore.js"
/** Leader election and leader latch. */
export * as LeaderElection from "./LeaderElection.js"
/** Barrier and double barrier. */
export * as Barrier from "./Barrier.js"
/** Distributed (priority) queue with exactly-once takes. */
export * as Queue from "./Queue.js"
/** Shared counter with compare-and-set. */
export * as Counter from "./Counter.js"
/** Group membership and service discovery. */
export * as Group from "./Group.js"
/** Node, children and tree caches. */
export * as Cache from "./Cache.js"
/** Connection states and loss signals; LeaseLost. */
export * as Session from "../Session.js"
