/**
 * In-process ensembles for tests (ours and users'): N voters and M observers in one process on the
 * memory network, each with its own fault-injecting memory disk, driven by whatever Clock the
 * caller runs on (TestClock in tests). Handles stop, crash, restart, pause and partition peers and
 * make a peer's wall clock jump.
 */
import { Clock, Effect, ExecutionStrategy, Exit, FiberRef, type Scheduler, Scope } from "effect"
import * as Disk from "../disk/Disk.js"
import * as Memory from "../net/Memory.js"
import { Transport } from "../net/Transport.js"
import * as Config from "../server/Config.js"
import type { ServerError } from "../server/ServerError.js"
import * as Flaws from "./Flaws.js"
import type * as Peer from "./Peer.js"
import * as QuorumServer from "./QuorumServer.js"

export interface EnsembleOptions {
  readonly nodes: number
  readonly observers?: number
  readonly seed?: number
  readonly latencyMs?: number
  readonly jitterMs?: number
  readonly tickTime?: number
  readonly initLimit?: number
  readonly syncLimit?: number
  /** "fle" (default): FastLeaderElection over the election port; or a fixed leader sid. */
  readonly leader?: "fle" | number
  /** A scripted elector per peer instead (overrides `leader`). */
  readonly elector?: (sid: number) => Peer.Elector
  /** Extra config for every peer. */
  readonly config?: Partial<Config.ZkConfig>
  /** Known-bad variants of the roles (Flaws.ts), for showing the simulation catches them; default: none. */
  readonly flaws?: Partial<Flaws.FlawSet>
  /** Wraps a peer's memory disk (fault variants such as a disk that lies about fsync); default: none. */
  readonly wrapDisk?: (sid: number, disk: Disk.DiskService) => Disk.DiskService
}

export interface PeerHandle {
  readonly sid: number
  readonly host: string
  /** The running peer, or null while stopped. */
  readonly running: () => QuorumServer.RunningPeer | null
  readonly disk: Disk.MemoryDiskControl
  /** The same disk as the peer sees it (through `wrapDisk`). */
  readonly fs: Disk.DiskService
  /** Graceful stop: the scope closes, the log is synced. */
  readonly stop: Effect.Effect<void>
  /** Power loss: the peer stops at once, its disk loses what was not synced. */
  readonly crash: Effect.Effect<void>
  /** Starts it again on the same disk. */
  readonly start: Effect.Effect<void, ServerError>
  /** Deletes its data dir (a stopped peer's disk is wiped as an operator would). */
  readonly wipe: Effect.Effect<void>
  /**
   * SIGSTOP: none of the peer's fibers runs until `resume` (timers that fire meanwhile wait too);
   * its connections stay open and accept bytes, and new ones connect, but it neither reads nor answers.
   */
  readonly pause: () => void
  /** SIGCONT: the peer's fibers run again, in the order they became ready. */
  readonly resume: () => void
  /** Moves the peer's wall clock (`currentTimeMillis`) by `ms`; monotonic time and sleeps are unaffected. */
  readonly jumpClock: (ms: number) => void
}

/** A scheduler that holds every task while paused and hands them on in order on resume. */
const pausable = (base: Scheduler.Scheduler) => {
  let paused = false
  let held: Array<{ readonly task: Scheduler.Task; readonly priority: number }> = []
  const scheduler: Scheduler.Scheduler = {
    shouldYield: (fiber) => base.shouldYield(fiber),
    scheduleTask: (task, priority) => (paused ? void held.push({ task, priority }) : base.scheduleTask(task, priority))
  }
  return {
    scheduler,
    pause: () => void (paused = true),
    resume: () => {
      paused = false
      const ready = held
      held = []
      for (const { priority, task } of ready) base.scheduleTask(task, priority)
    }
  }
}

/** The caller's clock with the wall time moved by a settable offset (the NTP step of one machine). */
const skewed = (base: Clock.Clock) => {
  let offset = 0
  const clock: Clock.Clock = {
    [Clock.ClockTypeId]: Clock.ClockTypeId,
    unsafeCurrentTimeMillis: () => base.unsafeCurrentTimeMillis() + offset,
    currentTimeMillis: Effect.sync(() => base.unsafeCurrentTimeMillis() + offset),
    unsafeCurrentTimeNanos: () => base.unsafeCurrentTimeNanos(),
    currentTimeNanos: base.currentTimeNanos,
    sleep: (duration) => base.sleep(duration)
  }
  return { clock, jump: (ms: number) => void (offset += ms) }
}

export interface Ensemble {
  readonly network: Memory.Network
  readonly peers: ReadonlyArray<PeerHandle>
  readonly config: Config.ZkConfig
  /** `s1:2181,s2:2181,…` */
  readonly connectString: string
  /** The Transport a client process on host `host` uses. */
  readonly clientTransport: (host?: string) => Transport["Type"]
}

export const ensembleConfig = (options: EnsembleOptions): Config.ZkConfig => {
  const total = options.nodes + (options.observers ?? 0)
  return Config.make({
    tickTime: options.tickTime ?? 2000,
    clientPort: 2181,
    dataDir: "/data",
    ...options.config,
    quorum: {
      ...Config.defaults.quorum,
      initLimit: options.initLimit ?? 10,
      syncLimit: options.syncLimit ?? 5,
      servers: Array.from({ length: total }, (_, i) => ({
        sid: i + 1,
        addresses: [{ host: `s${i + 1}`, quorumPort: 2888, electionPort: 3888 }],
        type: i < options.nodes ? ("participant" as const) : ("observer" as const),
        clientAddress: undefined,
        spec: `s${i + 1}:2888:3888`
      }))
    }
  })
}

/** Starts an ensemble in the current scope; every peer is started (not necessarily serving yet). */
export const ensemble = (options: EnsembleOptions): Effect.Effect<Ensemble, ServerError, Scope.Scope> =>
  Effect.gen(function* () {
    const network = yield* Memory.makeNetwork({ seed: options.seed ?? 1, latencyMs: options.latencyMs ?? 1, jitterMs: options.jitterMs ?? 1 })
    const config = ensembleConfig(options)
    const outer = yield* Effect.scope
    const baseScheduler = yield* FiberRef.get(FiberRef.currentScheduler)
    const baseClock = yield* Effect.clock
    const elector = options.leader === undefined || options.leader === "fle" ? undefined : QuorumServer.fixedLeader(options.leader)
    const peers: Array<PeerHandle> = []
    for (let sid = 1; sid <= config.quorum.servers.length; sid++) {
      const host = `s${sid}`
      const memory = Disk.makeMemory()
      const control = memory.control
      const disk = options.wrapDisk?.(sid, memory.disk) ?? memory.disk
      let scope: Scope.CloseableScope | null = null
      let running: QuorumServer.RunningPeer | null = null
      const process = pausable(baseScheduler)
      const wallClock = skewed(baseClock)
      // SIGSTOP holds the peer's fibers and what the network would hand to its sockets and listeners.
      const stopProcess = () => {
        process.pause()
        network.freeze(host)
      }
      const runProcess = () => {
        process.resume()
        network.thaw(host)
      }
      const start = Effect.gen(function* () {
        if (scope !== null) return
        // A new process: whatever SIGSTOP held the old one does not hold it.
        runProcess()
        const s = yield* Scope.fork(outer, ExecutionStrategy.sequential)
        const peer = yield* QuorumServer.make({ ...config, clientPortAddress: host }, { sid, ...(options.elector !== undefined ? { elector: () => Effect.succeed(options.elector!(sid)) } : elector !== undefined ? { elector } : {}) }).pipe(
          Effect.provideService(Transport, network.transportFor(host)),
          Effect.provideService(Disk.Disk, disk),
          Effect.withScheduler(process.scheduler),
          Effect.provideService(Flaws.Flaws, { ...Flaws.none, ...options.flaws }),
          Effect.withClock(wallClock.clock),
          Scope.extend(s),
          Effect.tapError(() => Scope.close(s, Exit.void))
        )
        // Added last, so it runs first when the scope closes from outside (a test ending, or failing,
        // while the peer is stopped): its fibers must run to be interrupted, or the close hangs.
        yield* Scope.addFinalizer(s, Effect.sync(runProcess))
        scope = s
        running = peer
      })
      const close = Effect.suspend(() => {
        // A stopped process's fibers must run to be interrupted.
        runProcess()
        const s = scope
        scope = null
        running = null
        return s === null ? Effect.void : Scope.close(s, Exit.void)
      })
      peers.push({
        sid,
        host,
        running: () => running,
        disk: control,
        fs: disk,
        stop: close,
        // Sockets break first (as when a process dies); the disk refuses everything while the dead
        // process's finalizers run (they must not flush the log after the power is gone), then loses
        // what was not synced.
        crash: Effect.gen(function* () {
          network.reset(host)
          yield* control.setFaults({ writeLimitBytes: control.bytesWritten(), failSync: true })
          yield* close
          yield* control.crash()
          yield* control.setFaults({ writeLimitBytes: null, failSync: false })
        }),
        start,
        pause: stopProcess,
        resume: runProcess,
        jumpClock: wallClock.jump,
        wipe: Effect.gen(function* () {
          for (const path of yield* Effect.orDie(disk.list("/data/version-2"))) yield* Effect.orDie(disk.unlink(`/data/version-2/${path}`))
        })
      })
      yield* start
    }
    return {
      network,
      peers,
      config,
      connectString: peers.map((p) => `${p.host}:2181`).join(","),
      clientTransport: (host = "client") => network.transportFor(host)
    }
  })
