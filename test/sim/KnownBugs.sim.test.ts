/**
 * The checkers catch bugs: each known-bad variant of the ZAB roles (src/quorum/Flaws.ts) is found
 * by the simulation within a bounded number of seeds, and the seed that finds it is valid with the
 * variant off (so the violation is the variant's, not the server's).
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import type { FlawSet } from "../../src/quorum/Flaws.js"
import * as Run from "../../src/sim/Run.js"

interface Variant {
  readonly flaw: keyof FlawSet
  readonly faultMs: number
  /** Fault odds that make the variant's window likely (e.g. isolate the leader). */
  readonly odds: Partial<Run.FaultOdds>
  /** Seeds from..from+bound-1 are tried in order (from = 1 unless a later range finds it sooner). */
  readonly from?: number
  readonly bound: number
}

/** Slow disks, session moves and the crash kinds of Crashes.ts: off unless a variant needs one (the first three were measured without them). */
const NO_NEW_CRASHES = { powerLoss: 0, crashAtNewLeader: 0, cutOffLeader: 0 }
const NEWEST_OFF = { ...NO_NEW_CRASHES, syncDelayMs: 0, sessionMove: 0 }
const ISOLATE = { isolate: 0.04, heal: 0.015, pause: 0, ...NEWEST_OFF }

const VARIANTS: ReadonlyArray<Variant> = [
  { flaw: "logHole", faultMs: 3000, odds: NEWEST_OFF, bound: 2 },
  { flaw: "commitWithoutQuorum", faultMs: 8000, odds: ISOLATE, bound: 12 },
  { flaw: "syncWithoutCatchUp", faultMs: 6000, odds: ISOLATE, bound: 8 },
  // A slow disk (every fsync 50 ms) keeps the window between ACK and durability open; a power loss
  // then loses the followers' acknowledged tail, and the peers come back one by one: when the two
  // followers elect a leader before the old leader returns, acknowledged writes are gone. (Seed 7
  // since syncs overlap: a txn no longer waits behind a sync in flight, so the window is shorter.)
  { flaw: "ackBeforeFsync", faultMs: 4000, odds: { ...NO_NEW_CRASHES, syncDelayMs: 50, powerLoss: 0.02, isolate: 0, pause: 0 }, bound: 8 },
  // Crashes and isolations make learners lag and rejoin with DIFFs. What fires (seed 6) is durability:
  // the txns the learner acked at NEWLEADER are not in its log when the run ends idle.
  { flaw: "epochBeforeSync", faultMs: 6000, odds: { ...NO_NEW_CRASHES, crash: 0.04, isolate: 0.03, heal: 0.015, crashAtNewLeader: 1, pause: 0 }, bound: 8 },
  // A leader cut off from the other peers logs its clients' writes, crashes, and comes back as a
  // follower of the leader elected meanwhile; before that leader commits anything new it is told TRUNC.
  { flaw: "ignoreTrunc", faultMs: 6000, odds: { ...NO_NEW_CRASHES, cutOffLeader: 0.05, crash: 0, isolate: 0, pause: 0 }, bound: 6 }
]

describe("known-bad variants are found", () => {
  for (const v of VARIANTS) {
    it.effect(`${v.flaw}: within ${v.bound} seeds`, () =>
      Effect.gen(function* () {
        const from = v.from ?? 1
        for (let seed = from; seed < from + v.bound; seed++) {
          const r = yield* Run.run({ seed, faultPhaseMs: v.faultMs, odds: v.odds, flaws: { [v.flaw]: true } })
          if (r.violations.length === 0) continue
          const clean = yield* Run.run({ seed, faultPhaseMs: v.faultMs, odds: v.odds })
          assert.deepStrictEqual(clean.violations, [], `seed ${seed} fails without ${v.flaw} too`)
          return
        }
        assert.fail(`${v.flaw} not found in seeds ${from}..${from + v.bound - 1}`)
      }), 600_000)
  }
})
