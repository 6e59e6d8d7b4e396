/**
 * The standalone server as an Effect Layer: recovers the data dir, runs ServerCore behind a TCP
 * listener, and owns the long-lived fibers (group commit, session expiry, container reaping,
 * snapshots, autopurge) in its Scope — closing the scope stops accepting, commits what is
 * pending, syncs the log and closes every socket, so the next start recovers instantly.
 */
import { readFile } from "node:fs/promises"
import * as net from "node:net"
import { resolve as resolvePath } from "node:path"
import { Context, Duration, Effect, Layer, Random, Runtime, Schedule, type Scope } from "effect"
import * as AuthProviders from "../auth/Digest.js"
import { parseServerUsers } from "../auth/Jaas.js"
import { Disk } from "../disk/Disk.js"
import * as Storage from "../storage/Storage.js"
import { isQuorum, type ZkConfig } from "./Config.js"
import { type Connection, PAUSE_OUTPUT } from "./Connection.js"
import * as FourLetter from "./fourLetter/Commands.js"
import { type CoreConfig, type CoreLogger, ServerCore } from "./ServerCore.js"
import { makeView } from "./View.js"
import { EZK_VERSION } from "../Version.js"
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

/** Longest wait for expected writers before a sync starts (see `gather`). */
const GATHER_MAX_NS = 150_000n

/** One turn of the event loop, so sockets deliver what has arrived (Effect.yieldNow is a microtask). */
const ioTurn = Effect.async<void>((resume) => {
  setImmediate(() => resume(Effect.void))
})

/** How often a full batch is retried after a failed sync (disk full, I/O error). */
const SYNC_RETRY = Schedule.exponential(Duration.millis(50), 2).pipe(Schedule.union(Schedule.spaced(Duration.seconds(5))))

const coreConfig = (config: ZkConfig, saslUsers: ReadonlyMap<string, string> | null): CoreConfig => ({
  serverId: 1,
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
const logRecovery = (r: Storage.Store["recovery"], ms: number): Effect.Effect<void> => {
  const from = r.created ? "a new empty database" : r.snapshot === null ? "no snapshot" : r.snapshot.name
  return Effect.logInfo(`recovered ${r.tree.nodeCount} znodes from ${from} + ${r.replayedTxns} txns in ${ms} ms, last zxid 0x${r.lastZxid.toString(16)}`)
}

/** SASL users from the JAAS file's server section (a config file: read from the real file system). */
const readJaas = (path: string, section: string): Effect.Effect<ReadonlyMap<string, string>, ServerError> =>
  Effect.tryPromise({
    try: () => readFile(path, "utf8"),
    catch: (e) => new ServerError({ reason: "BadConfig", message: `cannot read JAAS file ${path}: ${(e as Error).message}` })
  }).pipe(
    Effect.flatMap((text) => parseServerUsers(text, path, section)),
    Effect.mapError((e) => (e instanceof ServerError ? e : new ServerError({ reason: "BadConfig", message: e.message })))
  )

/** Effect logging from synchronous core code. */
const makeLogger = (runtime: Runtime.Runtime<never>): CoreLogger => {
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
        message: `${config.source ?? "the config"} lists server.N peers (a replicated ensemble), which this build cannot run yet; refusing to start a standalone server that clients would take for the ensemble`
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

    // Bind the client port first: a port conflict must not touch the data dir. Connections that
    // arrive before recovery finishes wait for the core.
    const gate: { core: ServerCore | null; waiting: Array<net.Socket> } = { core: null, waiting: [] }
    const { host, port } = yield* listen(config, logger, (socket) => (gate.core === null ? void gate.waiting.push(socket) : onSocket(gate.core, socket)))

    yield* Effect.logInfo(`recovering data dir ${config.dataDir} (txn logs in ${config.dataLogDir})`)
    const recoveryStarted = clock.unsafeCurrentTimeMillis()
    const store = yield* Storage.openStandalone({
      dataDir: config.dataDir,
      dataLogDir: config.dataLogDir,
      tree: { extendedTypes: cfg.extendedTypes, digestEnabled: cfg.digestEnabled },
      preAllocSizeBytes: config.preAllocSizeBytes
    }).pipe(Effect.mapError((e) => new ServerError({ reason: "DataDir", message: `cannot use data dir ${config.dataDir}: ${e.message}` })))
    yield* logRecovery(store.recovery, clock.unsafeCurrentTimeMillis() - recoveryStarted)

    const core = new ServerCore(
      cfg,
      store.tree,
      store.log,
      { nowMs: () => clock.unsafeCurrentTimeMillis(), monotonicMs: () => Number(clock.unsafeCurrentTimeNanos() / 1_000_000n) },
      AuthProviders.make({ superDigest: config.superDigest }),
      logger
    )

    // Group commit: one log write (O_DSYNC) per batch; the batch is acknowledged only after it.
    const latch = yield* Effect.makeLatch(false)
    core.wake = () => latch.unsafeOpen()
    const snapshotting = { running: false }
    // ZooKeeper snapshots after snapCount/2 + rand(snapCount/2) txns, so peers do not snapshot together.
    const half = Math.max(1, Math.floor(config.snapCount / 2))
    const snapThreshold = Effect.map(Random.nextIntBetween(0, half), (r) => half + r)
    let nextSnapshotAt = yield* snapThreshold
    const commitOnce = Effect.suspend(() => {
      const batch = core.takeBatch()
      if (batch.length === 0) return Effect.void
      const started = clock.unsafeCurrentTimeNanos()
      return store.log.sync.pipe(
        Effect.tapError((e) => Effect.logError(`txn log sync failed, retrying (writes wait, nothing is acknowledged): ${e.message}`)),
        Effect.retry(SYNC_RETRY),
        Effect.zipRight(
          Effect.sync(() => {
            core.stats.fsyncMs.record(Number(clock.unsafeCurrentTimeNanos() - started) / 1e6)
            core.stats.batchSize.record(batch.length)
            core.commit(batch)
          })
        )
      )
    })
    const maybeSnapshot = Effect.suspend(() => {
      if (snapshotting.running || core.txnsSinceSnapshot < nextSnapshotAt) return Effect.void
      snapshotting.running = true
      core.txnsSinceSnapshot = 0
      store.log.roll()
      return Effect.zipRight(
        Effect.map(snapThreshold, (n) => void (nextSnapshotAt = n)),
        store.snapshot
      ).pipe(
        Effect.tapError((e) => Effect.logError(`snapshot failed: ${e.message}`)),
        Effect.ignore,
        Effect.ensuring(Effect.sync(() => (snapshotting.running = false))),
        Effect.forkScoped,
        Effect.asVoid
      )
    })
    // Group commit waits briefly for the clients it just answered: a client writing in a loop sends
    // its next write within tens of µs, and catching it saves that client a whole extra sync.
    const gather = Effect.suspend(() => {
      const expected = core.recentWriters
      if (core.batchSize >= expected) return Effect.void
      const until = clock.unsafeCurrentTimeNanos() + GATHER_MAX_NS
      const loop: Effect.Effect<void> = Effect.suspend(() =>
        core.batchSize >= expected || clock.unsafeCurrentTimeNanos() >= until ? Effect.void : Effect.zipRight(ioTurn, loop)
      )
      return loop
    })
    yield* Effect.gen(function* () {
      for (;;) {
        yield* latch.await
        yield* gather
        yield* latch.close
        yield* Effect.uninterruptible(commitOnce)
        yield* maybeSnapshot
      }
    }).pipe(Effect.forkScoped)

    // Session expiry in tick buckets, container/TTL reaping, autopurge.
    yield* Effect.sync(() => core.expireSessions()).pipe(Effect.repeat(Schedule.spaced(Duration.millis(config.tickTime))), Effect.forkScoped)
    const reapInterval = config.containerCheckIntervalMs
    yield* Effect.sync(() => core.reapContainers()).pipe(
      Effect.delay(Duration.millis(reapInterval)),
      Effect.repeat(Schedule.spaced(Duration.millis(reapInterval))),
      Effect.forkScoped
    )
    if (config.autopurgePurgeInterval > 0) {
      yield* store.purge(config.autopurgeSnapRetainCount).pipe(
        Effect.tapError((e) => Effect.logWarning(`autopurge failed: ${e.message}`)),
        Effect.ignore,
        Effect.repeat(Schedule.spaced(Duration.hours(config.autopurgePurgeInterval))),
        Effect.forkScoped
      )
    }

    // Four-letter words share the registry with the CLI; they answer and close.
    const disk = yield* Disk
    const dirSize = (dir: string) =>
      disk.list(dir).pipe(
        Effect.flatMap((names) => Effect.forEach(names, (n) => disk.size(`${dir}/${n}`).pipe(Effect.orElseSucceed(() => 0)))),
        Effect.map((sizes) => sizes.reduce((a, b) => a + b, 0)),
        Effect.orElseSucceed(() => 0)
      )
    const view = makeView(core, config, {
      dataDir: store.snapDir,
      dataLogDir: store.logDir,
      dirSizes: Effect.all({ dataDirSize: dirSize(store.snapDir), dataLogSize: dirSize(store.logDir) })
    }, EZK_VERSION, port)
    const runWord = Runtime.runFork(runtime)
    core.fourLetter = (conn: Connection, word: string) => {
      if (!FourLetter.isFourLetterWord(word)) return core.close(conn)
      const mask = word === "stmk" ? conn.splitter.rest() : undefined
      runWord(
        FourLetter.execute(view, config.fourLetterWordWhitelist, word, mask && mask.length >= 8 ? new DataView(mask.buffer, mask.byteOffset).getBigInt64(0) : undefined).pipe(
          Effect.flatMap((text) =>
            Effect.sync(() => {
              conn.socket.write(new TextEncoder().encode(text))
              conn.socket.end()
            })
          ),
          Effect.ensuring(Effect.sync(() => core.onClosed(conn)))
        )
      )
    }

    // Shutdown, in reverse: stop accepting → commit what was prepared → close sockets → close the log.
    yield* Effect.addFinalizer(() =>
      Effect.gen(function* () {
        core.serving = false
        yield* Effect.uninterruptible(commitOnce).pipe(Effect.ignore)
        core.closeAll("server shutting down")
        yield* store.close.pipe(Effect.ignore)
        yield* Effect.logInfo("ezk stopped; txn log synced")
      })
    )

    gate.core = core
    for (const socket of gate.waiting.splice(0)) onSocket(core, socket)
    yield* Effect.logInfo(`ezk serving on ${host}:${port}, dataDir ${resolvePath(store.dataDir)}, dataLogDir ${resolvePath(store.dataLogDir)}, last zxid 0x${store.tree.lastProcessedZxid.toString(16)}`)
    return { host, port, core, dataDir: store.dataDir, dataLogDir: store.dataLogDir }
  })

/** Binds the client port; the net.Server is closed when the scope closes. */
const listen = (
  config: ZkConfig,
  logger: CoreLogger,
  onConnection: (socket: net.Socket) => void
): Effect.Effect<{ host: string; port: number }, ServerError, Scope.Scope> =>
  Effect.acquireRelease(
    Effect.async<net.Server, ServerError>((resume) => {
      // allowHalfOpen: a client may send a four-letter word and shut down its side (`echo ruok | nc`).
      const server = net.createServer({ noDelay: true, allowHalfOpen: true }, onConnection)
      const host = config.clientPortAddress ?? "0.0.0.0"
      const onError = (e: NodeJS.ErrnoException) =>
        resume(
          Effect.fail(
            new ServerError({
              reason: e.code === "EADDRINUSE" ? "PortInUse" : "Listen",
              message: e.code === "EADDRINUSE" ? `client port ${host}:${config.clientPort} is already in use` : `cannot listen on ${host}:${config.clientPort}: ${e.message}`
            })
          )
        )
      server.once("error", onError)
      server.listen({ port: config.clientPort, host, ...(config.clientPortListenBacklog > 0 ? { backlog: config.clientPortListenBacklog } : {}) }, () => {
        server.off("error", onError)
        server.on("error", (e) => logger.error(`client port error: ${e.message}`))
        resume(Effect.succeed(server))
      })
    }),
    (server) => Effect.async<void>((resume) => void server.close(() => resume(Effect.void)))
  ).pipe(
    Effect.map((server) => {
      const a = server.address() as net.AddressInfo
      return { host: a.address, port: a.port }
    })
  )

const onSocket = (core: ServerCore, socket: net.Socket): void => {
  socket.setNoDelay(true)
  const conn = core.accept(socket)
  if (conn === null) return
  socket.on("data", (chunk: Buffer) => core.onData(conn, chunk))
  socket.on("drain", () => conn.resume(PAUSE_OUTPUT))
  socket.on("end", () => core.onEnd(conn))
  socket.on("error", (e) => core.logger.debug(`connection /${conn.remoteAddress}:${conn.remotePort}: ${e.message}`))
  socket.on("close", () => core.onClosed(conn))
}

/** The server as a Layer (an app or a test suite can start one in-process). */
export const layer = (config: ZkConfig): Layer.Layer<ZkServer, ServerError, Disk> => Layer.scoped(ZkServer, make(config))

/** Runs a server until interrupted (SIGTERM/SIGINT via runMain), then shuts it down gracefully. */
export const run = (config: ZkConfig): Effect.Effect<never, ServerError, Disk> => Layer.launch(layer(config))

