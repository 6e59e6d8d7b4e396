/**
 * Barriers (Curator's DistributedBarrier and DistributedDoubleBarrier, kazoo's Barrier and
 * DoubleBarrier).
 *
 * - A `Barrier` holds everyone who `wait`s while its node exists; `remove` lets them through.
 * - A `DoubleBarrier` for `count` participants: `enter` returns once `count` have entered,
 *   `leave` once every participant has left. Participants are ephemeral, so one whose session
 *   dies counts as left. A path serves one round.
 */
import { Effect, Option } from "effect"
import { CreateMode } from "../../wire/Codes.js"
import * as Retry from "../Retry.js"
import type { Client } from "../ZooKeeper.js"
import type { ZkError } from "../ZooKeeperError.js"
import { awaitChange, ensurePath, join } from "./internal/nodes.js"

/** A barrier: closed while its node exists. */
export interface Barrier {
  /** Closes the barrier (creates its node; already closed is fine). */
  readonly set: Effect.Effect<void, ZkError>
  /** Opens the barrier (deletes its node; already open is fine). */
  readonly remove: Effect.Effect<void, ZkError>
  /** Returns once the barrier is open. */
  readonly wait: Effect.Effect<void, ZkError>
}

const ignoreCode = (code: string) => (e: ZkError) => e._tag === "KeeperError" && e.code === code

/** The barrier whose node is `path`. */
export const make = (zk: Client, path: string): Barrier => ({
  set: Effect.gen(function*() {
    const i = path.lastIndexOf("/")
    if (i > 0) yield* ensurePath(zk, path.slice(0, i))
    yield* Retry.onConnectionLoss(zk.create(path)).pipe(Effect.catchIf(ignoreCode("NodeExists"), () => Effect.void))
  }),
  remove: Retry.onConnectionLoss(zk.delete(path)).pipe(Effect.catchIf(ignoreCode("NoNode"), () => Effect.void)),
  wait: Effect.gen(function*() {
    while (!(yield* Retry.onConnectionLoss(awaitChange(zk, path)))) {
      // Data changed but the node is still there: keep waiting.
    }
  })
})

/** A double barrier: see the module comment. */
export interface DoubleBarrier {
  /** Joins as `id` and waits until `count` participants have joined. */
  readonly enter: Effect.Effect<void, ZkError>
  /** Leaves and waits until every participant has left. */
  readonly leave: Effect.Effect<void, ZkError>
}

const readyName = "ready"

/** The double barrier under `path` for `count` participants; this one is `id` (default a UUID). */
export const double = (zk: Client, path: string, count: number, id: string = crypto.randomUUID()): DoubleBarrier => {
  const ready = join(path, readyName)
  const me = join(path, id)
  const participants = Effect.map(Retry.onConnectionLoss(zk.getChildren(path)), (xs) => xs.filter((x) => x !== readyName))
  return {
    enter: Effect.gen(function*() {
      yield* ensurePath(zk, path)
      // Watch for "ready" before joining, so the last one's create cannot be missed.
      const { stat, watch } = yield* Retry.onConnectionLoss(zk.existsWatch(ready))
      yield* Retry.onConnectionLoss(zk.create(me, "", { mode: CreateMode.EPHEMERAL })).pipe(
        Effect.catchIf(ignoreCode("NodeExists"), () => Effect.void)
      )
      if (Option.isSome(stat)) return
      if ((yield* participants).length >= count) {
        yield* Retry.onConnectionLoss(zk.create(ready)).pipe(Effect.catchIf(ignoreCode("NodeExists"), () => Effect.void))
        return
      }
      yield* watch
    }),
    leave: Effect.gen(function*() {
      yield* Retry.onConnectionLoss(zk.delete(me)).pipe(Effect.catchIf(ignoreCode("NoNode"), () => Effect.void))
      for (;;) {
        const { children, watch } = yield* Retry.onConnectionLoss(zk.getChildrenWatch(path))
        if (children.every((c) => c === readyName)) return
        yield* watch
      }
    })
  }
}
