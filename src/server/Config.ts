/**
 * ZkConfig: the server's configuration, read from a ZooKeeper `zoo.cfg` with ZooKeeper 3.8's meaning
 * (QuorumPeerConfig + the `zookeeper.*` system properties a zoo.cfg can set), overridable by CLI flags.
 *
 * Shape follows ShardingConfig (STYLE §2.3): a tag, `defaults`, `make`/`layer(partial)`, and
 * `layerFromZooCfg(path)`. Decoding is a hand-written table over the flat key/value map rather than
 * effect `Config` on `ConfigProvider.fromMap`, because ZooKeeper's semantics do not fit Config's
 * primitives: `Config.integer` uses parseInt (accepts `12abc`, which Java's Integer.parseInt rejects) and
 * `Config.boolean` accepts yes/on/1 (Java's Boolean.parseBoolean reads those as false); keys have aliases
 * (`zookeeper.X` system-property spellings), `server.N`/`authProvider.N` are enumerations, and several keys
 * warn-and-default (`autopurge.snapRetainCount < 3`, bad `snapCount`). A table keeps every such rule next to
 * its key and yields plain notes that the loader logs. That table is internal/configDecode.ts (pure);
 * this module holds the types, the sources (zoo.cfg, `--set`, flags) and the layers.
 *
 * Layering, lowest to highest: embedded defaults (only without a zoo.cfg) < zoo.cfg < `--set k=v` <
 * specific flags. A flag is just another key/value (e.g. `--port 2182` is `clientPort=2182`), so every
 * source goes through the same validation and error messages name the zoo.cfg key.
 */
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Layer from "effect/Layer"
import type * as LogLevel from "effect/LogLevel"
import * as fs from "node:fs/promises"
import type { FourLetterWord } from "./fourLetter/ServerView.js"
import { decode, type Decoded } from "./internal/configDecode.js"
import { type Note, type Setting, ZkConfigError } from "./internal/configValues.js"
import * as Properties from "./internal/properties.js"
import type { QuorumConfig } from "./internal/quorumConfig.js"

export { canonicalKey } from "./internal/configKeys.js"
export { decode, type Decoded } from "./internal/configDecode.js"
export { type Note, type Setting, ZkConfigError } from "./internal/configValues.js"
export { isQuorum, type QuorumAddress, type QuorumConfig, type QuorumServer } from "./internal/quorumConfig.js"

// ---------------------------------------------------------------------------------------------
// Types

/** Log line format (`ezk.log.format`). */
export type LogFormat = "logfmt" | "json" | "pretty"

/** Authentication providers ezk knows (`authProvider.N` class names map onto these). */
export type AuthProvider = "sasl" | "digest" | "ip"

/**
 * The resolved server configuration. Names are ZooKeeper's key names (so `conf` and docs map 1:1);
 * times are ms, sizes bytes. Derived defaults are already applied (min/max session timeout, dataLogDir).
 */
export interface ZkConfig {
  /** Tick length in ms. 3000 when a zoo.cfg omits it (ZooKeeper's default), 2000 in the embedded defaults. */
  readonly tickTime: number
  /** Snapshot directory (ezk adds `version-2`). Kept as written; relative paths are relative to the cwd. */
  readonly dataDir: string
  /** Txn-log directory; defaults to dataDir. */
  readonly dataLogDir: string
  /** Client port. 0 = pick a free port (ezk extension; ZooKeeper treats 0 as unset). -1 = not set (quorum peers take it from their server.N line). */
  readonly clientPort: number
  /** Address to bind; undefined = all interfaces. */
  readonly clientPortAddress: string | undefined
  /** listen() backlog; -1 = OS/Node default. */
  readonly clientPortListenBacklog: number
  /** Max concurrent connections per client IP; 0 or less = unlimited. */
  readonly maxClientCnxns: number
  readonly minSessionTimeout: number
  readonly maxSessionTimeout: number
  /** Txns between snapshots (ZooKeeper randomises the roll point in [snapCount/2, snapCount]). */
  readonly snapCount: number
  /** Snapshots (and their logs) kept by autopurge; at least 3. */
  readonly autopurgeSnapRetainCount: number
  /** Hours between purges; 0 = off. */
  readonly autopurgePurgeInterval: number
  /** Resolved 4lw whitelist (`*` expanded; always contains `srvr`, as ZooKeeper forces it). */
  readonly fourLetterWordWhitelist: ReadonlySet<FourLetterWord>
  /** TTL nodes and other extended types (`zookeeper.extendedTypesEnabled`). */
  readonly extendedTypesEnabled: boolean
  /** Max frame/field size in bytes (`jute.maxbuffer`, 0xfffff). */
  readonly juteMaxBuffer: number
  /** `user:base64(sha1(user:password))` of the digest super user, if any. */
  readonly superDigest: string | undefined
  /** Extra auth providers from `authProvider.N` (digest and ip are always available). */
  readonly authProviders: ReadonlyArray<AuthProvider>
  /** JAAS file for SASL (`jaasLoginConfig` / `java.security.auth.login.config`). */
  readonly jaasLoginConfig: string | undefined
  /** JAAS section for the server (`zookeeper.sasl.serverconfig`, default `Server`). */
  readonly jaasServerSection: string
  /** SASL user treated as super (`zookeeper.superUser`). */
  readonly superUser: string | undefined
  /**
   * `enforce.auth.enabled` + `enforce.auth.schemes`, or `sessionRequireClientSASLAuth` (scheme sasl):
   * the schemes a session must have authenticated with before any request but auth/SASL is served
   * (ZooKeeper 3.8 AuthenticationHelper). Empty = not enforced.
   */
  readonly enforceAuthSchemes: ReadonlyArray<string>
  /** Maintain ZooKeeper's tree digest and log it with every txn (`digest.enabled`). */
  readonly digestEnabled: boolean
  /** Txn-log preallocation chunk in bytes (`preAllocSize` is in KiB). */
  readonly preAllocSizeBytes: number
  /** Writes waiting for the disk above which clients are not read from (`globalOutstandingLimit`). */
  readonly globalOutstandingLimit: number
  /** How long a connection may stay without a session (`nio.sessionlessCnxnTimeout`). */
  readonly sessionlessCnxnTimeoutMs: number
  /** How often empty containers and expired TTL nodes are reaped (`znode.container.checkIntervalMs`). */
  readonly containerCheckIntervalMs: number
  /** A container never given a child is reaped after this long; 0 = never (`znode.container.maxNeverUsedIntervalMs`). */
  readonly containerMaxNeverUsedIntervalMs: number
  /** Reaping rate limit (`znode.container.maxPerMinute`). */
  readonly containerMaxPerMinute: number
  readonly logLevel: LogLevel.LogLevel
  readonly logFormat: LogFormat
  readonly quorum: QuorumConfig
  /** The zoo.cfg read, if any. */
  readonly source: string | undefined
}

/** Service tag for the configuration. */
export const ZkConfig = Context.GenericTag<ZkConfig>("zk/server/ZkConfig")

// ---------------------------------------------------------------------------------------------
// Embedded defaults

/** 4lw words enabled by the embedded defaults: the read-only, non-sensitive ones (so `echo ruok | nc` works). */
export const EMBEDDED_4LW = ["ruok", "srvr", "stat", "mntr", "conf", "envi", "cons", "wchs", "dirs", "isro"] as const

/**
 * zoo.cfg keys used when `ezk server` runs without `--config`: loopback only, port 2181, tickTime 2000,
 * data in `./ezk-data`, and the read-only 4lw words. With a zoo.cfg, none of these apply (ZooKeeper's own
 * defaults do: tickTime 3000, all interfaces, whitelist `srvr`, dataDir required).
 */
export const embeddedDefaults: Readonly<Record<string, string>> = {
  clientPortAddress: "127.0.0.1",
  clientPort: "2181",
  tickTime: "2000",
  dataDir: "./ezk-data",
  "4lw.commands.whitelist": EMBEDDED_4LW.join(",")
}

// ---------------------------------------------------------------------------------------------
// Sources

/** Settings from a record, tagged with `origin` (for embedded defaults, `--set`, tests). */
export const settingsFromRecord = (record: Readonly<Record<string, string>>, origin: string): Array<Setting> =>
  Object.entries(record).map(([key, value]) => ({ key, value, origin }))

/** Settings from zoo.cfg text; `name` prefixes origins (`zoo.cfg:12`). */
export const settingsFromZooCfgText = (text: string, name: string): Either.Either<Array<Setting>, ZkConfigError> =>
  Either.try({
    try: () => Properties.parse(text).map((e) => ({ key: e.key, value: e.value, origin: `${name}:${e.line}` })),
    catch: (e) => new ZkConfigError({ reason: "Syntax", detail: `${name}: ${e instanceof Error ? e.message : String(e)}` })
  })

/** Reads a zoo.cfg into settings. */
export const readZooCfg = (path: string): Effect.Effect<Array<Setting>, ZkConfigError> =>
  Effect.tryPromise({
    try: () => fs.readFile(path, "utf8"),
    catch: (e) =>
      new ZkConfigError({ reason: "Read", detail: `cannot read config file ${path}: ${(e as NodeJS.ErrnoException).code ?? String(e)}` })
  }).pipe(Effect.flatMap((text) => settingsFromZooCfgText(text, path)))

/** What {@link load} layers together. */
export interface LoadOptions {
  /** Path of a zoo.cfg; without it the embedded defaults are the base. */
  readonly configFile?: string | undefined
  /** `--set key=value` pairs, in order. */
  readonly set?: ReadonlyArray<readonly [string, string]>
  /** Specific flags translated to zoo.cfg keys, with the flag name as origin (e.g. `["clientPort", "2182", "--port"]`). */
  readonly flags?: ReadonlyArray<readonly [key: string, value: string, flag: string]>
}

/** Logs decode notes at their level, annotated with the config source. */
export const logNotes = (notes: ReadonlyArray<Note>): Effect.Effect<void> =>
  Effect.forEach(notes, (n) => (n.level === "Warning" ? Effect.logWarning(n.message) : Effect.logInfo(n.message)), { discard: true })

/** Pure part of {@link load}: layers sources and decodes. */
export const decodeLayers = (
  fileSettings: ReadonlyArray<Setting> | undefined,
  options: LoadOptions
): Either.Either<Decoded, ZkConfigError> => {
  const settings: Array<Setting> = [
    ...(fileSettings ?? settingsFromRecord(embeddedDefaults, "defaults")),
    ...(options.set ?? []).map(([key, value]) => ({ key, value, origin: "--set" })),
    ...(options.flags ?? []).map(([key, value, flag]) => ({ key, value, origin: flag }))
  ]
  return decode(settings, options.configFile)
}

/**
 * Builds the configuration: zoo.cfg (or embedded defaults) < `--set` < flags; logs the notes (unknown
 * keys warn and are ignored, as ZooKeeper keeps going) and fails with a one-line ZkConfigError.
 */
export const load = (options: LoadOptions): Effect.Effect<ZkConfig, ZkConfigError> =>
  Effect.gen(function* () {
    const file = options.configFile === undefined ? undefined : yield* readZooCfg(options.configFile)
    const { config, notes } = yield* decodeLayers(file, options)
    yield* logNotes(notes)
    return config
  })

// ---------------------------------------------------------------------------------------------
// ShardingConfig-style constructors

/** The embedded defaults, decoded (what `ezk server` runs with when given nothing). */
export const defaults: ZkConfig = Either.getOrThrow(decode(settingsFromRecord(embeddedDefaults, "defaults"))).config

/**
 * A config from defaults plus overrides, for tests and embedding. Derived values follow the overrides:
 * session timeouts track `tickTime` and `dataLogDir` tracks `dataDir` unless given explicitly.
 */
export const make = (overrides: Partial<ZkConfig> = {}): ZkConfig => {
  const tickTime = overrides.tickTime ?? defaults.tickTime
  const dataDir = overrides.dataDir ?? defaults.dataDir
  return {
    ...defaults,
    ...overrides,
    minSessionTimeout: overrides.minSessionTimeout ?? tickTime * 2,
    maxSessionTimeout: overrides.maxSessionTimeout ?? tickTime * 20,
    dataLogDir: overrides.dataLogDir ?? dataDir
  }
}

/** Layer with {@link make}`(overrides)`. */
export const layer = (overrides: Partial<ZkConfig> = {}): Layer.Layer<ZkConfig> => Layer.succeed(ZkConfig, make(overrides))

/** Layer reading a zoo.cfg (ZooKeeper semantics), with optional `--set`-style overrides. */
export const layerFromZooCfg = (
  path: string,
  overrides: Readonly<Record<string, string>> = {}
): Layer.Layer<ZkConfig, ZkConfigError> =>
  Layer.effect(ZkConfig, load({ configFile: path, set: Object.entries(overrides) }))
