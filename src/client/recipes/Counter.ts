/**
 * A shared counter (Curator's SharedCount / DistributedAtomicLong, kazoo's Counter): updates are
 * compare-and-set on the node's version. The node holds `{"value":n,"recent":[update ids]}` with
 * the ids of the last 32 updates; they resolve a ConnectionLoss: after one, the node is re-read
 * and the update counts as applied if its id is listed, so an increment is neither applied twice
 * nor lost (unless 32 other updates land during one reconnect).
 */
import { Effect, Schema } from "effect"
import * as Retry from "../Retry.js"
import * as Typed from "../Typed.js"
import type { Client } from "../ZooKeeper.js"
import type { ZkError } from "../ZooKeeperError.js"
import { ensurePath } from "./internal/nodes.js"

const Stored = Schema.Struct({ value: Schema.Number, recent: Schema.Array(Schema.String) })

const recentMax = 32

/** A counter reading: `version` for compare-and-set, `token` (mzxid) orders the writes. */
export interface Reading {
  readonly value: number
  readonly version: number
  readonly token: number
}

/** A shared counter. */
export interface Counter {
  readonly get: Effect.Effect<Reading, ZkError | Typed.DataDecodeError>
  /** Adds `delta` and returns the new reading. */
  readonly add: (delta: number) => Effect.Effect<Reading, ZkError | Typed.DataDecodeError>
  /** Sets `value` if the counter is still at `version`; none if someone got there first. */
  readonly compareAndSet: (version: number, value: number) => Effect.Effect<Reading | null, ZkError | Typed.DataDecodeError>
}

/** The counter stored at `path` (created with `initial` on first use). */
export const make = (zk: Client, path: string, initial = 0): Counter => {
  const read = Effect.gen(function*() {
    const { stat, value } = yield* Retry.onConnectionLoss(Typed.getData(zk, path, Stored))
    return { value: value.value, recent: value.recent, version: stat.version, token: stat.mzxid }
  })
  const get = read.pipe(
    Effect.catchIf((e) => e._tag === "KeeperError" && e.code === "NoNode", () =>
      Effect.gen(function*() {
        const i = path.lastIndexOf("/")
        if (i > 0) yield* ensurePath(zk, path.slice(0, i))
        yield* Typed.create(zk, path, { value: initial, recent: [] }, Stored).pipe(
          Effect.catchTag("DataEncodeError", Effect.die),
          Effect.catchIf((e) => e._tag === "KeeperError" && e.code === "NodeExists", () => Effect.void),
          Retry.onConnectionLoss
        )
        return yield* read
      })),
    Effect.map(({ recent: _, ...reading }) => reading)
  )
  const compareAndSet: Counter["compareAndSet"] = (version, value) =>
    Effect.gen(function*() {
      const id = crypto.randomUUID()
      const before = yield* read
      if (before.version !== version) return null
      const recent = [...before.recent.slice(-(recentMax - 1)), id]
      const attempt = Typed.setData(zk, path, { value, recent }, Stored, version).pipe(Effect.catchTag("DataEncodeError", Effect.die))
      const result = yield* Effect.either(attempt)
      if (result._tag === "Right") return { value, version: result.right.version, token: result.right.mzxid }
      const e = result.left
      if (e._tag === "KeeperError" && e.code === "BadVersion") return null
      if (e._tag !== "ConnectionLoss") return yield* e
      // Indeterminate: applied if the node lists our id (then it was the write to version + 1).
      const now = yield* read
      if (!now.recent.includes(id)) return null
      // Later writes may have landed since; their mzxid then bounds ours from above.
      return { value, version: version + 1, token: now.token }
    })
  const add: Counter["add"] = (delta) =>
    Effect.gen(function*() {
      for (;;) {
        const current = yield* get
        const next = yield* compareAndSet(current.version, current.value + delta)
        if (next !== null) return next
      }
    })
  return { get, add, compareAndSet }
}
