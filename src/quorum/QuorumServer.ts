/**
 * A replicated ensemble member as an Effect Layer: the same client port, storage and pipeline as a
 * standalone server, with a peer state machine (election → leader / follower / observer) deciding
 * which commit stage serves clients, and when. Not serving (LOOKING, syncing) means new client
 * connections are closed, so clients move on to a server that serves.
 */
import { Context, Effect, Layer, type Scope } from "effect"
import * as AuthProviders from "../auth/Digest.js"
import type { Disk } from "../disk/Disk.js"
import { Transport, type TransportError } from "../net/Transport.js"
import * as Recovery from "../storage/Recovery.js"
import * as Storage from "../storage/Storage.js"
import * as ClientPort from "../server/ClientPort.js"
import type { CommitStage } from "../server/commit/CommitStage.js"
import * as Snapshots from "../server/commit/Snapshots.js"
import type { ZkConfig } from "../server/Config.js"
import * as Ensemble from "../server/Ensemble.js"
import { autopurge, coreClock, coreConfig, logRecovery, makeLogger, readJaas } from "../server/Server.js"
import { ServerCore } from "../server/ServerCore.js"
import { ServerError } from "../server/ServerError.js"
import { readTxnEntry } from "../wire/TxnRecords.js"
import * as Zxid from "../wire/Zxid.js"
import { CommittedLog } from "./CommittedLog.js"
import * as QuorumVerifier from "./core/QuorumVerifier.js"
import * as Elector from "./Elector.js"
import * as Peer from "./Peer.js"
import { type Epochs, loadEpochs, type Member, type PeerContext, PeerError } from "./PeerContext.js"

/** Replayed txns kept for DIFF (zookeeper.commitLogCount). */
const COMMIT_LOG_COUNT = 500

export interface RunningPeer {
  readonly sid: number
  readonly host: string
  readonly port: number
  readonly status: Peer.PeerStatus
  /** The core serving clients right now, if any. */
  readonly core: () => ServerCore | null
  readonly context: PeerContext
}

export class QuorumPeer extends Context.Tag("ezk/quorum/QuorumPeer")<QuorumPeer, RunningPeer>() {}

/** The quorum members of a config (`server.N` lines; the first address of each). */
export const membersOf = (config: ZkConfig): Array<Member> =>
  config.quorum.servers.map((s) => ({
    sid: s.sid,
    host: s.addresses[0]!.host,
    quorumPort: s.addresses[0]!.quorumPort,
    electionPort: s.addresses[0]!.electionPort,
    type: s.type
  }))

export interface PeerOptions {
  /** This server's id (`myid`). */
  readonly sid: number
  /** Builds the elector in the peer's scope; default FastLeaderElection with ZooKeeper's timings. */
  readonly elector?: (ctx: PeerContext) => Effect.Effect<Peer.Elector, TransportError, Scope.Scope>
  /** Election connect timeout (`cnxTimeout`, default 5000 ms) and `quorumListenOnAllIPs`. */
  readonly election?: Partial<Elector.ElectionSettings>
}

/** A fixed leader instead of an election (tests of the roles alone). */
export const fixedLeader = (leader: number): NonNullable<PeerOptions["elector"]> => () => Effect.succeed(Peer.fixedElector(leader))

export const make = (config: ZkConfig, options: PeerOptions): Effect.Effect<RunningPeer, ServerError, Scope.Scope | Disk> =>
  Effect.gen(function* () {
    const { sid } = options
    const members = membersOf(config)
    const me = members.find((m) => m.sid === sid)
    if (me === undefined) return yield* new ServerError({ reason: "BadConfig", message: `myid ${sid} is not among the server.N lines of ${config.source ?? "the config"}` })
    const own = config.quorum.servers.find((s) => s.sid === sid)!
    const clientPortNumber = config.clientPort >= 0 ? config.clientPort : (own.clientAddress?.port ?? -1)
    if (clientPortNumber < 0) return yield* new ServerError({ reason: "BadConfig", message: `no client port for server.${sid}: set clientPort or add ;port to its server.${sid} line` })
    const runtime = yield* Effect.runtime<never>()
    const logger = makeLogger(runtime)
    const clock = yield* Effect.clock
    const saslUsers = config.jaasLoginConfig === undefined ? null : yield* readJaas(config.jaasLoginConfig, config.jaasServerSection)
    const cfg = coreConfig(config, saslUsers, sid)
    const clientConfig: ZkConfig = { ...config, clientPort: clientPortNumber, clientPortAddress: config.clientPortAddress ?? own.clientAddress?.host }
    const clientPort = yield* ClientPort.open(clientConfig, logger)

    const treeOptions = { extendedTypes: cfg.extendedTypes, digestEnabled: cfg.digestEnabled }
    const storageConfig = {
      dataDir: config.dataDir,
      dataLogDir: config.dataLogDir,
      tree: treeOptions,
      preAllocSizeBytes: config.preAllocSizeBytes,
      keepRecentTxns: COMMIT_LOG_COUNT
    }
    const started = clock.unsafeCurrentTimeMillis()
    const store = yield* Storage.open(storageConfig).pipe(
      Effect.mapError((e) => new ServerError({ reason: "DataDir", message: `cannot use data dir ${config.dataDir}: ${e.message}` }))
    )
    yield* logRecovery(store.recovery, clock.unsafeCurrentTimeMillis() - started)
    const stored = yield* loadEpochs(store.snapDir, Zxid.epochOf(store.tree.lastProcessedZxid)).pipe(
      Effect.mapError((e) => new ServerError({ reason: "DataDir", message: e.message }))
    )
    // Writing currentEpoch is what "synced" means for the election's answers (see Elector.synced).
    let onSynced: (epoch: number) => Effect.Effect<void> = () => Effect.void
    const epochs: Epochs = {
      get accepted() {
        return stored.accepted
      },
      get current() {
        return stored.current
      },
      setAccepted: stored.setAccepted,
      setCurrent: (e) => Effect.tap(stored.setCurrent(e), () => onSynced(e))
    }
    const disk = yield* Effect.context<Disk>()
    const committedLog = new CommittedLog(store.recovery.recentTxns, config.quorum.snapshotSizeFactor)
    const reload = Effect.gen(function* () {
      const { snapDir, logDir } = Storage.directories(storageConfig)
      const recovered = yield* Recovery.recover({ snapDir, logDir, tree: treeOptions, keepRecentTxns: COMMIT_LOG_COUNT }).pipe(
        Effect.mapError((e) => new PeerError({ phase: "storage", detail: `reloading the database: ${e.message}` }))
      )
      store.replaceTree(recovered.tree)
      committedLog.clear()
      for (const t of recovered.recentTxns) committedLog.add({ zxid: t.zxid, raw: t.entry })
    }).pipe(Effect.provide(disk))
    const fastForward = Effect.gen(function* () {
      const storage = (e: { readonly message: string }) => new PeerError({ phase: "storage", detail: `fast-forwarding the database: ${e.message}` })
      yield* store.log.sync.pipe(Effect.mapError(storage))
      const tree = store.tree
      const txns = yield* store.readLog(tree.lastProcessedZxid + 1).pipe(Effect.mapError(storage))
      for (const t of txns) {
        if (t.zxid <= tree.lastProcessedZxid) continue
        const entry = readTxnEntry(t.entry)
        tree.processTxn(entry.header, entry.txn)
        committedLog.add({ zxid: t.zxid, raw: t.entry })
      }
      if (txns.length > 0) yield* Effect.logInfo(`peer ${sid}: applied ${txns.length} logged txns the last role did not commit, last zxid ${Zxid.toHex(tree.lastProcessedZxid)}`)
    })

    const auth = AuthProviders.make({ superDigest: config.superDigest })
    const serve = (stage: CommitStage) =>
      Effect.acquireRelease(
        Effect.gen(function* () {
          const core = new ServerCore(cfg, store.tree, stage, coreClock(clock), auth, logger)
          // In the role's scope: see Snapshots for why a peer snapshots only while it serves.
          core.onCommitted = (yield* Snapshots.start(store, config.snapCount)).committed
          yield* ClientPort.installFourLetterWords(core, clientConfig, store, clientPort.port).pipe(Effect.provide(disk))
          clientPort.attach(core)
          return core
        }),
        (core) =>
          Effect.sync(() => {
            if (clientPort.current() === core) clientPort.attach(null)
            core.serving = false
            core.closeAll("the server changes its role in the ensemble")
          })
      )

    const verifier = QuorumVerifier.make(members.map((m) => ({ sid: m.sid, type: m.type })))
    const context: PeerContext = {
      sid,
      members,
      verifier,
      tickTime: config.tickTime,
      initLimit: config.quorum.initLimit ?? 10,
      syncLimit: config.quorum.syncLimit ?? 5,
      quorumListenHost: config.quorum.quorumListenOnAllIPs ? "0.0.0.0" : me.host,
      store,
      treeOptions,
      epochs,
      serve,
      reload,
      fastForward,
      committedLog
    }
    clientPort.attach(null)
    yield* ClientPort.startTimers(config, clientPort.current, config.containerCheckIntervalMs)
    yield* autopurge(config, store)
    const status: Peer.PeerStatus = { state: "LOOKING", leader: null, elections: 0 }
    const electorOf =
      options.elector ??
      ((ctx: PeerContext) =>
        Elector.fastLeaderElection(ctx, { cnxTimeoutMs: 5000, listenOnAllIPs: config.quorum.quorumListenOnAllIPs, ...options.election }))
    // Only a leader listens on the quorum port, so a port another process holds would go unnoticed
    // until this peer wins an election — and then it would win, fail to listen and win again, forever.
    // Checked once here, like the client and election ports: a clear error at start instead.
    if (me.type === "participant") {
      yield* Effect.scoped((yield* Transport).listen({ host: context.quorumListenHost, port: me.quorumPort }, (socket) => socket.destroy())).pipe(
        Effect.mapError((e) => new ServerError({ reason: e.reason === "AddressInUse" ? "PortInUse" : "Listen", message: `quorum port ${context.quorumListenHost}:${me.quorumPort}: ${e.message}` }))
      )
    }
    const elector = yield* electorOf(context).pipe(
      Effect.mapError((e) => new ServerError({ reason: e.reason === "AddressInUse" ? "PortInUse" : "Listen", message: `election port ${me.host}:${me.electionPort}: ${e.message}` }))
    )
    onSynced = elector.synced
    yield* Peer.run(context, elector, status).pipe(Effect.forkScoped)
    yield* Effect.addFinalizer(() => Effect.zipRight(store.close.pipe(Effect.ignore), Effect.logInfo(`peer ${sid} stopped; txn log synced`)))
    yield* Effect.logInfo(`ezk peer ${sid} of ${members.length}: clients on ${clientPort.host}:${clientPort.port}, quorum ${me.host}:${me.quorumPort}, election ${me.electionPort}, last zxid ${Zxid.toHex(store.tree.lastProcessedZxid)}, epochs accepted ${epochs.accepted} current ${epochs.current}`)
    return { sid, host: clientPort.host, port: clientPort.port, status, core: clientPort.current, context }
  })

/**
 * Runs the ensemble member a zoo.cfg describes until interrupted: `myid` from the data dir, the
 * election settings from the config (cnxTimeout, quorumListenOnAllIPs).
 */
export const run = (config: ZkConfig): Effect.Effect<never, ServerError, Disk> =>
  Effect.gen(function* () {
    const ensemble = yield* Ensemble.load(config).pipe(Effect.mapError((e) => new ServerError({ reason: "BadConfig", message: e.message })))
    return yield* Layer.launch(
      layer(config, {
        sid: ensemble.myid,
        election: {
          cnxTimeoutMs: ensemble.cnxTimeoutMs,
          listenOnAllIPs: ensemble.listenHost === "0.0.0.0",
          maxNotificationIntervalMs: ensemble.maxNotificationIntervalMs
        }
      })
    )
  })

export const layer = (config: ZkConfig, options: PeerOptions): Layer.Layer<QuorumPeer, ServerError, Disk> =>
  Layer.scoped(QuorumPeer, make(config, options))
