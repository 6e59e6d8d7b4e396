/** Small helpers shared by the client suites. */
import { Effect, Either, Option, type Scope, Stream } from "effect"
import { ConnectString, ZooKeeper, type ZooKeeperError } from "../../src/client/index.js"
import type { TargetUnderTest } from "../support/targets.js"
import { startProxy } from "./proxy.js"

const decoder = new TextDecoder()

/** Node data as text (null stays null). */
export const text = (data: Uint8Array | null): string | null => (data === null ? null : decoder.decode(data))

let counter = 0
/** A fresh top-level path per test, so tests sharing one server never collide. */
export const freshPath = (name: string): string => `/${name}-${process.pid}-${Date.now().toString(36)}-${counter++}`

/** A client on `connectString` with test-friendly defaults. */
export const client = (
  connectString: string,
  options: Partial<ZooKeeper.Options> = {}
): Effect.Effect<ZooKeeper.Client, ZooKeeperError.ZkError, Scope.Scope> =>
  ZooKeeper.make({ connectString, sessionTimeoutMs: 10_000, reconnectDelayMs: 200, ...options })

/** The failure of an Effect (fails the test if it succeeded). */
export const failure = <A, E, R>(self: Effect.Effect<A, E, R>): Effect.Effect<E, never, R> =>
  Effect.flatMap(Effect.either(self), (e) =>
    Either.isLeft(e) ? Effect.succeed(e.left) : Effect.dieMessage(`expected a failure, got ${JSON.stringify(e.right, replacer)}`))

const replacer = (_: string, v: unknown) => (typeof v === "bigint" ? v.toString() : v)

/** Waits until the client's state stream reaches `state` (bounded). */
export const awaitState = (zk: ZooKeeper.Client, state: ZooKeeper.SessionState, timeoutMs = 15_000) =>
  zk.states.pipe(
    Stream.filter((s) => s === state),
    Stream.runHead,
    Effect.timeoutFail({ duration: timeoutMs, onTimeout: () => new Error(`state ${state} not reached in ${timeoutMs}ms`) }),
    Effect.orDie,
    Effect.asVoid
  )

/** Polls `check` every 100 ms until it returns true (bounded). */
export const eventually = <E, R>(check: Effect.Effect<boolean, E, R>, timeoutMs = 15_000, what = "condition") =>
  Effect.gen(function*() {
    const deadline = Date.now() + timeoutMs
    while (Date.now() < deadline) {
      if (yield* check) return
      yield* Effect.sleep(100)
    }
    return yield* Effect.dieMessage(`${what} not reached within ${timeoutMs}ms`)
  })

/** True if the Effect does not complete within `ms` (e.g. a one-shot watch that must not fire again). */
export const staysPending = <A, E, R>(self: Effect.Effect<A, E, R>, ms: number): Effect.Effect<boolean, never, R> =>
  Effect.map(Effect.timeoutOption(Effect.either(self), ms), Option.isNone)

/** Sorted copy, since the server returns children in hash order. */
export const sorted = (xs: ReadonlyArray<string>): Array<string> => [...xs].sort()

/**
 * A suite's `connect` (a client of its server), `target` (the server's first address) and `proxy` (a
 * scoped proxy in front of it, for cutting and holding a client's link).
 */
export const serverClients = (server: { readonly connectString: () => string }) => {
  const connect = (options: Partial<ZooKeeper.Options> = {}) => client(server.connectString(), options)
  const target = () => {
    const parsed = ConnectString.parse(server.connectString())
    if (typeof parsed === "string") throw new Error(parsed)
    return parsed.servers[0]!
  }
  const proxy = Effect.acquireRelease(Effect.promise(() => startProxy(target())), (p) => Effect.promise(() => p.close()))
  return { connect, proxy, target }
}

/** `serverClients` of a target (test/support/targets.ts): a standalone server or a 3-peer ensemble. */
export const targetClients = (target: TargetUnderTest) => serverClients({ connectString: () => target.server().connectString })
