/**
 * The standalone server as an Effect Layer: recovers the data dir, runs ServerCore behind a TCP
 * listener, and owns the long-lived fibers (group commit, session expiry, container reaping,
 * snapshots, autopurge) in its Scope — closing the scope stops accepting, commits what is
 * pending, syncs the log and closes every socket, so the next start recovers instantly.
 */
import { readFile } from "node:fs/promises"
import { resolve as resolvePath } from "node:path"
import { type Clock, Context, Effect, Layer, Runtime, type Scope } from "effect"
import * as AuthProviders from "../auth/Digest.js"
import { parseServerUsers } from "../auth/Jaas.js"
import { Disk } from "../disk/Disk.js"
import * as Purge from "../storage/Purge.js"
import * as Storage from "../storage/Storage.js"
import { isQuorum, type ZkConfig } from "./Config.js"
import * as ClientPort from "./ClientPort.js"
import type { CoreClock, CoreConfig, CoreLogger } from "./CoreConfig.js"
import { ServerCore } from "./ServerCore.js"
import * as GroupCommit from "./commit/GroupCommit.js"
import * as Snapshots from "./commit/Snapshots.js"
import { ServerError } from "./ServerError.js"

/** A running server: where it listens and its core (for tests, 4lw and the admin surface). */
export interface RunningServer {
  readonly host: string
  readonly port: number
  readonly core: ServerCore
  readonly dataDir: string
  readonly dataLogDir: string
}

export class ZkServer extends Context.Tag("ezk/server/ZkServer")<ZkServer, RunningServer>() {}

/** The pipeline's settings from the config; `serverId` goes into session ids (1 standalone, the sid in an ensemble). */
export const coreConfig = (config: ZkConfig, saslUsers: ReadonlyMap<string, string> | null, serverId = 1): CoreConfig => ({
  serverId,
  tickTime: config.tickTime,
  minSessionTimeout: config.minSessionTimeout,
  maxSessionTimeout: config.maxSessionTimeout,
  maxClientCnxns: config.maxClientCnxns,
  maxFrame: config.juteMaxBuffer,
  extendedTypes: config.extendedTypesEnabled,
  digestEnabled: config.digestEnabled,
  saslUsers,
  saslSuperUser: config.superUser,
  saslAclEnabled: config.authProviders.includes("sasl"),
  containerMaxNeverUsedMs: config.containerMaxNeverUsedIntervalMs,
  containerMaxPerMinute: config.containerMaxPerMinute,
  sessionlessCnxnTimeoutMs: config.sessionlessCnxnTimeoutMs,
  outstandingLimit: config.globalOutstandingLimit,
  enforceAuthSchemes: config.enforceAuthSchemes
})

/** One line on what recovery loaded (recovery itself warns about anything skipped, repaired or unchecked). */
export const logRecovery = (r: Storage.Store["recovery"], ms: number): Effect.Effect<void> => {
  const from = r.created ? "a new empty database" : r.snapshot === null ? "no snapshot" : r.snapshot.name
  return Effect.logInfo(`recovered ${r.tree.nodeCount} znodes from ${from} + ${r.replayedTxns} txns in ${ms} ms, last zxid 0x${r.lastZxid.toString(16)}`)
}

/** SASL users from the JAAS file's server section (a config file: read from the real file system). */
export const readJaas = (path: string, section: string): Effect.Effect<ReadonlyMap<string, string>, ServerError> =>
  Effect.tryPromise({
    try: () => readFile(path, "utf8"),
    catch: (e) => new ServerError({ reason: "BadConfig", message: `cannot read JAAS file ${path}: ${(e as Error).message}` })
  }).pipe(
    Effect.flatMap((text) => parseServerUsers(text, path, section)),
    Effect.mapError((e) => (e instanceof ServerError ? e : new ServerError({ reason: "BadConfig", message: e.message })))
  )

/** Effect logging from synchronous core code. */
/** autopurge.purgeInterval / snapRetainCount over the store's directories (standalone and quorum peers alike). */
export const autopurge = (config: ZkConfig, store: Storage.Store): Effect.Effect<void, never, Disk | Scope.Scope> =>
  Purge.schedule({
    snapDir: store.snapDir,
    logDir: store.logDir,
    snapRetainCount: config.autopurgeSnapRetainCount,
    purgeIntervalHours: config.autopurgePurgeInterval
  })

/**
 * The core's clocks from Effect's Clock, in whole ms: times go into txns and stats as longs, and a
 * virtual clock can stand at a fraction of a ms (a jittered sleep under TestClock or the simulation).
 */
export const coreClock = (clock: Clock.Clock): CoreClock => ({
  nowMs: () => Math.floor(clock.unsafeCurrentTimeMillis()),
  monotonicMs: () => Number(clock.unsafeCurrentTimeNanos() / 1_000_000n)
})

export const makeLogger = (runtime: Runtime.Runtime<never>): CoreLogger => {
  const run = Runtime.runSync(runtime)
  return {
    debug: (m) => run(Effect.logDebug(m)),
    info: (m) => run(Effect.logInfo(m)),
    warn: (m) => run(Effect.logWarning(m)),
    error: (m) => run(Effect.logError(m))
  }
}

/** Starts a server in the current scope; fails with a one-line ServerError when it cannot. */
export const make = (config: ZkConfig): Effect.Effect<RunningServer, ServerError, Scope.Scope | Disk> =>
  Effect.gen(function* () {
    // A quorum config must never start an independent standalone database on each node.
    if (isQuorum(config.quorum)) {
      return yield* new ServerError({
        reason: "BadConfig",
        message: `${config.source ?? "the config"} lists server.N peers: that is a replicated ensemble member (QuorumServer), not a standalone server`
      })
    }
    const runtime = yield* Effect.runtime<never>()
    const logger = makeLogger(runtime)
    const clock = yield* Effect.clock
    const saslUsers =
      config.jaasLoginConfig === undefined
        ? null
        : yield* readJaas(config.jaasLoginConfig, config.jaasServerSection)
    const cfg = coreConfig(config, saslUsers)

    const clientPort = yield* ClientPort.open(config, logger)
    const { host, port } = clientPort

    yield* Effect.logInfo(`recovering data dir ${config.dataDir} (txn logs in ${config.dataLogDir})`)
    const recoveryStarted = clock.unsafeCurrentTimeMillis()
    const store = yield* Storage.openStandalone({
      dataDir: config.dataDir,
      dataLogDir: config.dataLogDir,
      tree: { extendedTypes: cfg.extendedTypes, digestEnabled: cfg.digestEnabled },
      preAllocSizeBytes: config.preAllocSizeBytes
    }).pipe(Effect.mapError((e) => new ServerError({ reason: "DataDir", message: `cannot use data dir ${config.dataDir}: ${e.message}` })))
    yield* logRecovery(store.recovery, clock.unsafeCurrentTimeMillis() - recoveryStarted)

    let core: ServerCore | null = null
    const commit = yield* GroupCommit.start(store, () => core!)
    core = new ServerCore(
      cfg,
      store.tree,
      commit.stage,
      coreClock(clock),
      AuthProviders.make({ superDigest: config.superDigest }),
      logger
    )

    // Session expiry in tick buckets, container/TTL reaping, autopurge.
    yield* ClientPort.startTimers(config, clientPort.current, config.containerCheckIntervalMs)
    yield* autopurge(config, store)
    core.onCommitted = (yield* Snapshots.start(store, config.snapCount)).committed

    // Four-letter words share the registry with the CLI; they answer and close.
    yield* ClientPort.installFourLetterWords(core, config, store, port)

    // Shutdown, in reverse: stop accepting → commit what was prepared → close sockets → close the log.
    yield* Effect.addFinalizer(() =>
      Effect.gen(function* () {
        core.serving = false
        yield* commit.commitOnce
        core.closeAll("server shutting down")
        yield* store.close.pipe(Effect.ignore)
        yield* Effect.logInfo("ezk stopped; txn log synced")
      })
    )

    clientPort.attach(core)
    yield* Effect.logInfo(`ezk serving on ${host}:${port}, dataDir ${resolvePath(store.dataDir)}, dataLogDir ${resolvePath(store.dataLogDir)}, last zxid 0x${store.tree.lastProcessedZxid.toString(16)}`)
    return { host, port, core, dataDir: store.dataDir, dataLogDir: store.dataLogDir }
  })

/** The server as a Layer (an app or a test suite can start one in-process). */
export const layer = (config: ZkConfig): Layer.Layer<ZkServer, ServerError, Disk> => Layer.scoped(ZkServer, make(config))

/** Runs a server until interrupted (SIGTERM/SIGINT via runMain), then shuts it down gracefully. */
export const run = (config: ZkConfig): Effect.Effect<never, ServerError, Disk> => Layer.launch(layer(config))

