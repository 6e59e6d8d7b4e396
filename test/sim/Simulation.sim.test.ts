/**
 * Whole simulated runs: a fixed seed set (CI), determinism of a seed, and a known-bad disk the
 * simulation must catch.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import type * as Disk from "../../src/disk/Disk.js"
import * as Run from "../../src/sim/Run.js"

const FAULT_MS = 3000

/**
 * Regression seeds. Seed 4 (fixed leader 3, crashes) failed when the simulation was written — after a
 * restarted leader DIFFed follower 2, follower 2's digest differed at 0x200000002. It is valid since
 * the role fixes that followed (per-peer committed log, log/tree reconcile before a role, crashes
 * that keep finalizers off the disk); which one mended it was not isolated.
 * Seeds 103-119 (5 s fault phase) were checker errors, not server bugs: 108, 112, 114 read the logs of
 * a peer whose disk had failed (full / fsync errors) before its sync retry caught up after heal (the
 * run now waits until every log is durable); 103, 119 trusted a SNAP-synced learner's stale proposals
 * under its snapshot (the checker now trusts a log only above the peer's newest snapshot).
 * Seed 7013 (20 s fault phase, every fault kind, snapCount 7) was a checker error too: once peers
 * took periodic snapshots, every peer's snapshot lay above a txn only the crashed leader had logged,
 * so that stale txn filled in the committed sequence; only SNAP-received snapshots now raise the floor.
 * Seed 100509 (2 s faults) was a server bug: the leader's wall clock stepped back ten minutes and
 * session deadlines, kept on the wall clock, moved with it: an ephemeral outlived its vanished session.
 * Session expiry now runs on the monotonic clock (test/quorum/scenarios/ClockJump.test.ts).
 */
const REGRESSIONS: ReadonlyArray<{ readonly seed: number; readonly faultMs: number; readonly crash?: number; readonly leader?: number }> = [
  { seed: 4, faultMs: FAULT_MS, crash: 0.05, leader: 3 },
  ...[103, 108, 112, 114, 119].map((seed) => ({ seed, faultMs: 5000 }))
]
/**
 * Regression seeds recorded with every fault kind drawn (none forced off). 5009 (20 s faults): a peer
 * restarted while its disk failed fsyncs could not start; the run counted it as up, so the heal never
 * started it and the ensemble "did not converge" (a harness bug, fixed in Crashes.restart).
 * 2285 (8 s faults, power loss / cut-off leader / crash at new epoch forced on): a server bug. Peer 1
 * led alone long enough to choose and accept epoch 4, never established it; peers 2 and 3 then
 * established epoch 3 without it. Peer 1 refused epoch 3 (below its accepted 4) and looked again,
 * forever. The leader now steps down for a late learner that accepted a newer epoch
 * (core/Discovery LearnerEpochAhead), and the next election chooses an epoch it accepts.
 */
const NEWEST_FAULTS_OFF = { syncDelayMs: 0, powerLoss: 0, crashAtNewLeader: 0, cutOffLeader: 0, sessionMove: 0 }
const DRAWN_REGRESSIONS: ReadonlyArray<{ readonly seed: number; readonly faultMs: number; readonly odds?: Partial<Run.FaultOdds> }> = [
  { seed: 5009, faultMs: 20_000 },
  { seed: 2285, faultMs: 8000, odds: { powerLoss: 0.01, cutOffLeader: 0.02, crashAtNewLeader: 0.5 } },
  // A harness bug: the heal restarted peers while a power loss (requested at a new epoch) was still
  // stopping them; the power loss then stopped the new instances: every peer down. Crashes and restarts
  // now take turns (Crashes.ts).
  { seed: 203110, faultMs: 2000 },
  // Recorded before the newest fault kinds (slow disks, power loss, crash at a new epoch, cut-off leader,
  // session moves), which stay off here. The workload has changed since, so they no longer replay the
  // recorded run exactly (100509 passes even on the wall-clock tracker now): they stay as runs that must be
  // VALID; ClockJump.test.ts and the checker change's own seed-independent reasoning are the real checks.
  { seed: 7013, faultMs: 20_000, odds: NEWEST_FAULTS_OFF },
  { seed: 100509, faultMs: 2000, odds: NEWEST_FAULTS_OFF }
]
const SEEDS = [11, 12, 13]
const NEWER_FAULTS_OFF = { abandon: 0, pause: 0, clockJump: 0, isolate: 0, ...NEWEST_FAULTS_OFF }

/** A disk that lies: datasync and syncDir return at once and make nothing durable. */
const lyingDisk = (_sid: number, disk: Disk.DiskService): Disk.DiskService => ({
  ...disk,
  open: (path, mode, options) => Effect.map(disk.open(path, mode, options), (f) => ({ ...f, datasync: Effect.void })),
  syncDir: () => Effect.void
})

describe("simulation", () => {
  it.effect("a fixed seed set is valid", () =>
    Effect.gen(function* () {
      for (const seed of SEEDS) {
        const r = yield* Run.run({ seed, faultPhaseMs: FAULT_MS })
        assert.deepStrictEqual(r.violations, [], `seed ${seed}: replay with npm run sim -- --seed ${seed} --fault-ms ${FAULT_MS} --verbose`)
        assert.isAbove(r.ops, 20)
      }
      for (const { crash, faultMs, leader, seed } of REGRESSIONS) {
        // The fault kinds and ops added since these were recorded stay off: the seed replays as recorded.
        const r = yield* Run.run({ seed, faultPhaseMs: faultMs, ephemeralPercent: 0, checkWatches: false, odds: { ...NEWER_FAULTS_OFF, ...(crash === undefined ? {} : { crash }) }, ...(leader === undefined ? {} : { leader }) })
        assert.deepStrictEqual(r.violations, [], `regression seed ${seed}`)
      }
      for (const { faultMs, odds, seed } of DRAWN_REGRESSIONS) {
        const r = yield* Run.run({ seed, faultPhaseMs: faultMs, ...(odds === undefined ? {} : { odds }) })
        assert.deepStrictEqual(r.violations, [], `regression seed ${seed}: npm run sim -- --seed ${seed} --fault-ms ${faultMs} --verbose`)
      }
    }), 300_000)

  it.effect("one seed run twice gives the same event trace", () =>
    Effect.gen(function* () {
      const a = yield* Run.run({ seed: 7, faultPhaseMs: FAULT_MS })
      const b = yield* Run.run({ seed: 7, faultPhaseMs: FAULT_MS })
      assert.isAbove(a.history.events.length, 100)
      assert.deepStrictEqual(b.history.events, a.history.events)
    }), 300_000)

  it.effect("sessions that move to another server on purpose keep FIFO order and monotonic reads", () =>
    Effect.gen(function* () {
      // Links break rarely here: the moves are the sessions' own. A follower may lag the client's
      // last zxid after a move; it must refuse the session until it caught up.
      const r = yield* Run.run({ seed: 21, faultPhaseMs: FAULT_MS, odds: { ...NEWER_FAULTS_OFF, sessionMove: 25, latencyMs: 3, jitterMs: 10 } })
      const moves = r.history.events.filter((e) => e.includes("moves session"))
      assert.isAbove(moves.length, 20)
      assert.deepStrictEqual(r.violations, [], "seed 21 with session moves")
    }), 300_000)

  it.effect("a disk that lies about fsync, then crashes, makes the simulation find a lost acknowledged write", () =>
    Effect.gen(function* () {
      const found: Array<string> = []
      for (let seed = 1; seed <= 6 && found.length === 0; seed++) {
        // Elected leaders (not a fixed one): a fixed leader that lost its log to the lie now refuses to
        // lead followers ahead of it (ZooKeeper's rule), so the run stalls instead of losing writes.
        const r = yield* Run.run({ seed, faultPhaseMs: FAULT_MS, wrapDisk: lyingDisk, odds: { crash: 0.1, diskFault: 0 } })
        found.push(...r.violations.map((v) => `seed ${seed} ${v.checker}`))
      }
      assert.isTrue(found.some((v) => v.includes("no-lost-write") || v.includes("linearizable")), found.join("\n") || "no violation in 6 seeds")
    }), 300_000)
})
