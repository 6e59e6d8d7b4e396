/**
 * Leader election (Curator's LeaderSelector and LeaderLatch, kazoo's Election): participants
 * queue under one path; the first is the leader. The leader's Lease carries a fencing token
 * (its node's czxid) that increases from one leadership to the next, to stamp whatever the
 * leader writes.
 *
 * - `Election.lead(body)` waits for leadership, runs `body` as leader and steps down when it
 *   ends; losing the session interrupts `body` (LeaseLost).
 * - `latch(zk, path)` joins for the life of a Scope and publishes leadership as a
 *   SubscriptionRef, re-joining after a suspension and stopping when the session is gone.
 */
import { Effect, Option, type Scope, Stream, SubscriptionRef } from "effect"
import * as Retry from "../Retry.js"
import type { Client } from "../ZooKeeper.js"
import type { ZkError } from "../ZooKeeperError.js"
import { bySequence, join } from "./internal/nodes.js"
import * as Lock from "./Lock.js"

const prefix = "n-"

/** An election under one path. */
export interface Election {
  /** Waits to become leader, runs `body` as leader, then steps down. */
  readonly lead: Lock.Lock["withLock"]
  /** The id (node data) of the current leader, if any. */
  readonly leader: Effect.Effect<Option.Option<string>, ZkError>
  /** The ids of every participant, leader first. */
  readonly participants: Effect.Effect<ReadonlyArray<string>, ZkError>
}

/** Options of an election: `id` names this participant (default: a random UUID). */
export interface ElectionOptions extends Omit<Lock.LockOptions, "data"> {
  readonly id?: string
}

const participantsOf = (zk: Client, path: string): Effect.Effect<ReadonlyArray<string>, ZkError> =>
  Effect.gen(function*() {
    const names = yield* Retry.onConnectionLoss(zk.getChildren(path)).pipe(
      Effect.catchIf((e) => e._tag === "KeeperError" && e.code === "NoNode", () => Effect.succeed([]))
    )
    const ids: Array<string> = []
    for (const name of bySequence(names)) {
      const node = yield* Retry.onConnectionLoss(zk.getData(join(path, name))).pipe(Effect.option)
      if (Option.isSome(node)) ids.push(new TextDecoder().decode(node.value.data ?? new Uint8Array(0)))
    }
    return ids
  })

/** The election under `path`. */
export const make = (zk: Client, path: string, options: ElectionOptions = {}): Election => {
  const lock = Lock.make(zk, path, prefix, Lock.exclusive, { ...options, data: options.id ?? crypto.randomUUID() })
  const participants = participantsOf(zk, path)
  return {
    lead: lock.withLock,
    leader: Effect.map(participants, (ids) => Option.fromNullable(ids[0])),
    participants
  }
}

/** A participant that stays in the election for the life of its Scope. */
export interface Latch {
  /** The current Lease while leader, none otherwise. */
  readonly leadership: SubscriptionRef.SubscriptionRef<Option.Option<Lock.Lease>>
  /** Waits until this participant is leader. */
  readonly await: Effect.Effect<Lock.Lease>
}

/**
 * Joins the election under `path` until the Scope closes. After a suspension (with loseOn
 * "suspended") it steps down and queues again; once the session is gone it stays out.
 */
export const latch = (zk: Client, path: string, options: ElectionOptions = {}): Effect.Effect<Latch, never, Scope.Scope> =>
  Effect.gen(function*() {
    const leadership = yield* SubscriptionRef.make<Option.Option<Lock.Lease>>(Option.none())
    const lockOptions = { ...options, data: options.id ?? crypto.randomUUID() }
    const term = Effect.scoped(
      Effect.gen(function*() {
        const lease = yield* Lock.contend(zk, path, prefix, Lock.exclusive, lockOptions)
        yield* SubscriptionRef.set(leadership, Option.some(lease))
        return yield* lease.lost
      })
    ).pipe(Effect.ensuring(SubscriptionRef.set(leadership, Option.none())))
    const keepGoing = (e: { readonly _tag: string; readonly reason?: unknown }) =>
      e._tag === "ConnectionLoss" || (e._tag === "LeaseLost" && (e.reason === "Suspended" || e.reason === "Deleted"))
    yield* term.pipe(
      Effect.retry({ while: keepGoing }),
      Effect.ignore,
      Effect.forkScoped
    )
    const await_ = leadership.changes.pipe(Stream.filterMap((x) => x), Stream.runHead, Effect.flatMap(Effect.orDie))
    return { leadership, await: await_ }
  })
