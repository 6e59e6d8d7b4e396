/**
 * Ops of `zk.batch`: many independent requests pipelined on the session in one go, with ONE
 * fiber resumed when every op has its outcome. `Effect.all(..., { concurrency: "unbounded" })`
 * over single calls costs a supervised fiber per request, and that is several times the cost of
 * the request itself; a batch costs one.
 *
 * ```ts
 * const [a, b, missing] = yield* zk.batch([Batch.getData("/a"), Batch.setData("/b", "x"), Batch.exists("/c")])
 * if (Either.isRight(a)) a.right.stat.version // number; results are typed per op
 * yield* zk.batch(paths.map((p) => Batch.getData(p))) // Array<Either<{ data, stat }, ZkError>>
 * ```
 *
 * Not atomic and not fail-fast: every op succeeds or fails on its own, and the batch Effect
 * itself never fails. A failure is the op's own `ZkError`: KeeperError for a server error code,
 * ConnectionLoss for an op whose reply was lost with the connection (indeterminate for writes,
 * like any single write), SessionExpired once the session is over. Ops go out in their order and
 * the server answers them in that order, but a write in a batch does not wait for the one before
 * it to succeed. Interrupting the batch abandons whatever is still pending: queued ops are never
 * sent, replies to sent ones are dropped, and their `maxPendingRequests` slots are freed at once.
 * For all-or-nothing writes use `multi` / `Transaction`.
 */
import type { Either, Option } from "effect"
import type { Stat } from "../wire/ClientRecords.js"
import type { CreateOptions, Data } from "./MultiOp.js"
import type { ZkError } from "./ZooKeeperError.js"

/** What an op asks for, as data. */
export type Spec =
  | { readonly _tag: "GetData"; readonly path: string }
  | { readonly _tag: "SetData"; readonly path: string; readonly data: Data; readonly version: number }
  | { readonly _tag: "Create"; readonly path: string; readonly data: Data | undefined; readonly options: CreateOptions }
  | { readonly _tag: "Delete"; readonly path: string; readonly version: number }
  | { readonly _tag: "Exists"; readonly path: string }
  | { readonly _tag: "GetChildren"; readonly path: string }

/** An op whose result is an `A` (the phantom field carries the type; it is never set). */
export type Op<A> = Spec & { readonly "~result"?: A }

/** The outcomes of `ops`, one per op in the same order, each typed by its op. */
export type Results<Ops extends ReadonlyArray<Op<unknown>>> = {
  -readonly [K in keyof Ops]: Ops[K] extends Op<infer A> ? Either.Either<A, ZkError> : never
}

/** The node's data (null if it was stored as null) and Stat, as `getData`. */
export const getData = (path: string): Op<{ readonly data: Uint8Array | null; readonly stat: Stat }> => ({
  _tag: "GetData",
  path
})

/** Replaces the node's data (version -1, the default, matches any); the new Stat, as `setData`. */
export const setData = (path: string, data: Data, version = -1): Op<Stat> => ({ _tag: "SetData", path, data, version })

/** Creates a node; its path (with the sequence suffix for sequential modes), as `create`. */
export const create = (path: string, data?: Data, options: CreateOptions = {}): Op<string> => ({
  _tag: "Create",
  path,
  data,
  options
})

const remove = (path: string, version = -1): Op<void> => ({ _tag: "Delete", path, version })
/** Deletes a node (version -1, the default, matches any), as `delete`. */
export { remove as delete }

/** The node's Stat, or none if it does not exist, as `exists`. */
export const exists = (path: string): Op<Option.Option<Stat>> => ({ _tag: "Exists", path })

/** The names of the node's children, as `getChildren`. */
export const getChildren = (path: string): Op<ReadonlyArray<string>> => ({ _tag: "GetChildren", path })
