/**
 * How the Promise facade runs Effects: every call takes an optional AbortSignal (aborting
 * interrupts the request or wait), failures reject with the typed error itself (an Error with
 * `_tag`, and `code` for server errors), and scoped resources become handles with `close()`.
 */
import { Cause, Effect, Exit, Option, Scope } from "effect"
import type { Call } from "../internal/calls.js"
import type { Direct } from "../internal/operations.js"

/** Options every facade call accepts. */
export interface CallOptions {
  /** Aborting rejects the call (with an AbortError-like interruption) and cancels what it waits for. */
  readonly signal?: AbortSignal
}

const abortError = (): Error => {
  const error = new Error("the call was aborted")
  error.name = "AbortError"
  return error
}

/** What a failed call rejects with: the typed failure itself, or an AbortError if interrupted. */
const rejection = <E>(cause: Cause.Cause<E>): unknown => {
  const failure = Cause.failureOption(cause)
  if (Option.isSome(failure)) return failure.value
  return Cause.isInterruptedOnly(cause) ? abortError() : Cause.squash(cause)
}

/** Runs `self`; rejects with its typed failure (not a FiberFailure wrapper) or an AbortError. */
export const run = async <A, E>(self: Effect.Effect<A, E>, options: CallOptions = {}): Promise<A> => {
  const exit = await Effect.runPromiseExit(self, options.signal === undefined ? {} : { signal: options.signal })
  if (Exit.isSuccess(exit)) return exit.value
  throw rejection(exit.cause)
}

/**
 * Runs one plain request straight on the session, settled from the read loop: the same outcome
 * as `run` on the Effect operation, without a fiber per call (the facade's hot path).
 */
export const runCall = <A, E>(direct: Direct, call: Call<A, E>, options: CallOptions = {}): Promise<A> =>
  new Promise<A>((resolve, reject) => {
    const signal = options.signal
    if (signal?.aborted === true) return reject(abortError())
    let onAbort: (() => void) | undefined
    const pending = direct.conn.start(call.request.type, call.request, call.reply, (exit) => {
      if (onAbort !== undefined) signal!.removeEventListener("abort", onAbort)
      if (Exit.isSuccess(exit)) resolve(exit.value)
      else reject(rejection(exit.cause))
    })
    if (signal !== undefined && pending.resume !== null) {
      onAbort = () => {
        direct.conn.cancel(pending)
        reject(abortError())
      }
      signal.addEventListener("abort", onAbort, { once: true })
    }
  })

/** Reads state synchronously (SubscriptionRef gets, session info). */
export const runNow = <A>(self: Effect.Effect<A>): A => Effect.runSync(self)

/** Runs `self` in the background (watch deliveries, event pumps). */
export const background = <A, E>(self: Effect.Effect<A, E>): void => {
  Effect.runFork(self)
}

/** A new Scope, closed by `closeScope`. */
export const newScope = (): Scope.CloseableScope => Effect.runSync(Scope.make())

/** Closes a Scope made by `newScope`. */
export const closeScope = (scope: Scope.CloseableScope): Promise<void> => Effect.runPromise(Scope.close(scope, Exit.void))

/** A resource held until `close()`. */
export interface Handle {
  /** Releases the resource (idempotent). */
  readonly close: () => Promise<void>
}

/** Acquires a scoped resource into its own Scope; returns the value and the Scope's closer. */
export const acquire = async <A, E>(
  self: Effect.Effect<A, E, Scope.Scope>,
  options: CallOptions = {}
): Promise<{ readonly value: A; readonly close: () => Promise<void> }> => {
  const scope = newScope()
  const close = () => closeScope(scope)
  try {
    const value = await run(Scope.extend(self, scope), options)
    return { value, close }
  } catch (e) {
    await close()
    throw e
  }
}
