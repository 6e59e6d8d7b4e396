/**
 * A distributed queue (Curator's DistributedQueue / DistributedPriorityQueue, kazoo's Queue /
 * LockingQueue): items are persistent sequential nodes, taken in (priority, sequence) order.
 *
 * A take is exactly-once even across a ConnectionLoss: it deletes the item and creates an
 * ephemeral claim node `claim-<id>` in one multi; if the reply is lost, the claim's existence
 * says whether the take happened. (Claims are then deleted; a claim left by a dead session
 * disappears with it.)
 */
import { Effect, Option } from "effect"
import { CreateMode } from "../../wire/Codes.js"
import * as MultiOp from "../MultiOp.js"
import * as Retry from "../Retry.js"
import type { Client } from "../ZooKeeper.js"
import type { MultiError, ZkError } from "../ZooKeeperError.js"
import { awaitChildren, ensurePath, join, release } from "./internal/nodes.js"

/** A queue item. */
export interface Item {
  readonly data: Uint8Array | null
  /** The item's node (gone once taken). */
  readonly path: string
  readonly priority: number
}

/** A distributed queue. */
export interface Queue {
  /** Appends an item; lower priorities are taken first (default 0, range 0–999). */
  readonly offer: (data: Uint8Array | string, priority?: number) => Effect.Effect<string, ZkError>
  /** Takes the first item, waiting while the queue is empty. */
  readonly take: Effect.Effect<Item, ZkError | MultiError>
  /** Takes the first item if there is one. */
  readonly poll: Effect.Effect<Option.Option<Item>, ZkError | MultiError>
  /** Number of items. */
  readonly size: Effect.Effect<number, ZkError>
}

const claimPrefix = "claim-"
const itemPrefix = "item-"

const priorityOf = (name: string): number => Number(Retry.unprotected(name).slice(itemPrefix.length, itemPrefix.length + 3))

/** Item names in take order: the 3-digit priority, then the sequence (both fixed width) after the protected prefix. */
const items = (names: ReadonlyArray<string>): Array<string> =>
  names
    .map((name) => ({ name, key: Retry.unprotected(name) }))
    .filter((x) => x.key.startsWith(itemPrefix))
    .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
    .map((x) => x.name)

/** The queue under `path` (created on first use). */
export const make = (zk: Client, path: string): Queue => {
  const list = Effect.zipRight(ensurePath(zk, path), Retry.onConnectionLoss(zk.getChildren(path)))

  const offer: Queue["offer"] = (data, priority = 0) =>
    Effect.gen(function*() {
      if (!Number.isInteger(priority) || priority < 0 || priority > 999) {
        return yield* Effect.dieMessage(`queue priority must be an integer in 0..999, got ${priority}`)
      }
      yield* ensurePath(zk, path)
      const name = `${itemPrefix}${String(priority).padStart(3, "0")}-`
      const created = yield* Retry.protectedCreate(zk, join(path, name), data, { mode: CreateMode.PERSISTENT_SEQUENTIAL })
      return created.path
    })

  /** Tries to take `name`: some item if taken by us, none if someone else took it first. */
  const takeOne = (name: string): Effect.Effect<Option.Option<Item>, ZkError | MultiError> =>
    Effect.gen(function*() {
      const itemPath = join(path, name)
      const read = yield* Retry.onConnectionLoss(zk.getData(itemPath)).pipe(Effect.option)
      if (Option.isNone(read)) return Option.none()
      const claim = join(path, `${claimPrefix}${crypto.randomUUID()}`)
      const taken = yield* Effect.either(zk.multi([
        MultiOp.delete(itemPath, read.value.stat.version),
        MultiOp.create(claim, "", { mode: CreateMode.EPHEMERAL })
      ]))
      if (taken._tag === "Left") {
        const e = taken.left
        if (e._tag === "MultiError" && (e.code === "NoNode" || e.code === "BadVersion")) return Option.none()
        if (e._tag !== "ConnectionLoss") return yield* e
        if (Option.isNone(yield* Retry.onConnectionLoss(zk.exists(claim)))) return Option.none()
      }
      yield* release(zk, claim)
      return Option.some({ data: read.value.data, path: itemPath, priority: priorityOf(name) })
    })

  const poll: Queue["poll"] = Effect.gen(function*() {
    for (;;) {
      const queued = items(yield* list)
      if (queued.length === 0) return Option.none()
      for (const name of queued) {
        const item = yield* takeOne(name)
        if (Option.isSome(item)) return item
      }
    }
  })

  const take: Queue["take"] = Effect.gen(function*() {
    for (;;) {
      const names = yield* list
      if (items(names).length > 0) {
        const item = yield* poll
        if (Option.isSome(item)) return item.value
      } else {
        yield* Retry.onConnectionLoss(awaitChildren(zk, path, names))
      }
    }
  })

  return { offer, take, poll, size: Effect.map(list, (names) => items(names).length) }
}
