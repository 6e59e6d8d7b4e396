/**
 * Retries with ZooKeeper's rule built in: ConnectionLoss is the only failure worth retrying (the
 * session lives on and the client is reconnecting), and after it a write is *indeterminate* —
 * it may or may not have been applied. Reads and conditional writes (`setData` with a version,
 * `delete` with a version) can be retried as they are; a `create` cannot, least of all a
 * sequential one, whose retry would leave an orphan node. `protectedCreate` resolves it the way
 * Curator's protected mode does: the node's name carries a session-unique prefix, and after a
 * ConnectionLoss the parent's children are searched for it before trying again.
 */
import { Effect, Option, Schedule } from "effect"
import type { Stat } from "../wire/ClientRecords.js"
import { CreateMode } from "../wire/Codes.js"
import type { CreateOptions, Data } from "./MultiOp.js"
import type { Client } from "./ZooKeeper.js"
import type { ConnectionLoss, ZkError } from "./ZooKeeperError.js"

/** Exponential from 100 ms (×2, jittered), at most 10 retries. */
export const defaultSchedule: Schedule.Schedule<unknown, unknown> = Schedule.exponential("100 millis").pipe(
  Schedule.jittered,
  Schedule.intersect(Schedule.recurs(10))
)

const isConnectionLoss = (e: { readonly _tag: string }): e is ConnectionLoss => e._tag === "ConnectionLoss"

/**
 * Retries `self` on ConnectionLoss only, following `schedule`. Use it for idempotent requests
 * (reads, versioned writes); other failures pass through at once.
 */
export const onConnectionLoss = <A, E extends { readonly _tag: string }, R>(
  self: Effect.Effect<A, E, R>,
  schedule: Schedule.Schedule<unknown, unknown> = defaultSchedule
): Effect.Effect<A, E, R> => Effect.retry(self, { schedule, while: isConnectionLoss })

/** The marker protected nodes start with (Curator's `_c_`). */
export const protectedMarker = "_c_"

const parentOf = (path: string): string => {
  const i = path.lastIndexOf("/")
  return i <= 0 ? "/" : path.slice(0, i)
}

const join = (parent: string, name: string): string => (parent === "/" ? `/${name}` : `${parent}/${name}`)

/** The protected form of `path`: its last segment prefixed with `_c_<id>-`. */
export const protectedPath = (path: string, id: string): string => {
  const i = path.lastIndexOf("/")
  return `${path.slice(0, i + 1)}${protectedMarker}${id}-${path.slice(i + 1)}`
}

/** The id a protected node name carries, if it is one. */
export const protectedId = (name: string): Option.Option<string> => {
  if (!name.startsWith(protectedMarker)) return Option.none()
  const dash = name.indexOf("-", protectedMarker.length)
  return dash < 0 ? Option.none() : Option.some(name.slice(protectedMarker.length, dash))
}

/** A node name without its protected prefix (unchanged if it has none). */
export const unprotected = (name: string): string =>
  Option.match(protectedId(name), { onNone: () => name, onSome: (id) => name.slice(protectedMarker.length + id.length + 1) })

/**
 * Creates `path` in protected mode and returns the created path and Stat. The node's last
 * segment is prefixed with `_c_<id>-` (a fresh dashless UUID unless given; ids must not contain "-"); after a ConnectionLoss the
 * parent is listed and a child carrying that prefix is taken as ours, so a create applied just
 * before the link broke is found instead of repeated. Other failures pass through.
 */
export const protectedCreate = (
  zk: Client,
  path: string,
  data?: Data,
  options: CreateOptions & { readonly id?: string; readonly schedule?: Schedule.Schedule<unknown, unknown> } = {}
): Effect.Effect<{ readonly path: string; readonly stat: Stat }, ZkError> =>
  Effect.suspend(() => {
    // Fresh per run: running the returned Effect twice creates two nodes.
    const target = protectedPath(path, options.id ?? crypto.randomUUID().replaceAll("-", ""))
    const parent = parentOf(target)
    const prefix = target.slice(parent === "/" ? 1 : parent.length + 1)
    const createOptions: CreateOptions = {
      mode: options.mode ?? CreateMode.PERSISTENT,
      ...(options.acl === undefined ? {} : { acl: options.acl }),
      ...(options.ttl === undefined ? {} : { ttl: options.ttl })
    }
    const find = Effect.gen(function*() {
      for (const name of yield* zk.getChildren(parent)) {
        if (!name.startsWith(prefix)) continue
        const found = join(parent, name)
        const stat = yield* zk.exists(found)
        if (Option.isSome(stat)) return Option.some({ path: found, stat: stat.value })
      }
      return Option.none<{ path: string; stat: Stat }>()
    })
    let attempted = false
    const attempt = Effect.gen(function*() {
      if (attempted) {
        const previous = yield* find
        if (Option.isSome(previous)) return previous.value
      }
      attempted = true
      return yield* zk.createWithStat(target, data, createOptions)
    })
    return onConnectionLoss(attempt, options.schedule)
  })
