/**
 * The simulation's crash faults (Run.ts): which peers are down and when they come back. Besides
 * single crashes at random steps: a power loss of the whole ensemble with the peers coming back one
 * by one in a random order, and crashes at protocol steps (the moments when lost work is not yet
 * visible): right after a learner that was sent txns it lacked made its new epoch durable (its
 * NEWLEADER ACK is on its way), and a
 * leader cut off from the other peers that keeps logging what its clients send, then crashes and
 * comes back as a follower of whoever leads by then. Every crash loses the unsynced disk writes.
 */
import { Effect, Queue, type Scope } from "effect"
import type * as Disk from "../disk/Disk.js"
import type * as Testing from "../quorum/Testing.js"

export interface CrashOdds {
  readonly crash: number
  readonly tornCrash: boolean
  /** Per step: every peer loses power at once. */
  readonly powerLoss: number
  /** Per new epoch a learner made durable: it crashes right after, with its leader or the whole ensemble. */
  readonly crashAtNewLeader: number
  /** Per step: the serving leader is cut off from the other peers, crashes a little later, and comes back. */
  readonly cutOffLeader: number
}

export interface CrashesOptions {
  readonly ensemble: Testing.Ensemble
  readonly odds: CrashOdds
  /** Draws for the crash kinds added with the protocol-step crashes (their own PRNG: older seeds replay). */
  readonly random: () => number
  readonly now: Effect.Effect<number>
  readonly note: (text: string) => Effect.Effect<void>
  /** True during the fault phase (protocol-step crashes only fire then). */
  readonly faulting: () => boolean
}

export interface Crashes {
  readonly down: ReadonlySet<number>
  /** Power loss of one peer: its connections reset, its unsynced writes lost (the last one torn if `tear`). */
  readonly crash: (p: Testing.PeerHandle, tear: boolean, why?: string) => Effect.Effect<void>
  readonly restart: (p: Testing.PeerHandle) => Effect.Effect<void>
  /** The next down peer without a scheduled restart, or null. */
  readonly unscheduled: () => number | null
  /** One fault-phase step: scheduled restarts that are due, cut-off leaders that are due to crash, new power losses and cut-offs. */
  readonly step: Effect.Effect<void>
  /** Heal: every down peer starts, every cut-off ends. */
  readonly restartAll: Effect.Effect<void>
}

/**
 * Wraps a peer's disk to call `onEpoch` once a new currentEpoch is durable (its rename reached the
 * directory by syncDir): a learner's NEWLEADER ACK follows at once.
 */
export const watchEpochWrites = (disk: Disk.DiskService, onEpoch: () => void): Disk.DiskService => {
  let renamed = false
  return {
    ...disk,
    rename: (from, to) => Effect.tap(disk.rename(from, to), () => void (renamed ||= to.endsWith("/currentEpoch"))),
    syncDir: (dir) =>
      Effect.tap(disk.syncDir(dir), () => {
        if (!renamed) return
        renamed = false
        onEpoch()
      })
  }
}

/** Gaps between the staggered restarts after a power loss (ms). */
const RESTART_GAP_MS = 2000

export const make = (options: CrashesOptions): Effect.Effect<Crashes & { readonly onEpoch: (sid: number) => void }, never, Scope.Scope> =>
  Effect.gen(function* () {
    const { ensemble: ens, odds, random, now, note } = options
    const down = new Set<number>()
    const restartAt = new Map<number, number>()
    /** Cut-off leaders: sid → when it crashes. */
    const cutOff = new Map<number, number>()
    const peer = (sid: number) => ens.peers[sid - 1]!
    const between = (lo: number, hi: number) => lo + Math.floor(random() * (hi - lo))

    /** The power goes: sockets reset, unsynced writes lost (the process's fibers are stopped after). */
    const powerOff = (p: Testing.PeerHandle, tear: boolean) =>
      Effect.gen(function* () {
        down.add(p.sid)
        ens.network.reset(p.host)
        yield* p.disk.crash({ tear })
      })
    const crashed = (p: Testing.PeerHandle, tear: boolean, why: string) => note(`fault crash peer ${p.sid}${tear ? " (torn)" : ""}${why}`)
    const crash = (p: Testing.PeerHandle, tear: boolean, why = "") =>
      down.has(p.sid) ? Effect.void : Effect.zipRight(Effect.zipRight(powerOff(p, tear), p.stop), crashed(p, tear, why))
    /** A peer whose start fails (its disk still failing) stays down: a later restart or the heal retries it. */
    const restart = (p: Testing.PeerHandle) =>
      Effect.gen(function* () {
        restartAt.delete(p.sid)
        const started = yield* p.start.pipe(
          Effect.as(true),
          Effect.catchAll((e) => Effect.as(note(`peer ${p.sid} failed to start: ${e.message}`), false))
        )
        if (started) down.delete(p.sid)
        yield* note(`fault restart peer ${p.sid}`)
      })
    /** Crashes `sids` together, then brings them back one by one in a random order. */
    const crashTogether = (sids: ReadonlyArray<number>, why: string) =>
      Effect.gen(function* () {
        const order = [...sids]
        for (let i = order.length - 1; i > 0; i--) {
          const j = Math.floor(random() * (i + 1))
          ;[order[i], order[j]] = [order[j]!, order[i]!]
        }
        // Every disk loses power in the same instant; the processes' fibers are stopped after.
        const hit = order.filter((sid) => !down.has(sid))
        for (const sid of hit) {
          const tear = odds.tornCrash && random() < 0.5
          yield* powerOff(peer(sid), tear)
          yield* crashed(peer(sid), tear, why)
        }
        for (const sid of hit) yield* peer(sid).stop
        let at = yield* now
        for (const sid of order) {
          at += between(0, RESTART_GAP_MS)
          restartAt.set(sid, at)
        }
      })
    const leaderOf = (): Testing.PeerHandle | undefined =>
      ens.peers.find((p) => !down.has(p.sid) && p.running()?.status.state === "LEADING" && p.running()?.core() != null)

    // One crash or restart at a time: a power loss requested from a peer's disk call (the fiber below)
    // stops peers over several virtual ms; a heal or restart meanwhile would start a peer that the
    // power loss then stops again (seed 203110: every peer down after the heal).
    const lock = yield* Effect.makeSemaphore(1)
    const exclusive = lock.withPermits(1)

    // Protocol-step crashes are requested from inside a peer's disk call; this fiber performs them.
    const requests = yield* Queue.unbounded<number>()
    yield* Effect.gen(function* () {
      for (;;) {
        const sid = yield* Queue.take(requests)
        const status = peer(sid).running()?.status
        if (status === undefined || status.state !== "FOLLOWING" || status.leader === null) continue
        const leader = status.leader
        const all = random() < 0.5
        // A few ms: the ACK reaches the leader, which may start serving.
        yield* Effect.sleep(between(0, 10))
        if (!options.faulting() || down.has(sid)) continue
        yield* exclusive(
          Effect.suspend(() =>
            !options.faulting() || down.has(sid) ? Effect.void : crashTogether(all ? ens.peers.map((p) => p.sid) : [sid, leader], ` right after its new epoch (${all ? "power loss" : `with leader ${leader}`})`)
          )
        )
      }
    }).pipe(Effect.forkScoped)
    const onEpoch = (sid: number) => {
      // Only a learner that was just sent history it lacked: logged at NEWLEADER, applied at UPTODATE.
      const store = peer(sid).running()?.context.store
      if (store === undefined || store.log.lastAppendedZxid <= store.tree.lastProcessedZxid) return
      if (options.faulting() && odds.crashAtNewLeader > 0 && random() < odds.crashAtNewLeader) Queue.unsafeOffer(requests, sid)
    }

    const step = exclusive(Effect.gen(function* () {
      const t = yield* now
      for (const [sid, at] of restartAt) if (at <= t) yield* restart(peer(sid))
      for (const [sid, at] of cutOff) {
        if (at > t) continue
        cutOff.delete(sid)
        // It logged what its clients sent while no other peer heard it; it comes back (as a follower, if
        // the others elected a leader meanwhile) and must drop those txns.
        yield* crash(peer(sid), false, " (cut off leader)")
        for (const q of ens.peers) ens.network.heal(peer(sid).host, q.host)
        restartAt.set(sid, t + between(0, 3000))
      }
      if (random() < odds.powerLoss) yield* crashTogether(ens.peers.map((p) => p.sid), " (power loss)")
      if (random() < odds.cutOffLeader && cutOff.size === 0) {
        const l = leaderOf()
        if (l !== undefined) {
          for (const q of ens.peers) if (q !== l) ens.network.partition(l.host, q.host)
          const hold = between(100, 2000)
          cutOff.set(l.sid, t + hold)
          yield* note(`fault cut off leader ${l.sid} from the other peers for ${hold}ms, then crash it`)
        }
      }
    }))

    return {
      down,
      crash: (p, tear, why) => exclusive(crash(p, tear, why)),
      restart: (p) => exclusive(restart(p)),
      onEpoch,
      unscheduled: () => [...down].find((sid) => !restartAt.has(sid)) ?? null,
      step,
      restartAll: exclusive(Effect.gen(function* () {
        cutOff.clear()
        for (const sid of [...down]) yield* restart(peer(sid))
      }))
    }
  })
