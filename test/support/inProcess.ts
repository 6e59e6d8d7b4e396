/**
 * A standalone ezk server and Effect clients in one process on the memory network, driven by
 * TestClock: time only moves when a test says so, so timers (session expiry, pings, reaping) are
 * tested at exact instants instead of in wall-clock windows.
 */
import { Clock, Context, Duration, Effect, Fiber, Layer, Option, Scope, TestClock } from "effect"
import { ZooKeeper, type ZooKeeperError } from "../../src/client/index.js"
import * as Disk from "../../src/disk/Disk.js"
import * as Memory from "../../src/net/Memory.js"
import { Transport } from "../../src/net/Transport.js"
import type * as Config from "../../src/server/Config.js"
import * as Server from "../../src/server/Server.js"
import * as Testing from "../../src/server/Testing.js"

/** The server's host on the memory network; clients connect to `server:2181`. */
export const SERVER = "server"
/** Clock steps while driving: small next to any timer under test, so instants are exact to one step. */
export const STEP_MS = 10
/** The stretch before a target instant that `advanceTo` covers in STEP_MS steps. */
const FINE_MS = 100

export interface InProcess {
  readonly network: Memory.Network
  readonly server: Server.RunningServer
  /** A client on machine `host` (one host per client, so the network can cut them apart). */
  readonly client: (host: string, options?: Partial<ZooKeeper.Options>) => Effect.Effect<ZooKeeper.Client, ZooKeeperError.ZkError, Scope.Scope>
}

/** Starts a server (TestClock at 0 unless the test moved it) in the test's scope. */
export const standalone = (overrides: Partial<Config.ZkConfig> = {}): Effect.Effect<InProcess, never, Scope.Scope> =>
  Effect.gen(function*() {
    const network = yield* Memory.makeNetwork({ seed: 11, latencyMs: 1 })
    const context = yield* Layer.build(
      Testing.layerOnDisk({ clientPort: 2181, ...overrides }).pipe(
        Layer.provide(Disk.layerMemory()),
        Layer.provide(Layer.succeed(Transport, network.transportFor(SERVER)))
      )
    ).pipe(Effect.orDie, drivenScope)
    return {
      network,
      server: Context.get(context, Server.ZkServer),
      client: (host, options = {}) =>
        ZooKeeper.make({ connectString: `${SERVER}:2181`, sessionTimeoutMs: 10_000, reconnectDelayMs: 200, ...options }).pipe(
          Effect.provideService(Transport, network.transportFor(host)),
          drivenScope
        )
    }
  })

/**
 * Runs `eff` in a scope of its own that the caller's scope closes while moving TestClock: closing
 * waits on the network and timers (a client's closeSession), which a frozen clock would never deliver.
 */
export const drivenScope = <A, E, R>(eff: Effect.Effect<A, E, R>): Effect.Effect<A, E, Exclude<R, Scope.Scope> | Scope.Scope> =>
  Effect.gen(function*() {
    const scope = yield* Scope.make()
    yield* Effect.addFinalizer((exit) => run(Scope.close(scope, exit)))
    return yield* Scope.extend(eff, scope)
  })

/** Runs `eff` (forked, in the caller's scope) while moving TestClock in steps, until it completes. */
export const run = <A, E, R>(eff: Effect.Effect<A, E, R>, maxMs = 120_000): Effect.Effect<A, E, R> =>
  Effect.gen(function*() {
    const fiber = yield* Effect.fork(eff)
    // Fine steps first (most requests finish within a few); then coarser, for long waits such as a reconnect.
    for (let t = 0; t <= maxMs && Option.isNone(yield* Fiber.poll(fiber));) {
      const step = t < 20 * STEP_MS ? STEP_MS : 10 * STEP_MS
      yield* TestClock.adjust(Duration.millis(step))
      t += step
    }
    return yield* Fiber.join(fiber)
  })

export const now: Effect.Effect<number> = Clock.currentTimeMillis

/**
 * Moves TestClock up to `at` (ms since the test started): in coarse steps (each costs real time)
 * until FINE_MS before it, then in STEP_MS steps, so what a test checks at `at` is exact to one
 * step. TestClock still wakes every sleeper inside a coarse step in order, at its own instant.
 */
export const advanceTo = (at: number, coarseStepMs = 1000): Effect.Effect<void> =>
  Effect.gen(function*() {
    for (let t = yield* now; t < at; t = yield* now) {
      const left = at - t
      yield* TestClock.adjust(Duration.millis(left > FINE_MS ? Math.min(coarseStepMs, left - FINE_MS) : Math.min(STEP_MS, left)))
    }
  })

/** Moves TestClock by `ms`, in steps (pass STEP_MS as `coarseStepMs` to keep every step fine). */
export const advance = (ms: number, coarseStepMs?: number): Effect.Effect<void> => Effect.flatMap(now, (t) => advanceTo(t + ms, coarseStepMs))
