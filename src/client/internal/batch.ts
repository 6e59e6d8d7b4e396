/**
 * `zk.batch` (Batch.ts): every op is started on the session straight away, settled from the
 * read loop through `Connection.start` (as the Promise facade's calls are), and the caller's one
 * fiber is resumed when the last outcome is in. No fiber per op.
 */
import { Cause, Effect, Either, Exit, Option } from "effect"
import type { Spec } from "../Batch.js"
import type { ZkError } from "../ZooKeeperError.js"
import type { Connection, Pending } from "./connection.js"
import type { Call, Calls } from "./calls.js"

/** The request and reply decoder of one batch op, shared with the single calls. */
export const callOf = (calls: Calls, op: Spec): Call<unknown, ZkError> => {
  switch (op._tag) {
    case "GetData":
      return calls.getData(op.path)
    case "SetData":
      return calls.setData(op.path, op.data, op.version)
    case "Create":
      return calls.create(op.path, op.data, op.options)
    case "Delete":
      return calls.delete(op.path, op.version)
    case "Exists":
      return calls.exists(op.path)
    case "GetChildren":
      return calls.getChildren(op.path)
  }
}

/**
 * Runs `calls` pipelined; succeeds with one Either per call, in order, once all have settled.
 * Interruption cancels every call still pending (queued ones are never sent).
 */
export const runBatch = (
  conn: Connection,
  calls: ReadonlyArray<Call<unknown, ZkError>>
): Effect.Effect<Array<Either.Either<unknown, ZkError>>> =>
  Effect.async((resume) => {
    const results = new Array<Either.Either<unknown, ZkError>>(calls.length)
    let left = calls.length
    if (left === 0) return resume(Effect.succeed(results))
    let defect: Cause.Cause<unknown> | undefined
    const pending: Array<Pending> = []
    calls.forEach((call, i) => {
      const entry = conn.start(call.request.type, call.request, call.reply, (exit) => {
        if (Exit.isSuccess(exit)) results[i] = Either.right(exit.value)
        else {
          const failure = Cause.failureOption(exit.cause)
          if (Option.isSome(failure)) results[i] = Either.left(failure.value)
          else defect ??= exit.cause
        }
        if (--left === 0) resume(defect === undefined ? Effect.succeed(results) : Effect.die(Cause.squash(defect)))
      })
      pending.push(entry)
    })
    // Last first: cancelling an op frees its slot, which admits the next waiting op, and that must
    // already be cancelled if it is ours (ours wait behind ours, so they all come later in `pending`).
    return Effect.sync(() => {
      for (let i = pending.length - 1; i >= 0; i--) conn.cancel(pending[i]!)
    })
  })
