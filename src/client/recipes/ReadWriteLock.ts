/**
 * A distributed read-write lock (Curator's InterProcessReadWriteLock, kazoo's ReadLock /
 * WriteLock): many readers or one writer. Readers and writers share one queue, so a waiting
 * writer is not starved by later readers. Writers' fencing tokens increase from hold to hold.
 * A fiber holding the write lock must not ask for the read lock (it would wait for itself).
 */
import type { Client } from "../ZooKeeper.js"
import * as Lock from "./Lock.js"

/** The two sides of the lock. */
export interface ReadWriteLock {
  readonly read: Lock.Lock
  readonly write: Lock.Lock
}

const isWrite = (name: string): boolean => name.slice(0, -10).endsWith("write-")

/** A reader holds when no writer is ahead of it; else it waits for the closest writer ahead. */
const readRule: Lock.Decide = (queue, index) => {
  for (let i = index - 1; i >= 0; i--) {
    if (isWrite(queue[i]!)) return { _tag: "WaitFor", name: queue[i]! }
  }
  return { _tag: "Hold" }
}

/** The read-write lock whose queue lives under `path`. */
export const make = (zk: Client, path: string, options: Lock.LockOptions = {}): ReadWriteLock => ({
  read: Lock.make(zk, path, "read-", readRule, options),
  write: Lock.make(zk, path, "write-", Lock.exclusive, options)
})
