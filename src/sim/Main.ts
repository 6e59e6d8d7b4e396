/**
 * `npm run sim -- --seeds N [--seed S] [--nodes 3|5] [--fault-ms MS] [--no-faults] [--crash P] [--odds JSON] [--flaw NAME] [--no-watches]`: runs seeds
 * S, S+1, … one after another, prints one line per seed, and for a failing seed the command that
 * replays it and the trace around its first violation. bin/sim.mjs bundles and runs this.
 */
import { Console, Effect } from "effect"
import * as History from "./History.js"
import * as Run from "./Run.js"

export interface Args {
  readonly seeds: number
  readonly seed: number
  readonly nodes: number
  readonly faultPhaseMs: number
  readonly faults: boolean
  readonly verbose: boolean
  /** Forces the per-step crash odds (else drawn per seed). */
  readonly crash: number | null
  /** Record and check watch notifications (default on). */
  readonly watches: boolean
  /** A known-bad variant to switch on (a FlawSet key), or null. */
  readonly flaw: string | null
  /** Fault odds forced over the drawn ones (Run.FaultOdds as JSON, e.g. '{"powerLoss":0.02}'), or null. */
  readonly odds: string | null
}

export const parseArgs = (argv: ReadonlyArray<string>): Args => {
  const value = (name: string, fallback: number): number => {
    const i = argv.indexOf(name)
    return i >= 0 && argv[i + 1] !== undefined ? Number(argv[i + 1]) : fallback
  }
  const single = argv.includes("--seed")
  return {
    seeds: single ? value("--seeds", 1) : value("--seeds", 10),
    seed: value("--seed", 1),
    nodes: value("--nodes", 3),
    faultPhaseMs: value("--fault-ms", 20_000),
    faults: !argv.includes("--no-faults"),
    verbose: argv.includes("--verbose"),
    crash: argv.includes("--crash") ? value("--crash", 0) : null,
    watches: !argv.includes("--no-watches"),
    flaw: argv.includes("--flaw") ? (argv[argv.indexOf("--flaw") + 1] ?? null) : null,
    odds: argv.includes("--odds") ? (argv[argv.indexOf("--odds") + 1] ?? null) : null
  }
}

const parseOdds = (json: string | null): Partial<Run.FaultOdds> => {
  if (json === null) return {}
  try {
    return JSON.parse(json) as Partial<Run.FaultOdds>
  } catch (e) {
    throw new Error(`--odds takes fault odds as JSON, e.g. '{"powerLoss":0.02}': ${String(e)}`)
  }
}

export const replayCommand = (args: Args, seed: number): string =>
  `npm run sim -- --seed ${seed} --nodes ${args.nodes} --fault-ms ${args.faultPhaseMs}${args.faults ? "" : " --no-faults"}${args.crash === null ? "" : ` --crash ${args.crash}`}${args.odds === null ? "" : ` --odds '${args.odds}'`}${args.flaw === null ? "" : ` --flaw ${args.flaw}`}${args.watches ? "" : " --no-watches"} --verbose`

/** Runs the seeds; `wallMs` is the caller's wall clock (for seeds/second only). Returns failing seeds. */
export const main = (argv: ReadonlyArray<string>, wallMs: () => number): Effect.Effect<ReadonlyArray<number>> =>
  Effect.gen(function* () {
    const args = parseArgs(argv)
    const odds: Partial<Run.FaultOdds> = { ...parseOdds(args.odds), ...(args.crash === null ? {} : { crash: args.crash }) }
    const failing: Array<number> = []
    const started = wallMs()
    for (let seed = args.seed; seed < args.seed + args.seeds; seed++) {
      const t = wallMs()
      const r = yield* Run.run({
        seed,
        nodes: args.nodes,
        faultPhaseMs: args.faultPhaseMs,
        faults: args.faults,
        checkWatches: args.watches,
        odds,
        ...(args.flaw === null ? {} : { flaws: { [args.flaw]: true } })
      })
      const status = r.violations.length === 0 ? "VALID" : `INVALID (${r.violations.length}: ${[...new Set(r.violations.map((v) => v.checker))].join(", ")})`
      yield* Console.log(`seed ${seed}: ${status}, ${r.ops} ops, ${r.virtualMs} virtual ms, ${Math.round(wallMs() - t)} wall ms`)
      if (args.verbose) yield* Console.log(r.history.events.join("\n"))
      if (r.violations.length > 0) {
        failing.push(seed)
        const first = r.violations[0]!
        yield* Console.log(`  first violation: ${first.checker}: ${first.message}`)
        yield* Console.log(`  replay: ${replayCommand(args, seed)}`)
        yield* Console.log(History.around(r.history, first.marker).map((e) => `    ${e}`).join("\n"))
      }
    }
    const seconds = (wallMs() - started) / 1000
    yield* Console.log(`${args.seeds} seeds, ${failing.length} failing${failing.length > 0 ? ` (${failing.join(" ")})` : ""}, ${(args.seeds / seconds).toFixed(2)} seeds/s`)
    return failing
  })
