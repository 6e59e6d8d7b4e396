/**
 * Node plumbing shared by the recipes: making parent paths, ordering sequential children,
 * releasing a node whatever the connection does, waiting for a node to go.
 */
import { Effect, Option, Schedule } from "effect"
import * as Retry from "../../Retry.js"
import type { Client } from "../../ZooKeeper.js"
import type { ZkError } from "../../ZooKeeperError.js"

/** `parent/name`, with "/" as the root. */
export const join = (parent: string, name: string): string => (parent === "/" ? `/${name}` : `${parent}/${name}`)

/** The last segment of a path. */
export const nameOf = (path: string): string => path.slice(path.lastIndexOf("/") + 1)

/** The 10-digit sequence suffix ZooKeeper appends to sequential nodes (-1 if there is none). */
export const sequenceOf = (name: string): number => {
  const digits = name.slice(-10)
  return /^\d{10}$/.test(digits) ? Number(digits) : -1
}

/** Children sorted by sequence suffix (ties by name): the queue order of a lock directory. */
export const bySequence = (names: ReadonlyArray<string>): Array<string> =>
  [...names].sort((a, b) => sequenceOf(a) - sequenceOf(b) || (a < b ? -1 : a > b ? 1 : 0))

/** Creates `path` and its missing ancestors as persistent nodes; existing ones are fine. */
export const ensurePath = (zk: Client, path: string): Effect.Effect<void, ZkError> =>
  Effect.gen(function*() {
    let prefix = ""
    for (const segment of path.split("/").filter((s) => s !== "")) {
      prefix = `${prefix}/${segment}`
      if (Option.isSome(yield* Retry.onConnectionLoss(zk.exists(prefix)))) continue
      yield* Retry.onConnectionLoss(zk.create(prefix)).pipe(
        Effect.catchIf((e) => e._tag === "KeeperError" && e.code === "NodeExists", () => Effect.void)
      )
    }
  })

/**
 * Deletes a node this session owns. Gone already (NoNode) or gone with the session
 * (SessionExpired: its ephemerals went with it) both count as released. While the client is
 * disconnected the delete is retried in the background, so a holder that lost its connection
 * is not kept waiting (the session's end removes the node anyway).
 */
export const release = (zk: Client, path: string): Effect.Effect<void> => {
  const retrying = zk.delete(path).pipe(
    Effect.retry({
      schedule: Schedule.spaced("200 millis").pipe(Schedule.intersect(Schedule.recurs(150))),
      while: (e) => e._tag === "ConnectionLoss"
    }),
    Effect.ignore
  )
  return Effect.gen(function*() {
    const state = yield* zk.state
    if (state !== "Connected" && state !== "ConnectedReadOnly") return yield* Effect.asVoid(Effect.forkDaemon(retrying))
    yield* zk.delete(path).pipe(
      Effect.catchTag("ConnectionLoss", () => Effect.asVoid(Effect.forkDaemon(retrying))),
      Effect.ignore
    )
  })
}

/** Returns once `path` has changed or gone (true if gone), or at once if it does not exist. */
export const awaitChange = (zk: Client, path: string): Effect.Effect<boolean, ZkError> =>
  Effect.gen(function*() {
    const { stat, watch } = yield* zk.existsWatch(path)
    if (Option.isNone(stat)) return true
    const event = yield* watch
    return event.type === "NodeDeleted"
  })

/** Returns once the children of `path` change. */
export const awaitChildren = (zk: Client, path: string, seen: ReadonlyArray<string>): Effect.Effect<void, ZkError> =>
  Effect.gen(function*() {
    const { children, watch } = yield* zk.getChildrenWatch(path)
    if (children.length !== seen.length || children.some((c) => !seen.includes(c))) return
    yield* watch
  })
