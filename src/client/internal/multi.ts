/**
 * `multi` and `multiRead`: their ops as requests, and their replies as results that line up with
 * the ops (MultiOp.ts), a failed transaction as a `MultiError` naming the op that failed.
 */
import { Either, Exit, Option } from "effect"
import { type MultiResult, readMultiResponse, type Request } from "../../wire/ClientRecords.js"
import { Err, errName, Op } from "../../wire/Codes.js"
import type { JuteReader } from "../../wire/Jute.js"
import type { ReadOp, ReadResult, WriteOp, WriteResult } from "../MultiOp.js"
import { type KeeperError, MultiError } from "../ZooKeeperError.js"
import { createRequest, keeperError, toBytes } from "./calls.js"
import type { Connection } from "./connection.js"

const writeOpRequest = (conn: Connection, op: WriteOp): Request => {
  switch (op._tag) {
    case "Create":
      return createRequest(
        conn,
        op.path,
        op.data,
        op.ttl === undefined ? { mode: op.mode, acl: op.acl } : { mode: op.mode, acl: op.acl, ttl: op.ttl },
        false
      )
    case "Delete":
      return { type: Op.delete, path: conn.toServer(op.path), version: op.version }
    case "SetData":
      return { type: Op.setData, path: conn.toServer(op.path), data: toBytes(op.data), version: op.version }
    case "Check":
      return { type: Op.check, path: conn.toServer(op.path), version: op.version }
  }
}

/** The multi request of `ops`. */
export const multiRequest = (conn: Connection, ops: ReadonlyArray<WriteOp>): Request => ({
  type: Op.multi,
  ops: ops.map((op) => writeOpRequest(conn, op))
})

/** The op that failed the transaction (the first that is not Ok or RuntimeInconsistency), if any. */
const multiFailure = (ops: ReadonlyArray<WriteOp>, results: ReadonlyArray<MultiResult>): MultiError | undefined => {
  let index = -1
  const codes = results.map((res, i) => {
    const code = res.type === Op.error ? errName(res.err) : "Ok"
    if (index < 0 && code !== "Ok" && code !== "RuntimeInconsistency") index = i
    return code
  })
  if (index < 0) index = codes.findIndex((c) => c !== "Ok")
  if (index < 0) return undefined
  return new MultiError({ code: codes[index]!, path: ops[index]?.path ?? "", index, results: codes })
}

const writeResult = (conn: Connection, res: MultiResult): WriteResult => {
  switch (res.type) {
    case Op.create:
      return { _tag: "Create", path: conn.toClient(res.path), stat: Option.none() }
    case Op.create2:
      return { _tag: "Create", path: conn.toClient(res.path), stat: Option.some(res.stat) }
    case Op.delete:
      return { _tag: "Delete" }
    case Op.setData:
      return { _tag: "SetData", stat: res.stat }
    default:
      return { _tag: "Check" }
  }
}

/** The reply to `multiRequest(conn, ops)`: one result per op, or the failure. */
export const multiReply = (conn: Connection, ops: ReadonlyArray<WriteOp>) =>
(err: number, r: JuteReader): Exit.Exit<ReadonlyArray<WriteResult>, KeeperError | MultiError> => {
  if (err !== 0) return Exit.fail(keeperError(err, ops[0]?.path ?? ""))
  const results = readMultiResponse(r)
  const failure = multiFailure(ops, results)
  return failure === undefined ? Exit.succeed(results.map((res) => writeResult(conn, res))) : Exit.fail(failure)
}

/** The multiRead request of `ops`. */
export const multiReadRequest = (conn: Connection, ops: ReadonlyArray<ReadOp>): Request => ({
  type: Op.multiRead,
  ops: ops.map((op) => ({
    type: op._tag === "GetData" ? Op.getData : Op.getChildren,
    path: conn.toServer(op.path),
    watch: false
  }))
})

/** The body of a multiRead reply: each op's result or its own failure, in the ops' order. */
export const readMultiRead = (ops: ReadonlyArray<ReadOp>) => (r: JuteReader) =>
  readMultiResponse(r).map((res, i): Either.Either<ReadResult, KeeperError> => {
    switch (res.type) {
      case Op.getData:
        return Either.right({ _tag: "GetData", data: res.data, stat: res.stat })
      case Op.getChildren:
        return Either.right({ _tag: "GetChildren", children: res.children })
      case Op.error:
        return Either.left(keeperError(res.err, ops[i]?.path ?? ""))
      default:
        return Either.left(keeperError(Err.MarshallingError, ops[i]?.path ?? ""))
    }
  })
