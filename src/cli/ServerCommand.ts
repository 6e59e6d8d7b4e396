/**
 * What `ezk server` does once its flags are known, with no argv library involved, so both the
 * @effect/cli command (Cli.ts) and the fast path (FastCli.ts) share it: flags → zoo.cfg keys → ZkConfig,
 * logger from the config, notes logged, then the injected `startServer`.
 */
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as FiberRef from "effect/FiberRef"
import * as HashSet from "effect/HashSet"
import * as Layer from "effect/Layer"
import * as Logger from "effect/Logger"
import * as Config from "../server/Config.js"

/** ezk's version, from package.json (`../../package.json` from both src/cli and dist/cli). */
export { EZK_VERSION } from "../Version.js"

const LOGGERS: Readonly<Record<Config.LogFormat, Logger.Logger<unknown, void>>> = {
  logfmt: Logger.withConsoleLog(Logger.logfmtLogger),
  json: Logger.withConsoleLog(Logger.jsonLogger),
  pretty: Logger.prettyLoggerDefault
}

/**
 * Logger for a config: format (logfmt | json | pretty) and minimum level. Provide once, at the edge.
 * It replaces both Effect's default logger and the pretty logger NodeRuntime.runMain installs, so each
 * event is printed once in the chosen format.
 */
export const loggerLayer = (config: Pick<Config.ZkConfig, "logLevel" | "logFormat">): Layer.Layer<never> =>
  Layer.merge(
    Layer.scopedDiscard(
      Effect.locallyScopedWith(FiberRef.currentLoggers, (loggers) =>
        loggers.pipe(
          HashSet.remove(Logger.defaultLogger),
          HashSet.remove(Logger.prettyLoggerDefault),
          HashSet.add(LOGGERS[config.logFormat])
        )
      )
    ),
    Logger.minimumLogLevel(config.logLevel)
  )

/** Flags of `ezk server`; absent ones undefined. */
export interface ServerFlags {
  readonly config?: string | undefined
  readonly port?: number | string | undefined
  readonly host?: string | undefined
  readonly dataDir?: string | undefined
  readonly dataLogDir?: string | undefined
  readonly tickTime?: number | string | undefined
  readonly maxClientCnxns?: number | string | undefined
  readonly minSessionTimeout?: number | string | undefined
  readonly maxSessionTimeout?: number | string | undefined
  readonly snapCount?: number | string | undefined
  readonly fourLetterWordWhitelist?: string | undefined
  readonly extendedTypes?: boolean | undefined
  readonly juteMaxBuffer?: number | string | undefined
  readonly superDigest?: string | undefined
  readonly jaas?: string | undefined
  readonly logLevel?: string | undefined
  readonly logFormat?: string | undefined
  /** `--set key=value`, in order. */
  readonly set?: ReadonlyArray<string> | undefined
}

/** Each specific flag, its zoo.cfg key and its ServerFlags field: one table for both parsers and the docs. */
export const FLAG_KEYS = [
  ["port", "clientPort", "port"],
  ["host", "clientPortAddress", "host"],
  ["data-dir", "dataDir", "dataDir"],
  ["data-log-dir", "dataLogDir", "dataLogDir"],
  ["tick-time", "tickTime", "tickTime"],
  ["max-client-cnxns", "maxClientCnxns", "maxClientCnxns"],
  ["min-session-timeout", "minSessionTimeout", "minSessionTimeout"],
  ["max-session-timeout", "maxSessionTimeout", "maxSessionTimeout"],
  ["snap-count", "snapCount", "snapCount"],
  ["4lw-whitelist", "4lw.commands.whitelist", "fourLetterWordWhitelist"],
  ["extended-types", "extendedTypesEnabled", "extendedTypes"],
  ["jute-maxbuffer", "jute.maxbuffer", "juteMaxBuffer"],
  ["super-digest", "superDigest", "superDigest"],
  ["jaas", "jaasLoginConfig", "jaas"],
  ["log-level", "ezk.log.level", "logLevel"],
  ["log-format", "ezk.log.format", "logFormat"]
] as const satisfies ReadonlyArray<readonly [string, string, keyof ServerFlags]>

/** Translates flags into Config.load options; a `--set` without `=` is a config error. */
export const serverLoadOptions = (flags: ServerFlags): Effect.Effect<Config.LoadOptions, Config.ZkConfigError> =>
  Effect.gen(function* () {
    const set: Array<readonly [string, string]> = []
    for (const kv of flags.set ?? []) {
      const eq = kv.indexOf("=")
      if (eq <= 0) {
        return yield* new Config.ZkConfigError({ reason: "Syntax", detail: `--set expects key=value, got ${JSON.stringify(kv)}` })
      }
      set.push([kv.slice(0, eq), kv.slice(eq + 1)])
    }
    const out: Array<readonly [string, string, string]> = []
    for (const [flag, key, field] of FLAG_KEYS) {
      const v = flags[field]
      // A boolean flag only turns the feature on; `--set extendedTypesEnabled=false` turns it off.
      if (v === undefined || v === false) continue
      out.push([key, String(v), `--${flag}`])
    }
    return { configFile: flags.config, set, flags: out }
  })

/** Decodes flags (+ zoo.cfg) into a config and its notes, without logging (the logger depends on the result). */
export const resolveServerConfig = (flags: ServerFlags): Effect.Effect<Config.Decoded, Config.ZkConfigError> =>
  Effect.gen(function* () {
    const options = yield* serverLoadOptions(flags)
    const file = options.configFile === undefined ? undefined : yield* Config.readZooCfg(options.configFile)
    return yield* Config.decodeLayers(file, options)
  })

/** Prints `ezk: <message>` to stderr and sets the exit code (runMain keeps process.exitCode on success). */
export const reportAndExit = (message: string, code: number): Effect.Effect<void> =>
  Console.error(`ezk: ${message}`).pipe(Effect.zipRight(Effect.sync(() => void (process.exitCode = code))))

/** Runs the server with a resolved config: logger from config, notes logged, ZkConfig in context. */
export const runServer = <E, R>(
  decoded: Config.Decoded,
  startServer: (config: Config.ZkConfig) => Effect.Effect<never, E, R>
): Effect.Effect<never, E, Exclude<R, Config.ZkConfig>> => {
  const { config, notes } = decoded
  const program = Effect.gen(function* () {
    yield* Effect.logInfo(config.source === undefined ? "using embedded defaults" : `using ${config.source}`)
    yield* Config.logNotes(notes)
    return yield* startServer(config)
  })
  return program.pipe(Effect.provideService(Config.ZkConfig, config), Effect.provide(loggerLayer(config))) as Effect.Effect<
    never,
    E,
    Exclude<R, Config.ZkConfig>
  >
}

/**
 * `ezk server` from flags: config errors print one line and exit 2 (ZooKeeper exits 2 on an invalid
 * config); otherwise runs the server and never returns.
 */
export const serverCommand = <E, R>(
  flags: ServerFlags,
  startServer: (config: Config.ZkConfig) => Effect.Effect<never, E, R>
): Effect.Effect<void, E, Exclude<R, Config.ZkConfig>> =>
  resolveServerConfig(flags).pipe(
    Effect.matchEffect({
      onFailure: (e) => reportAndExit(e.message, 2),
      onSuccess: (decoded) => runServer(decoded, startServer)
    })
  )
