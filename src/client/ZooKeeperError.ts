/**
 * Typed failures of the ZooKeeper client. Server error codes become `KeeperError`; the two
 * client-side conditions every caller must plan for (a lost connection, a dead session) get
 * their own tags so `Effect.catchTag` can tell "retry" from "start over".
 */
import { Schema } from "effect"
import { Err, type ErrName } from "../wire/Codes.js"

/** Name of a KeeperException.Code (client.md §12), or "Unknown" for a code we do not know. */
export type ErrCode = ErrName | "Unknown"

const errCodes = ["Unknown", ...(Object.keys(Err) as Array<ErrName>)] as [ErrCode, ...Array<ErrCode>]

/** Schema of an error code name; shared by every error that carries one. */
export const ErrCode: Schema.Schema<ErrCode> = Schema.Literal(...errCodes)

/** A request the server answered with a non-zero error code (ReplyHeader.err), e.g. NoNode. */
export class KeeperError extends Schema.TaggedError<KeeperError>()("KeeperError", {
  code: ErrCode,
  path: Schema.String
}) {
  override get message(): string {
    return this.path === "" ? this.code : `${this.code}: ${this.path}`
  }
}

/**
 * The connection broke (or could not be made) before the reply arrived. The request may or may
 * not have been applied; the session is still alive and the client is reconnecting.
 */
export class ConnectionLoss extends Schema.TaggedError<ConnectionLoss>()("ConnectionLoss", {
  reason: Schema.String
}) {
  override get message(): string {
    return `ConnectionLoss: ${this.reason}`
  }
}

/**
 * The session is gone for good: the server expired it ("Expired") or this client closed it
 * ("Closed"). Every pending and later request fails with this; ephemerals and watches are lost.
 */
export class SessionExpired extends Schema.TaggedError<SessionExpired>()("SessionExpired", {
  sessionId: Schema.BigIntFromSelf,
  reason: Schema.Literal("Expired", "Closed")
}) {
  override get message(): string {
    return `SessionExpired: session 0x${this.sessionId.toString(16)} ${this.reason === "Closed" ? "was closed" : "expired"}`
  }
}

/**
 * A multi (opcode 14) that the server rejected as a whole. `results` holds one code per op as
 * ZooKeeper reports them: "Ok" before the failing op, its code, "RuntimeInconsistency" after.
 */
export class MultiError extends Schema.TaggedError<MultiError>()("MultiError", {
  /** Code of the op that failed. */
  code: ErrCode,
  /** Path of the op that failed. */
  path: Schema.String,
  /** Index of the op that failed. */
  index: Schema.Number,
  results: Schema.Array(ErrCode)
}) {
  override get message(): string {
    return `multi failed at op ${this.index}: ${this.code}: ${this.path}`
  }
}

/** A persistent-watch subscriber fell more than `capacity` events behind and was dropped. */
export class WatchOverflow extends Schema.TaggedError<WatchOverflow>()("WatchOverflow", {
  path: Schema.String,
  capacity: Schema.Number
}) {
  override get message(): string {
    return `watch on ${this.path} overflowed its buffer of ${this.capacity} events`
  }
}

/** What a single request can fail with. */
export type ZkError = KeeperError | ConnectionLoss | SessionExpired
