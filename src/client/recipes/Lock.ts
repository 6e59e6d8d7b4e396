/**
 * The queue of ephemeral sequential nodes every lock-like recipe is built on (mutex, read-write
 * lock, semaphore, leader election): a contender creates `dir/<prefix>N` in protected mode, lists
 * the directory in sequence order, and either holds (as `decide` says) or waits for the node it
 * is told to wait for — never for the whole directory, unless `decide` asks, so a release wakes
 * one waiter (no herd).
 *
 * What a holder gets is a `Lease`: the path of its node and a fencing token, the node's czxid.
 * For exclusive locks the tokens of successive holders strictly increase (sequence order is
 * creation order is zxid order), so a resource that remembers the highest token it has seen can
 * refuse a holder that lost the lock without knowing it (a long pause, a partition).
 */
import { Effect, Fiber, FiberRef, type Scope } from "effect"
import { CreateMode } from "../../wire/Codes.js"
import * as Retry from "../Retry.js"
import * as Session from "../Session.js"
import type { Client } from "../ZooKeeper.js"
import type { ZkError } from "../ZooKeeperError.js"
import { awaitChange, awaitChildren, bySequence, ensurePath, join, nameOf, release } from "./internal/nodes.js"

/** Proof of holding a lock, lease or leadership. */
export interface Lease {
  /** The node whose existence is the hold. */
  readonly path: string
  /**
   * The fencing token: the czxid of `path`. Pass it to the resource the lock guards and have the
   * resource refuse any token lower than the highest it has accepted.
   */
  readonly token: number
  /** Fails with LeaseLost once the hold is lost (see `Session.lost`); never succeeds. */
  readonly lost: Effect.Effect<never, Session.LeaseLost>
}

/** What a contender does after reading the queue. */
export type Decision =
  | { readonly _tag: "Hold" }
  | { readonly _tag: "WaitFor"; readonly name: string }
  | { readonly _tag: "WaitChildren" }

/** Decides from the sorted queue and the contender's index in it. */
export type Decide = (queue: ReadonlyArray<string>, index: number) => Decision

/** The exclusive rule: hold when first, else wait for the node just before. */
export const exclusive: Decide = (queue, index) =>
  index === 0 ? { _tag: "Hold" } : { _tag: "WaitFor", name: queue[index - 1]! }

/** Options every lock-like recipe takes. */
export interface LockOptions {
  /** When a holder counts as having lost (default "suspended", see `Session.LoseOn`). */
  readonly loseOn?: Session.LoseOn
  /** Data stored in the contender's node (e.g. a participant id). */
  readonly data?: string
}

/** A lock-like recipe bound to one directory. */
export interface Lock {
  readonly path: string
  /**
   * Waits for the hold, runs `body` with the Lease, and releases. If the hold is lost meanwhile,
   * `body` is interrupted and this fails with LeaseLost. Reentrant: inside `body` (and fibers it
   * forks), `withLock` on the same Lock runs at once with the same Lease.
   */
  readonly withLock: <A, E, R>(body: (lease: Lease) => Effect.Effect<A, E, R>) => Effect.Effect<A, E | ZkError | Session.LeaseLost, R>
  /**
   * Waits for the hold and keeps it until the Scope closes. If the hold is lost first, the fiber
   * that acquired it is interrupted. Reentrant like `withLock`.
   */
  readonly acquire: Effect.Effect<Lease, ZkError | Session.LeaseLost, Scope.Scope>
}

/** Leases held by the current fiber (inherited by the fibers it forks), by Lock. */
const held = FiberRef.unsafeMake<ReadonlyMap<object, Lease>>(new Map())

/**
 * Joins the queue in `dir` and waits until `decide` says hold. The node is deleted when the
 * Scope closes (also if waiting is interrupted).
 */
export const contend = (
  zk: Client,
  dir: string,
  prefix: string,
  decide: Decide,
  options: LockOptions = {}
): Effect.Effect<Lease, ZkError | Session.LeaseLost, Scope.Scope> =>
  Effect.gen(function*() {
    yield* ensurePath(zk, dir)
    const created = yield* Effect.acquireRelease(
      Retry.protectedCreate(zk, join(dir, prefix), options.data ?? "", { mode: CreateMode.EPHEMERAL_SEQUENTIAL }),
      (node) => release(zk, node.path)
    )
    const ours = nameOf(created.path)
    for (;;) {
      const queue = bySequence(yield* Retry.onConnectionLoss(zk.getChildren(dir)))
      const index = queue.indexOf(ours)
      if (index < 0) return yield* new Session.LeaseLost({ path: created.path, reason: "Deleted" })
      const decision = decide(queue, index)
      switch (decision._tag) {
        case "Hold":
          return { path: created.path, token: created.stat.czxid, lost: Session.lost(zk, created.path, options.loseOn) }
        case "WaitFor":
          yield* Retry.onConnectionLoss(awaitChange(zk, join(dir, decision.name)))
          break
        case "WaitChildren":
          yield* Retry.onConnectionLoss(awaitChildren(zk, dir, queue))
      }
    }
  })

/** A reentrant Lock on the queue in `dir` with the rule `decide`. */
export const make = (zk: Client, dir: string, prefix: string, decide: Decide, options: LockOptions = {}): Lock => {
  const key = {}
  const withLock: Lock["withLock"] = (body) =>
    Effect.flatMap(FiberRef.get(held), (leases) => {
      const lease = leases.get(key)
      if (lease !== undefined) return body(lease)
      return Effect.scoped(
        Effect.flatMap(contend(zk, dir, prefix, decide, options), (lease) =>
          Effect.raceFirst(Effect.locally(body(lease), held, new Map([...leases, [key, lease]])), lease.lost))
      )
    })
  const acquire: Lock["acquire"] = Effect.gen(function*() {
    const leases = yield* FiberRef.get(held)
    const existing = leases.get(key)
    if (existing !== undefined) return existing
    const lease = yield* contend(zk, dir, prefix, decide, options)
    const holder = yield* Effect.withFiberRuntime<Fiber.RuntimeFiber<unknown, unknown>>((fiber) => Effect.succeed(fiber))
    yield* lease.lost.pipe(Effect.catchAll(() => Fiber.interruptFork(holder)), Effect.forkScoped)
    yield* Effect.locallyScopedWith(held, (m) => new Map([...m, [key, lease]]))
    return lease
  })
  return { path: dir, withLock, acquire }
}
