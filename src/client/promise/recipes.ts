/**
 * The recipes of the Promise facade. A holder's callback gets the Lease (with its fencing token)
 * and an AbortSignal that aborts when the hold is lost; the call then rejects with LeaseLost.
 *
 * ```ts
 * await zk.recipes.mutex("/locks/orders").withLock(async (lease, signal) => {
 *   await storage.write(order, { fencingToken: lease.token, signal })
 * })
 * ```
 */
import { EventEmitter } from "node:events"
import { Effect, Option, type Schema, type Scope, Stream, SubscriptionRef } from "effect"
import { Barrier, type Cache, Counter, Group, LeaderElection, type Lock, Mutex, Queue, ReadWriteLock, Semaphore } from "../recipes/index.js"
import * as CacheRecipe from "../recipes/Cache.js"
import type * as ZooKeeper from "../ZooKeeper.js"
import { acquire, type CallOptions, type Handle, run, runNow } from "./run.js"

/** A lock-like recipe for Promise code. */
export interface PromiseLock {
  /** Waits for the hold, runs `body`, releases. `signal` aborts when the hold is lost. */
  readonly withLock: <A>(body: (lease: Lock.Lease, signal: AbortSignal) => Promise<A>, options?: CallOptions) => Promise<A>
  /** Waits for the hold; keep it until `close()`. */
  readonly acquire: (options?: CallOptions) => Promise<Handle & { readonly lease: Lock.Lease }>
}

const promiseLock = (lock: Lock.Lock): PromiseLock => ({
  withLock: (body, options) =>
    run(lock.withLock((lease) => Effect.tryPromise({ try: (signal) => body(lease, signal), catch: (e) => e })), options),
  acquire: async (options) => {
    const { value, close } = await acquire(lock.acquire, options)
    return { lease: value, close }
  }
})

/** A mirror of part of the tree: `current`, and "change" events with every new view. */
export interface PromiseMirror<A> extends Handle, EventEmitter {
  readonly current: () => A
}

const promiseMirror = async <A, B, E>(
  make: Effect.Effect<Cache.Mirror<A>, E, Scope.Scope>,
  f: (a: A) => B,
  options?: CallOptions
): Promise<PromiseMirror<B>> => {
  const emitter = new EventEmitter()
  const { value, close } = await acquire(
    Effect.tap(make, (mirror) =>
      mirror.changes.pipe(Stream.drop(1), Stream.runForEach((a) => Effect.sync(() => emitter.emit("change", f(a)))), Effect.forkScoped)),
    options
  )
  return Object.assign(emitter, { current: () => f(runNow(SubscriptionRef.get(value.current))), close })
}

const identity = <A>(a: A): A => a

/** Every recipe, bound to one client. */
export class Recipes {
  constructor(private readonly zk: ZooKeeper.Client) {}

  /** Exclusive, reentrant lock under `path`. */
  mutex(path: string, options: Lock.LockOptions = {}): PromiseLock {
    return promiseLock(Mutex.make(this.zk, path, options))
  }

  /** Read-write lock under `path`. */
  readWriteLock(path: string, options: Lock.LockOptions = {}): { readonly read: PromiseLock; readonly write: PromiseLock } {
    const rw = ReadWriteLock.make(this.zk, path, options)
    return { read: promiseLock(rw.read), write: promiseLock(rw.write) }
  }

  /** Semaphore with `permits` leases under `path`. */
  semaphore(path: string, permits: number, options: Lock.LockOptions = {}): PromiseLock {
    return promiseLock(Semaphore.make(this.zk, path, permits, options))
  }

  /** Leader election under `path`: `lead(body)` runs `body` while leader. */
  election(path: string, options: LeaderElection.ElectionOptions = {}) {
    const election = LeaderElection.make(this.zk, path, options)
    return {
      lead: <A>(body: (lease: Lock.Lease, signal: AbortSignal) => Promise<A>, call?: CallOptions) =>
        run(election.lead((lease) => Effect.tryPromise({ try: (signal) => body(lease, signal), catch: (e) => e })), call),
      leader: (call?: CallOptions) => run(Effect.map(election.leader, (id) => id._tag === "Some" ? id.value : null), call),
      participants: (call?: CallOptions) => run(election.participants, call)
    }
  }

  /** Joins the election under `path` until `close()`; emits "leader" (Lease) and "follower". */
  async leaderLatch(path: string, options: LeaderElection.ElectionOptions & CallOptions = {}): Promise<Handle & EventEmitter & { readonly isLeader: () => boolean }> {
    const emitter = new EventEmitter()
    const { value, close } = await acquire(
      Effect.tap(LeaderElection.latch(this.zk, path, options), (latch) =>
        latch.leadership.changes.pipe(
          Stream.drop(1),
          Stream.runForEach((l) => Effect.sync(() => (l._tag === "Some" ? emitter.emit("leader", l.value) : emitter.emit("follower")))),
          Effect.forkScoped
        )),
      options
    )
    return Object.assign(emitter, { isLeader: () => runNow(SubscriptionRef.get(value.leadership))._tag === "Some", close })
  }

  /** Barrier at `path`. */
  barrier(path: string) {
    const b = Barrier.make(this.zk, path)
    return { set: (o?: CallOptions) => run(b.set, o), remove: (o?: CallOptions) => run(b.remove, o), wait: (o?: CallOptions) => run(b.wait, o) }
  }

  /** Double barrier at `path` for `count` participants. */
  doubleBarrier(path: string, count: number, id?: string) {
    const b = Barrier.double(this.zk, path, count, id)
    return { enter: (o?: CallOptions) => run(b.enter, o), leave: (o?: CallOptions) => run(b.leave, o) }
  }

  /** Distributed (priority) queue under `path`. */
  queue(path: string) {
    const q = Queue.make(this.zk, path)
    return {
      offer: (data: Uint8Array | string, priority = 0, o?: CallOptions) => run(q.offer(data, priority), o),
      take: (o?: CallOptions) => run(q.take, o),
      poll: (o?: CallOptions) => run(Effect.map(q.poll, (x) => (x._tag === "Some" ? x.value : null)), o),
      size: (o?: CallOptions) => run(q.size, o)
    }
  }

  /** Shared counter at `path`. */
  counter(path: string, initial = 0) {
    const c = Counter.make(this.zk, path, initial)
    return {
      get: (o?: CallOptions) => run(c.get, o),
      add: (delta: number, o?: CallOptions) => run(c.add(delta), o),
      compareAndSet: (version: number, value: number, o?: CallOptions) => run(c.compareAndSet(version, value), o)
    }
  }

  /** Joins the group at `path` as `id` until `close()`. */
  async join(path: string, id: string, data: Uint8Array | string = "", options: CallOptions = {}): Promise<Handle & { readonly path: string }> {
    const { value, close } = await acquire(Group.join(this.zk, path, id, data), options)
    return { path: value, close }
  }

  /** The members of the group at `path` (id → data). */
  members(path: string, options: CallOptions = {}): Promise<ReadonlyMap<string, Uint8Array | null>> {
    return run(Group.members(this.zk, path), options)
  }

  /** Service discovery under `base` with payloads typed by `schema`. */
  discovery<A, I>(base: string, schema: Schema.Schema<A, I>) {
    const sd = Group.discovery(this.zk, base, schema)
    return {
      register: async (service: string, id: string, payload: A, o?: CallOptions): Promise<Handle> => {
        const { close } = await acquire(sd.register(service, id, payload), o)
        return { close }
      },
      lookup: (service: string, o?: CallOptions) => run(sd.lookup(service), o)
    }
  }

  /** Mirrors the subtree at `path` (path → node). */
  treeCache(path: string, options: CallOptions = {}): Promise<PromiseMirror<Cache.Tree>> {
    return promiseMirror(CacheRecipe.tree(this.zk, path), identity, options)
  }

  /** Mirrors one node (null while it does not exist). */
  nodeCache(path: string, options: CallOptions = {}): Promise<PromiseMirror<Cache.Node | null>> {
    return promiseMirror(CacheRecipe.node(this.zk, path), Option.getOrNull, options)
  }

  /** Mirrors the children of a node (name → node). */
  childrenCache(path: string, options: CallOptions = {}): Promise<PromiseMirror<ReadonlyMap<string, Cache.Node>>> {
    return promiseMirror(CacheRecipe.children(this.zk, path), identity, options)
  }
}
