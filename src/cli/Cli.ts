/**
 * The `ezk` command line with @effect/cli: `ezk server [flags]`, `ezk 4lw <word> [--server host:port]`,
 * `ezk ensemble [flags]` (EnsembleCommand.ts), `ezk shell` (shell/Shell.ts), `ezk check-history FILE`
 * (CheckHistoryCommand.ts), `ezk version`, plus generated
 * `--help`, `--version` and completions.
 *
 * `makeCli(startServer)` returns the argv runner; it needs `CliApp.Environment` (NodeContext.layer).
 * The work itself lives in ServerCommand.ts / FourLetterClient.ts, shared with FastCli.ts: importing
 * @effect/cli costs ~0.3 s of CPU at startup, so `FastCli.main` parses the common invocations with
 * node:util and only loads this module for help, completions or argv it does not understand.
 */
import * as Args from "@effect/cli/Args"
import * as Command from "@effect/cli/Command"
import * as Options from "@effect/cli/Options"
import * as ValidationError from "@effect/cli/ValidationError"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import type * as Config from "../server/Config.js"
import { FOUR_LETTER_WORDS, type FourLetterWord } from "../server/fourLetter/ServerView.js"
import { checkHistoryCommand } from "./CheckHistoryCommand.js"
import { ENSEMBLE_DEFAULTS, ensembleCommand } from "./EnsembleCommand.js"
import { fourLetterCommand } from "./FourLetterClient.js"
import { runShell } from "./shell/Shell.js"
import { processIo, stdinLines } from "./shell/Terminal.js"
import { EZK_VERSION, type ServerFlags, serverCommand } from "./ServerCommand.js"

export { FourLetterClientError, parseServerAddress, sendFourLetterWord } from "./FourLetterClient.js"
export {
  EZK_VERSION,
  FLAG_KEYS,
  loggerLayer,
  resolveServerConfig,
  runServer,
  serverLoadOptions,
  type ServerFlags
} from "./ServerCommand.js"

const optText = (name: string, description: string) =>
  Options.text(name).pipe(Options.withDescription(description), Options.optional)
const optInt = (name: string, description: string) =>
  Options.integer(name).pipe(Options.withDescription(description), Options.optional)
const get = <A>(o: Option.Option<A>): A | undefined => Option.getOrUndefined(o)

const serverOptions = {
  config: Options.text("config").pipe(
    Options.withAlias("c"),
    Options.withDescription("zoo.cfg to read (ZooKeeper semantics; without it the embedded defaults apply)"),
    Options.optional
  ),
  port: optInt("port", "client port (clientPort); 0 picks a free port"),
  host: optText("host", "address to bind (clientPortAddress)"),
  dataDir: optText("data-dir", "snapshot directory (dataDir)"),
  dataLogDir: optText("data-log-dir", "txn log directory (dataLogDir)"),
  tickTime: optInt("tick-time", "tick in ms (tickTime)"),
  maxClientCnxns: optInt("max-client-cnxns", "connections per client IP (maxClientCnxns)"),
  minSessionTimeout: optInt("min-session-timeout", "ms (minSessionTimeout)"),
  maxSessionTimeout: optInt("max-session-timeout", "ms (maxSessionTimeout)"),
  snapCount: optInt("snap-count", "txns between snapshots (snapCount)"),
  fourLetterWordWhitelist: optText("4lw-whitelist", "comma list or * (4lw.commands.whitelist)"),
  extendedTypes: Options.boolean("extended-types").pipe(Options.withDescription("enable TTL nodes (extendedTypesEnabled)")),
  juteMaxBuffer: optInt("jute-maxbuffer", "max frame bytes (jute.maxbuffer)"),
  superDigest: optText("super-digest", "digest super user, user:base64 (superDigest)"),
  jaas: optText("jaas", "JAAS file for SASL (jaasLoginConfig)"),
  logLevel: Options.choice("log-level", ["trace", "debug", "info", "warning", "error", "fatal", "none"]).pipe(Options.optional),
  logFormat: Options.choice("log-format", ["logfmt", "json", "pretty"]).pipe(Options.optional),
  set: Options.text("set").pipe(Options.withDescription("any zoo.cfg key as key=value (repeatable)"), Options.repeated)
}

const toServerFlags = (o: Command.Command.ParseConfig<typeof serverOptions>): ServerFlags => ({
  config: get(o.config),
  port: get(o.port),
  host: get(o.host),
  dataDir: get(o.dataDir),
  dataLogDir: get(o.dataLogDir),
  tickTime: get(o.tickTime),
  maxClientCnxns: get(o.maxClientCnxns),
  minSessionTimeout: get(o.minSessionTimeout),
  maxSessionTimeout: get(o.maxSessionTimeout),
  snapCount: get(o.snapCount),
  fourLetterWordWhitelist: get(o.fourLetterWordWhitelist),
  extendedTypes: o.extendedTypes,
  juteMaxBuffer: get(o.juteMaxBuffer),
  superDigest: get(o.superDigest),
  jaas: get(o.jaas),
  logLevel: get(o.logLevel),
  logFormat: get(o.logFormat),
  set: o.set
})

/**
 * Builds the `ezk` CLI around the server entry point and returns the argv runner (pass `process.argv`).
 * Requires CliApp.Environment (NodeContext.layer). Bad flags are reported by @effect/cli and config errors
 * as one line, both with exit code 2; only the server's own `E` fails the effect.
 */
export const makeCli = <E, R>(startServer: (config: Config.ZkConfig) => Effect.Effect<never, E, R>) => {
  const server = Command.make("server", serverOptions, (o) => serverCommand(toServerFlags(o), startServer)).pipe(
    Command.withDescription("Run a standalone ZooKeeper-compatible server")
  )
  const fourLetter = Command.make(
    "4lw",
    {
      word: Args.choice(FOUR_LETTER_WORDS.map((w): [string, FourLetterWord] => [w, w]), { name: "word" }),
      server: Options.text("server").pipe(Options.withDescription("host:port"), Options.withDefault("127.0.0.1:2181")),
      mask: Options.integer("mask").pipe(Options.withDescription("trace mask for stmk"), Options.optional),
      timeout: Options.integer("timeout").pipe(Options.withDescription("ms to wait for the reply"), Options.withDefault(10_000))
    },
    ({ word, server, mask, timeout }) => {
      const m = get(mask)
      return fourLetterCommand(word, server, { mask: m === undefined ? undefined : BigInt(m), timeoutMs: timeout })
    }
  ).pipe(Command.withDescription("Send a four-letter word to a server and print the reply"))
  const version = Command.make("version", {}, () => Console.log(`ezk ${EZK_VERSION} (ZooKeeper 3.8 compatible)`)).pipe(
    Command.withDescription("Print the ezk version")
  )
  const ensemble = Command.make(
    "ensemble",
    {
      nodes: Options.integer("nodes").pipe(Options.withDescription("voting peers"), Options.withDefault(ENSEMBLE_DEFAULTS.nodes)),
      observers: Options.integer("observers").pipe(Options.withDescription("observers"), Options.withDefault(ENSEMBLE_DEFAULTS.observers)),
      basePort: Options.integer("base-port").pipe(
        Options.withDescription("node N uses base+3(N-1) (client), +1 (quorum), +2 (election)"),
        Options.withDefault(ENSEMBLE_DEFAULTS.basePort)
      ),
      dataDir: Options.text("data-dir").pipe(
        Options.withDescription("holds node<N>/zoo.cfg and node<N>/data"),
        Options.withDefault(ENSEMBLE_DEFAULTS.dataDir)
      ),
      tickTime: Options.integer("tick-time").pipe(Options.withDescription("tickTime in ms"), Options.withDefault(ENSEMBLE_DEFAULTS.tickTime))
    },
    // Each node runs the same `ezk` script as this command (argv[1]) under the same Node.
    (flags) =>
      ensembleCommand(flags, process.argv[1] ?? "ezk").pipe(
        Effect.catchTag("EnsembleError", (e) =>
          Effect.zipRight(Console.error(`ezk ensemble: ${e.message}`), Effect.sync(() => void (process.exitCode = 2)))
        )
      )
  ).pipe(Command.withDescription("Run a local ensemble of ezk servers on loopback until interrupted"))
  // main.ts hands `ezk shell ...` to ShellMain before @effect/cli sees it (zkCli's `-server` style
  // flags are not @effect/cli's); this entry lists it in `ezk --help` and runs it for plain words.
  const shell = Command.make(
    "shell",
    { args: Args.text({ name: "args" }).pipe(Args.withDescription("[-server host:port] [-timeout ms] [-r] [cmd args...]"), Args.repeated) },
    ({ args }) => {
      const io = processIo()
      return Effect.scoped(runShell(args, io, stdinLines(io))).pipe(Effect.map((code) => void (process.exitCode = code)))
    }
  ).pipe(Command.withDescription("A zkCli.sh-compatible shell (docs/shell.md): ezk shell [-server host:port] [cmd args...]"))
  const checkHistory = Command.make(
    "check-history",
    {
      file: Args.file({ name: "file", exists: "yes" }).pipe(Args.withDescription("a history file, JSON lines (docs/checker.md)")),
      maxViolations: Options.integer("max-violations").pipe(Options.withDescription("violations to print"), Options.withDefault(20))
    },
    ({ file, maxViolations }) => checkHistoryCommand(file, maxViolations)
  ).pipe(Command.withDescription("Check a recorded client history (and peer logs) against ZooKeeper's guarantees; exit 0 VALID, 1 INVALID"))
  const root = Command.make("ezk").pipe(Command.withSubcommands([server, fourLetter, ensemble, shell, checkHistory, version]))
  const run = Command.run(root, { name: "ezk", version: EZK_VERSION })
  return (argv: ReadonlyArray<string>) =>
    run(argv).pipe(Effect.catchIf(ValidationError.isValidationError, () => Effect.sync(() => void (process.exitCode = 2))))
}
