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
  /** Seeds 1..bound are tried in order. */
  readonly bound: number
}

const ISOLATE = { isolate: 0.04, heal: 0.015, pause: 0 }

const VARIANTS: ReadonlyArray<Variant> = [
  { flaw: "logHole", faultMs: 3000, odds: {}, bound: 2 },
  { flaw: "commitWithoutQuorum", faultMs: 8000, odds: ISOLATE, bound: 12 },
  { flaw: "syncWithoutCatchUp", faultMs: 6000, odds: ISOLATE, bound: 8 }
]

describe("known-bad variants are found", () => {
  for (const v of VARIANTS) {
    it.effect(`${v.flaw}: within ${v.bound} seeds`, () =>
      Effect.gen(function* () {
        for (let seed = 1; seed <= v.bound; seed++) {
          const r = yield* Run.run({ seed, faultPhaseMs: v.faultMs, odds: v.odds, flaws: { [v.flaw]: true } })
          if (r.violations.length === 0) continue
          const clean = yield* Run.run({ seed, faultPhaseMs: v.faultMs, odds: v.odds })
          assert.deepStrictEqual(clean.violations, [], `seed ${seed} fails without ${v.flaw} too`)
          return
        }
        assert.fail(`${v.flaw} not found in seeds 1..${v.bound}`)
      }), 600_000)
  }
})
