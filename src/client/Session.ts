/**
 * The session as the unit of ownership. A client built with `ZooKeeper.make` is scoped: closing
 * its Scope closes the session, and with it every ephemeral node, watch and recipe. This module
 * turns the raw session states into the connection states recipes reason about (Curator's
 * ConnectionState), and gives the two signals holders need: `lost` (fails when the session is
 * gone, or optionally as soon as the connection is suspended) and `guard` (runs an Effect and
 * interrupts it with that typed failure).
 *
 * Why "suspended" matters: while the client is disconnected it cannot know whether the server
 * has already expired the session and handed the lock to someone else. A holder that stops at
 * suspension normally stops before the server expires the session (the link is declared dead
 * after 2/3 of the timeout); one that waits for the expiry notice (which only arrives after
 * reconnecting) overlaps with the next holder, and only fencing tokens protect the resource.
 */
import { Effect, Option, Schema, type Scope, Stream, SubscriptionRef } from "effect"
import type { Client, SessionState } from "./ZooKeeper.js"

/**
 * What recipes react to. "Connected" (first time), "Suspended" (the link is gone, the session
 * may live), "Reconnected" (same session back), "ReadOnly" (a read-only server), "Expired",
 * "Closed" (by this client), "AuthFailed".
 */
export type ConnectionState = "Connected" | "Suspended" | "Reconnected" | "ReadOnly" | "Expired" | "Closed" | "AuthFailed"

/** When a holder counts as having lost what it holds. */
export type LoseOn =
  /** As soon as the connection is suspended: normally no overlap with the next holder, at the price of spurious losses. */
  | "suspended"
  /** Only when the session is known to be expired: fewer losses; the fencing token must guard the rest. */
  | "expired"

/** Why a holder lost its lock, lease or leadership. */
export class LeaseLost extends Schema.TaggedError<LeaseLost>()("LeaseLost", {
  path: Schema.String,
  reason: Schema.Literal("Suspended", "Expired", "Closed", "AuthFailed", "Deleted")
}) {
  override get message(): string {
    return `lost ${this.path}: ${this.reason}`
  }
}

const next = (previous: ConnectionState | null, state: SessionState): ConnectionState => {
  switch (state) {
    case "Connected":
      return previous === null || previous === "Connected" ? "Connected" : "Reconnected"
    case "ConnectedReadOnly":
      return "ReadOnly"
    // A client is only handed out once connected, so any disconnection is a suspension.
    case "Disconnected":
      return "Suspended"
    default:
      return state
  }
}

/** The client's connection states as a Stream: the current one first, then every change. */
export const connectionStates = (zk: Client): Stream.Stream<ConnectionState> =>
  zk.states.pipe(
    Stream.mapAccum(null as ConnectionState | null, (previous, state) => {
      const out = next(previous, state)
      return [out, out]
    }),
    Stream.changes
  )

/** The connection state as a SubscriptionRef kept current for the life of the Scope. */
export const connectionState = (zk: Client): Effect.Effect<SubscriptionRef.SubscriptionRef<ConnectionState>, never, Scope.Scope> =>
  Effect.gen(function*() {
    const ref = yield* SubscriptionRef.make<ConnectionState>(next(null, yield* zk.state))
    yield* connectionStates(zk).pipe(Stream.runForEach((s) => SubscriptionRef.set(ref, s)), Effect.forkScoped)
    return ref
  })

const lossReason = (state: ConnectionState, loseOn: LoseOn): LeaseLost["reason"] | null => {
  switch (state) {
    case "Expired":
    case "Closed":
    case "AuthFailed":
      return state
    case "Suspended":
      return loseOn === "suspended" ? "Suspended" : null
    default:
      return null
  }
}

/** Fails with LeaseLost(path) once the session is lost (or suspended, with loseOn "suspended"); never succeeds. */
export const lost = (zk: Client, path: string, loseOn: LoseOn = "suspended"): Effect.Effect<never, LeaseLost> =>
  connectionStates(zk).pipe(
    Stream.map((s) => lossReason(s, loseOn)),
    Stream.filter((reason) => reason !== null),
    Stream.runHead,
    // The state stream only ends with the client, which counts as closed.
    Effect.flatMap((reason) => new LeaseLost({ path, reason: Option.getOrElse(reason, () => "Closed" as const) }))
  )

/**
 * Runs `self`, interrupting it as soon as the session is lost (see `lost`); it then fails with
 * LeaseLost. This is how recipes stop a holder that no longer owns what it holds.
 */
export const guard = (zk: Client, path: string, loseOn: LoseOn = "suspended") =>
<A, E, R>(self: Effect.Effect<A, E, R>): Effect.Effect<A, E | LeaseLost, R> => Effect.raceFirst(self, lost(zk, path, loseOn))
