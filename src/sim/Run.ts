/**
 * One seed, one run (after TigerBeetle's VOPR): build an ensemble on the memory network and
 * memory disks, draw this run's fault odds from the seed (swarm testing), run the workload
 * through a bounded fault phase, heal everything, require the ensemble to converge (and, once the
 * clients vanished, to expire their sessions), then check the history. Everything runs on the
 * run's own virtual time (SimTime) and on PRNGs seeded from the seed, so running a seed again
 * replays it event for event.
 */
import { Clock, Duration, Effect, Exit, Fiber, Logger, LogLevel, Option, Random, Scope } from "effect"
import type * as Disk from "../disk/Disk.js"
import { makePrng } from "../net/internal/prng.js"
import type { FlawSet } from "../quorum/Flaws.js"
import * as Testing from "../quorum/Testing.js"
import { Op } from "../wire/Codes.js"
import { readTxnEntry, type Txn } from "../wire/TxnRecords.js"
import * as Zxid from "../wire/Zxid.js"
import * as Checkers from "./Checkers.js"
import * as Crashes from "./Crashes.js"
import * as History from "./History.js"
import * as SimTime from "./SimTime.js"
import * as Workload from "./Workload.js"

export interface RunOptions {
  readonly seed: number
  readonly nodes?: number
  readonly observers?: number
  readonly sessions?: number
  readonly keys?: number
  /** Length of the fault phase in virtual ms. */
  readonly faultPhaseMs?: number
  /** How long the heal phase may take to converge, virtual ms. */
  readonly healLimitMs?: number
  /** Turns faults off (a baseline run). */
  readonly faults?: boolean
  /** "fle" (default): FastLeaderElection; a sid: that fixed leader (the roles alone). */
  readonly leader?: "fle" | number
  /** Overrides some of the drawn fault odds (to force a fault kind in a test). */
  readonly odds?: Partial<FaultOdds>
  /** Percent of client operations that create ephemerals (Workload's default when unset). */
  readonly ephemeralPercent?: number
  /** Record and check watch notifications (Checkers.watchNotifications); default true. */
  readonly checkWatches?: boolean
  /** Known-bad variants switched on in the roles (src/quorum/Flaws.ts). */
  readonly flaws?: Partial<FlawSet>
  /** Wraps each peer's disk (known-bad variants in tests). */
  readonly wrapDisk?: (sid: number, disk: Disk.DiskService) => Disk.DiskService
}

/** The fault odds of one run: each is a per-step probability, 0 when the fault is off this run. */
export interface FaultOdds {
  readonly latencyMs: number
  readonly jitterMs: number
  readonly partition: number
  readonly oneWay: number
  readonly heal: number
  readonly reset: number
  readonly stall: number
  readonly refuse: number
  /** A connection's host side breaks; its last bytes arrive after the reconnect. */
  readonly abandon: number
  /** A peer is cut off from every other peer (its clients still reach it) until the next heal. */
  readonly isolate: number
  /** A peer stops (SIGSTOP) for up to 8 s. */
  readonly pause: number
  /** A peer's wall clock steps by up to an hour either way. */
  readonly clockJump: number
  readonly crash: number
  readonly tornCrash: boolean
  readonly diskFault: number
  /** Every fsync on every peer's disk takes this long (virtual ms; 0: instant). */
  readonly syncDelayMs: number
  /** Per step: the whole ensemble loses power; the peers come back one by one (Crashes.ts). */
  readonly powerLoss: number
  /** Per new epoch a learner made durable: it crashes right after, with its leader or with every peer. */
  readonly crashAtNewLeader: number
  /** Per step: the leader is cut off from the other peers, then crashes and comes back. */
  readonly cutOffLeader: number
  /** Percent of a session's idle moments at which it moves to another server on purpose (Workload). */
  readonly sessionMove: number
}

export interface RunResult {
  readonly seed: number
  readonly odds: FaultOdds
  readonly history: History.History
  readonly violations: ReadonlyArray<Checkers.Violation>
  readonly ops: number
  readonly virtualMs: number
}

const STEP_MS = 100

/** Swarm testing: every fault kind is on or off per run, with its own rate. */
export const drawOdds = (random: () => number, faults: boolean, later: () => number, newest: () => number): FaultOdds => {
  const rate = (max: number) => (faults && random() < 0.5 ? random() * max : 0)
  return {
    latencyMs: 1 + Math.floor(random() * 5),
    jitterMs: Math.floor(random() * 10),
    partition: rate(0.03),
    oneWay: rate(0.02),
    heal: faults ? 0.02 + random() * 0.1 : 0,
    reset: rate(0.03),
    stall: rate(0.03),
    refuse: rate(0.02),
    crash: rate(0.02),
    tornCrash: random() < 0.5,
    diskFault: rate(0.01),
    ...drawLaterOdds(later, faults),
    ...drawNewestOdds(newest, faults)
  }
}

/**
 * The fault kinds added after the first seeds were recorded draw from their own PRNG, so a recorded
 * seed with these off replays exactly as it did.
 */
const drawLaterOdds = (later: () => number, faults: boolean) => {
  const rate = (max: number) => (faults && later() < 0.5 ? later() * max : 0)
  return { abandon: rate(0.03), pause: rate(0.01), clockJump: rate(0.01), isolate: rate(0.02) }
}

/** Slow disks and the crash kinds of Crashes.ts, from a third PRNG for the same reason. */
const drawNewestOdds = (newest: () => number, faults: boolean) => {
  const rate = (max: number) => (faults && newest() < 0.5 ? newest() * max : 0)
  return { syncDelayMs: Math.round(rate(100)), powerLoss: rate(0.005), crashAtNewLeader: rate(0.5), cutOffLeader: rate(0.01), sessionMove: Math.round(rate(6)) }
}

/** Runs the seed on its own virtual time (SimTime). */
export const run = (options: RunOptions): Effect.Effect<RunResult> =>
  Effect.gen(function* () {
    const history = History.empty()
    const scoped = Effect.gen(function* () {
      const scope = yield* Scope.make()
      const result = yield* body(options, history).pipe(Scope.extend(scope))
      // Closing the ensemble ends its fibers (a run's leftovers would otherwise stay reachable).
      const closed = yield* Scope.close(scope, Exit.void).pipe(Effect.timeout(Duration.seconds(60)), Effect.option)
      if (Option.isNone(closed)) History.note(history, result.virtualMs, "the ensemble did not close within 60 s")
      return result
    })
    // A run never leaves the microtask queue (SimTime): the host's event loop gets a turn before each
    // one, or a caller running many seeds starves it (vitest's RPC to its main process times out at 60 s).
    yield* Effect.promise(() => new Promise<void>((resolve) => setImmediate(resolve)))
    return yield* SimTime.run(scoped.pipe(Effect.withRandom(Random.make(options.seed)), Effect.provide(logInto(history)), Logger.withMinimumLogLevel(LogLevel.Info)))
  })

/** The servers' log lines (info and up) go into the run's trace, at virtual time. */
const logInto = (history: History.History) =>
  Logger.replace(
    Logger.defaultLogger,
    Logger.make(({ logLevel, message, date }) => {
      const text = Array.isArray(message) ? message.join(" ") : String(message)
      History.note(history, date.getTime(), `log ${logLevel.label} ${text}`)
    })
  )

const body = (options: RunOptions, history: History.History): Effect.Effect<RunResult, never, Scope.Scope> =>
  Effect.gen(function* () {
    const random = makePrng(options.seed)
    const later = makePrng(options.seed ^ 0x5bd1e995)
    const newest = makePrng(options.seed ^ 0x27d4eb2f)
    const nodes = options.nodes ?? 3
    const odds = { ...drawOdds(random, options.faults ?? true, later, newest), ...options.odds }
    // Half the runs snapshot every few txns (own PRNG, so the fault draws of recorded seeds stay as they were).
    const snapDraw = makePrng(options.seed ^ 0x2545f491)
    const snapCount = snapDraw() < 0.5 ? 2 + Math.floor(snapDraw() * 60) : undefined
    const startMs = yield* Clock.currentTimeMillis
    const now = Effect.map(Clock.currentTimeMillis, (t) => t - startMs)
    const note = (text: string) => Effect.flatMap(now, (t) => Effect.sync(() => History.note(history, t, text)))
    yield* note(`seed ${options.seed} nodes ${nodes} odds ${JSON.stringify(odds)}${snapCount === undefined ? "" : ` snapCount ${snapCount}`}`)

    let stopped = false
    const epochWritten: Array<(sid: number) => void> = []
    const ens = yield* Testing.ensemble({
      nodes,
      observers: options.observers ?? 0,
      seed: options.seed,
      latencyMs: odds.latencyMs,
      jitterMs: odds.jitterMs,
      tickTime: 500,
      leader: options.leader ?? "fle",
      ...(snapCount === undefined ? {} : { config: { snapCount } }),
      wrapDisk: (sid, disk) => Crashes.watchEpochWrites(options.wrapDisk?.(sid, disk) ?? disk, () => epochWritten[0]?.(sid)),
      ...(options.flaws === undefined ? {} : { flaws: options.flaws })
    }).pipe(Effect.orDie)
    for (const p of ens.peers) yield* p.disk.setFaults({ syncDelayMs: odds.syncDelayMs })
    const crashes = yield* Crashes.make({ ensemble: ens, odds, random: newest, now, note, faulting: () => !stopped })
    epochWritten.push(crashes.onEpoch)
    const hosts = ens.peers.map((p) => p.host)
    const sessions = options.sessions ?? 4
    const allHosts = [...hosts, ...Array.from({ length: sessions }, (_, i) => `c${i}`)]
    const pick = <A>(xs: ReadonlyArray<A>, from = random): A => xs[Math.floor(from() * xs.length)]!

    const leaders: Array<Checkers.LeaderSighting> = []
    const seenLeaders = new Set<string>()
    const watchRoles = Effect.gen(function* () {
      for (const p of ens.peers) {
        const r = p.running()
        if (r === null || r.status.state !== "LEADING" || r.core() === null) continue
        const epoch = r.context.epochs.current
        if (seenLeaders.has(`${epoch}/${p.sid}`)) continue
        seenLeaders.add(`${epoch}/${p.sid}`)
        leaders.push({ epoch, sid: p.sid, atMs: yield* now })
        yield* note(`peer ${p.sid} leads epoch ${epoch}`)
      }
    })

    const workload = yield* Effect.fork(
      Workload.run(history, {
        sessions,
        keys: options.keys ?? 3,
        connectString: ens.connectString,
        transportFor: (w) => ens.clientTransport(`c${w}`),
        startMs,
        stopped: () => stopped,
        sessionTimeoutMs: SESSION_TIMEOUT_MS,
        watch: options.checkWatches ?? true,
        // Clients vanish at the end without closing their sessions: the ensemble must expire them.
        vanish: (w) => {
          for (const h of hosts) ens.network.partition(`c${w}`, h)
        },
        ...(options.ephemeralPercent === undefined ? {} : { ephemeralPercent: options.ephemeralPercent }),
        movePercent: odds.sessionMove,
        opTimeoutMs: 15_000
      })
    )

    // Fault phase: one roll per kind per step.
    const paused = new Map<number, number>()
    const faultEnd = (yield* now) + (options.faultPhaseMs ?? 20_000)
    while ((yield* now) < faultEnd) {
      yield* Effect.sleep(Duration.millis(STEP_MS))
      yield* watchRoles
      if (random() < odds.partition) {
        const [a, b] = [pick(hosts), pick(allHosts)]
        if (a !== b) (ens.network.partition(a, b), yield* note(`fault partition ${a} ${b}`))
      }
      if (random() < odds.oneWay) {
        const [a, b] = [pick(allHosts), pick(hosts)]
        if (a !== b) (ens.network.partitionOneWay(a, b), yield* note(`fault one-way ${a}>${b}`))
      }
      if (random() < odds.heal) (ens.network.heal(), yield* note("fault heal"))
      if (random() < odds.reset) {
        const a = pick(allHosts)
        ens.network.reset(a)
        yield* note(`fault reset ${a}`)
      }
      if (random() < odds.stall) {
        const [a, b, ms] = [pick(hosts), pick(allHosts), Math.floor(random() * 3000)]
        if (a !== b) (ens.network.stall(a, b, ms), yield* note(`fault stall ${a} ${b} ${ms}ms`))
      }
      if (random() < odds.refuse) {
        const a = pick(hosts)
        ens.network.refuse(a, 2181)
        yield* note(`fault refuse clients at ${a}`)
      }
      if (later() < odds.abandon) {
        const [a, ms] = [pick(allHosts, later), Math.floor(later() * 2000)]
        ens.network.abandon(a, ms)
        yield* note(`fault abandon ${a} (its last bytes ${ms}ms late)`)
      }
      if (later() < odds.isolate) {
        const p = pick(ens.peers, later)
        for (const q of ens.peers) if (q !== p) ens.network.partition(p.host, q.host)
        yield* note(`fault isolate peer ${p.sid}`)
      }
      if (later() < odds.pause) {
        const p = pick(ens.peers, later)
        if (!paused.has(p.sid)) {
          const ms = Math.floor(later() * 8000)
          paused.set(p.sid, (yield* now) + ms)
          p.pause()
          yield* note(`fault pause peer ${p.sid} for ${ms}ms`)
        }
      }
      for (const [sid, until] of paused) {
        if ((yield* now) < until) continue
        paused.delete(sid)
        ens.peers[sid - 1]!.resume()
        yield* note(`fault resume peer ${sid}`)
      }
      if (later() < odds.clockJump) {
        const [p, ms] = [pick(ens.peers, later), Math.floor((later() * 2 - 1) * 3_600_000)]
        p.jumpClock(ms)
        yield* note(`fault clock jump peer ${p.sid} ${ms}ms`)
      }
      if (random() < odds.crash) {
        const p = pick(ens.peers)
        if (!crashes.down.has(p.sid) && crashes.down.size < Math.floor((nodes - 1) / 2) + 1) yield* crashes.crash(p, odds.tornCrash && random() < 0.5)
      } else if (crashes.unscheduled() !== null && random() < 0.05) {
        yield* crashes.restart(ens.peers[crashes.unscheduled()! - 1]!)
      }
      yield* crashes.step
      if (random() < odds.diskFault) {
        const p = pick(ens.peers)
        const full = random() < 0.5
        yield* p.disk.setFaults(full ? { writeLimitBytes: p.disk.bytesWritten() + Math.floor(random() * 4096) } : { failSync: true })
        yield* note(`fault disk ${full ? "full" : "fsync errors"} on peer ${p.sid}`)
      } else if (random() < 0.02) {
        for (const p of ens.peers) yield* p.disk.setFaults({ writeLimitBytes: null, failSync: false })
      }
    }

    // Heal phase: every fault off, every peer up; the ensemble must converge within the limit.
    stopped = true
    ens.network.heal()
    for (const h of hosts) ens.network.unrefuse(h, 2181)
    for (const p of ens.peers) yield* p.disk.setFaults({ writeLimitBytes: null, failSync: false })
    for (const sid of paused.keys()) ens.peers[sid - 1]!.resume()
    yield* crashes.restartAll
    yield* note("heal: faults off, every peer started")
    const healEnd = (yield* now) + (options.healLimitMs ?? 60_000)
    let notConverged: string | null = null
    while (true) {
      yield* watchRoles
      const serving = ens.peers.every((p) => p.running()?.core() != null)
      const zxids = new Set(ens.peers.map((p) => p.running()?.context.store.tree.lastProcessedZxid))
      const workloadDone = Option.isSome(yield* Fiber.poll(workload))
      // A disk that failed retries its sync with backoff: the checkers read the logs once they are durable.
      const durable = ens.peers.every(logDurable)
      if (serving && zxids.size === 1 && durable && workloadDone) break
      if ((yield* now) >= healEnd) {
        notConverged = `not converged ${options.healLimitMs ?? 60_000} ms after heal: serving ${ens.peers.map((p) => `${p.sid}:${p.running()?.status.state ?? "down"}${p.running()?.core() != null ? "+" : "-"}`).join(" ")}, last zxids ${[...zxids].map((z) => (z === undefined ? "?" : Zxid.toHex(z))).join(" ")}, logs ${durable ? "durable" : "not yet durable"}, workload ${workloadDone ? "done" : "pending"}`
        break
      }
      yield* Effect.sleep(Duration.millis(STEP_MS))
    }
    yield* note(notConverged === null ? "converged" : notConverged)
    // The clients vanished without closing their sessions: the ensemble must expire every one of them,
    // delete its ephemerals, and agree again.
    yield* Fiber.interrupt(workload)
    yield* note("workload ended, clients cut off")
    const ephemeralsLeft = () =>
      ens.peers.flatMap((p) => [...(p.running()?.context.store.tree.ephemerals.entries() ?? [])].map(([owner, paths]) => `peer ${p.sid}: 0x${owner.toString(16)} owns ${[...paths].join(" ")}`))
    const expiryEnd = (yield* now) + SESSION_TIMEOUT_MS + 10_000
    while (notConverged === null && (yield* now) < expiryEnd) {
      const zxids = new Set(ens.peers.map((p) => p.running()?.context.store.tree.lastProcessedZxid))
      if (ephemeralsLeft().length === 0 && zxids.size === 1 && ens.peers.every(logDurable)) break
      yield* Effect.sleep(Duration.millis(STEP_MS))
    }
    const leftover = notConverged === null ? ephemeralsLeft() : []
    if (leftover.length > 0) yield* note(`ephemerals left ${SESSION_TIMEOUT_MS + 10_000} ms after the clients vanished: ${leftover.join("; ")}`)

    // Snapshots a learner received by SNAP, from its own log line ("follower 3: SNAP 0x… from leader 2").
    // Only those leave a gap under which its log may hold txns that were never committed; periodic
    // snapshots sit on a log that holds everything below them.
    const snapSynced = new Set<string>()
    for (const e of history.events) {
      const m = / log INFO (?:follower|observer) (\d+): SNAP 0x([0-9a-f]+) from leader /.exec(e)
      if (m !== null) snapSynced.add(`${m[1]}/${parseInt(m[2]!, 16)}`)
    }
    const peers: Array<Checkers.PeerFinal> = []
    for (const p of ens.peers) {
      const r = p.running()
      if (r === null) continue
      const raw = yield* r.context.store.readLog(0).pipe(Effect.orElseSucceed(() => []))
      peers.push({
        sid: p.sid,
        lastProcessedZxid: r.context.store.tree.lastProcessedZxid,
        digest: r.context.store.tree.digest.value.toString(16),
        snapshots: (yield* p.fs.list(r.context.store.snapDir).pipe(Effect.orElseSucceed(() => []))).flatMap((f) => {
          const m = /^snapshot\.([0-9a-f]+)$/.exec(f)
          return m === null || !snapSynced.has(`${p.sid}/${parseInt(m[1]!, 16)}`) ? [] : [parseInt(m[1]!, 16)]
        }),
        log: raw.map((t) => decode(t.zxid, t.entry))
      })
    }
    const violations = Checkers.checkAll({ history, peers, leaders, notConverged, ephemeralsLeft: leftover, checkWatches: options.checkWatches ?? true })
    for (const v of violations) yield* note(`VIOLATION ${v.checker}: ${v.message}`)
    return { seed: options.seed, odds, history, violations, ops: history.ops.length, virtualMs: yield* now }
  })

const SESSION_TIMEOUT_MS = 4000

const logDurable = (p: Testing.PeerHandle): boolean => {
  const log = p.running()?.context.store.log
  return log !== undefined && log.lastSyncedZxid >= log.lastAppendedZxid
}

const toHex = (bytes: Uint8Array): string => Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("")
const text = (b: Uint8Array | null): string | null => (b === null ? null : new TextDecoder().decode(b))

const writesOf = (txn: Txn): Array<Checkers.TxnWrite> => {
  switch (txn.type) {
    case Op.create:
    case Op.create2:
      return [{ kind: "create", key: txn.path, value: text(txn.data), version: 0 }]
    case Op.delete:
      return [{ kind: "delete", key: txn.path, value: null, version: -1 }]
    case Op.setData:
      return [{ kind: "set", key: txn.path, value: text(txn.data), version: txn.version }]
    case Op.multi:
      // A failed multi keeps the sub-txns before the failing one in the log; nothing of it applies (as in DataTree).
      return txn.txns.some((t) => t.type === Op.error) ? [] : txn.txns.flatMap(writesOf)
    default:
      return []
  }
}

/** A logged txn entry as the checkers see it. */
export const decode = (zxid: number, entry: Uint8Array): Checkers.CommittedTxn => {
  const e = readTxnEntry(entry)
  return { zxid, session: `0x${e.header.clientId.toString(16)}`, writes: writesOf(e.txn), bytes: toHex(entry) }
}
