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
 * its key and yields plain notes that the loader logs.
 *
 * Layering, lowest to highest: embedded defaults (only without a zoo.cfg) < zoo.cfg < `--set k=v` <
 * specific flags. A flag is just another key/value (e.g. `--port 2182` is `clientPort=2182`), so every
 * source goes through the same validation and error messages name the zoo.cfg key.
 */
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Layer from "effect/Layer"
import * as LogLevel from "effect/LogLevel"
import * as fs from "node:fs/promises"
import { FOUR_LETTER_WORDS, type FourLetterWord } from "./fourLetter/ServerView.js"
import { canonicalKey, classifyCanonical, isAuthProviderKey, unsupportedReason } from "./internal/configKeys.js"
import { invalid, javaBool, javaDecode, javaInt, missing, type Note, type Parsed, port, type Setting, ZkConfigError } from "./internal/configValues.js"
import * as Properties from "./internal/properties.js"
import { decodeQuorum, isQuorum, type QuorumConfig } from "./internal/quorumConfig.js"

export { canonicalKey } from "./internal/configKeys.js"
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
// Value tables

const LOG_LEVELS: Readonly<Record<string, LogLevel.LogLevel>> = {
  all: LogLevel.All,
  trace: LogLevel.Trace,
  debug: LogLevel.Debug,
  info: LogLevel.Info,
  warn: LogLevel.Warning,
  warning: LogLevel.Warning,
  error: LogLevel.Error,
  fatal: LogLevel.Fatal,
  none: LogLevel.None,
  off: LogLevel.None
}

const AUTH_CLASSES: Readonly<Record<string, AuthProvider>> = {
  "org.apache.zookeeper.server.auth.SASLAuthenticationProvider": "sasl",
  "org.apache.zookeeper.server.auth.DigestAuthenticationProvider": "digest",
  "org.apache.zookeeper.server.auth.IPAuthenticationProvider": "ip"
}

// ---------------------------------------------------------------------------------------------
// Decoding

/** Result of a successful decode: the config and what to log about it. */
export interface Decoded {
  readonly config: ZkConfig
  readonly notes: ReadonlyArray<Note>
}


/**
 * Decodes layered settings (later ones win per canonical key) into a ZkConfig with ZooKeeper's rules.
 * Pure: returns the notes instead of logging them. Fails on the first invalid value.
 */
export const decode = (settings: Iterable<Setting>, source?: string): Either.Either<Decoded, ZkConfigError> => {
  const notes: Array<Note> = []
  const byKey = new Map<string, Setting>()
  const seenRaw = new Set<string>()
  for (const s of settings) {
    const key = canonicalKey(s.key.trim())
    const setting: Setting = { key, value: s.value.trim(), origin: s.origin }
    byKey.delete(key) // keep insertion order = order of the winning setting
    byKey.set(key, setting)
    if (seenRaw.has(s.key)) continue
    seenRaw.add(s.key)
    const cls = classifyCanonical(key)
    if (cls === "unknown") notes.push({ level: "Warning", message: `${s.origin}: unknown key ${s.key}; ignored` })
    else if (cls === "ignored") notes.push({ level: "Info", message: `${s.origin}: ${s.key} does not apply to ezk; ignored` })
    else if (cls === "tls") notes.push({ level: "Warning", message: `${s.origin}: ${s.key}: TLS is not supported by ezk; ignored` })
    else if (cls === "unsupported") notes.push({ level: "Warning", message: `${s.origin}: ${s.key}: ${unsupportedReason(key)}; ignored` })
  }
  return Either.gen(function* () {
    const get = (k: string): Setting | undefined => byKey.get(k)
    const int = (k: string): Parsed<number | undefined> => {
      const s = get(k)
      return s === undefined ? Either.right(undefined) : javaInt(s)
    }
    const bool = (k: string, dflt: boolean): boolean => {
      const s = get(k)
      return s === undefined ? dflt : javaBool(s, notes)
    }
    // A system property read with Integer.getInteger: a bad value silently falls back in ZooKeeper; ezk warns.
    const sysInt = (k: string, dflt: number): number => {
      const s = get(k)
      if (s === undefined) return dflt
      const n = javaDecode(s.value)
      if (n === undefined) {
        notes.push({ level: "Warning", message: `${s.origin}: ${k}=${s.value} is not an integer; using ${dflt}, as ZooKeeper does` })
        return dflt
      }
      return n
    }
    const positive = (k: string, n: number): Parsed<number> => (n > 0 ? Either.right(n) : Either.left(invalid(get(k)!, "must be positive")))

    // --- core keys
    const tickTimeSetting = get("tickTime")
    const tickTime = (yield* int("tickTime")) ?? 3000
    if (tickTime <= 0) return yield* Either.left(tickTimeSetting ? invalid(tickTimeSetting, "must be positive") : missing("tickTime is not set"))
    const dataDir = get("dataDir")?.value
    if (dataDir === undefined || dataDir === "") return yield* Either.left(missing("dataDir is not set (set dataDir in zoo.cfg or pass --data-dir)"))
    const dataLogDirValue = get("dataLogDir")?.value
    const dataLogDir = dataLogDirValue === undefined || dataLogDirValue === "" ? dataDir : dataLogDirValue

    const clientPortSetting = get("clientPort")
    const clientPortValue = clientPortSetting === undefined ? undefined : yield* port(clientPortSetting)
    const clientPortAddressValue = get("clientPortAddress")?.value
    const clientPortAddress = clientPortAddressValue === undefined || clientPortAddressValue === "" ? undefined : clientPortAddressValue
    const clientPortListenBacklog = (yield* int("clientPortListenBacklog")) ?? -1
    const maxClientCnxns = (yield* int("maxClientCnxns")) ?? 60

    const minSet = get("minSessionTimeout")
    const maxSet = get("maxSessionTimeout")
    const minRaw = (yield* int("minSessionTimeout")) ?? -1
    const maxRaw = (yield* int("maxSessionTimeout")) ?? -1
    if (minSet !== undefined && minRaw < -1) return yield* Either.left(invalid(minSet, "must be positive, or -1 for 2 × tickTime"))
    if (maxSet !== undefined && maxRaw < -1) return yield* Either.left(invalid(maxSet, "must be positive, or -1 for 20 × tickTime"))
    const minSessionTimeout = minRaw === -1 ? tickTime * 2 : minRaw
    const maxSessionTimeout = maxRaw === -1 ? tickTime * 20 : maxRaw
    if (minSessionTimeout > maxSessionTimeout) {
      return yield* Either.left(
        new ZkConfigError({
          reason: "Inconsistent",
          detail: `minSessionTimeout must not be larger than maxSessionTimeout (minSessionTimeout=${minSessionTimeout}, maxSessionTimeout=${maxSessionTimeout})`
        })
      )
    }

    let snapCount = sysInt("snapCount", 100000)
    if (snapCount < 2) {
      notes.push({ level: "Warning", message: `${get("snapCount")!.origin}: snapCount=${snapCount}: SnapCount should be 2 or more; reset to 2, as ZooKeeper does` })
      snapCount = 2
    }
    let autopurgeSnapRetainCount = (yield* int("autopurge.snapRetainCount")) ?? 3
    if (autopurgeSnapRetainCount < 3) {
      const at = get("autopurge.snapRetainCount")!.origin
      notes.push({ level: "Warning", message: `${at}: Invalid autopurge.snapRetainCount: ${autopurgeSnapRetainCount}. Defaulting to 3` })
      autopurgeSnapRetainCount = 3
    }
    const purge = (yield* int("autopurge.purgeInterval")) ?? 0
    const autopurgePurgeInterval = purge > 0 ? purge : 0

    // --- 4lw whitelist (FourLetterCommands.getWhiteList)
    const whitelist = new Set<FourLetterWord>()
    const wl = get("4lw.commands.whitelist")
    if (wl !== undefined) {
      for (const raw of wl.value.split(",")) {
        const w = raw.trim()
        if (w === "") continue
        if (w === "*") {
          for (const x of FOUR_LETTER_WORDS) whitelist.add(x)
          break
        }
        if ((FOUR_LETTER_WORDS as ReadonlyArray<string>).includes(w)) whitelist.add(w as FourLetterWord)
        else notes.push({ level: "Warning", message: `${wl.origin}: 4lw.commands.whitelist: unknown command "${w}" ignored` })
      }
    }
    if (bool("readonlymode.enabled", false)) whitelist.add("isro")
    whitelist.add("srvr") // zkServer.sh status depends on it; ZooKeeper always adds it.

    const extendedTypesEnabled = bool("extendedTypesEnabled", false)
    const juteMaxBuffer = sysInt("jute.maxbuffer", 0xfffff)
    if (juteMaxBuffer <= 0) return yield* Either.left(invalid(get("jute.maxbuffer")!, "must be positive"))

    // --- auth
    const superDigestSetting = get("superDigest")
    const superDigest = superDigestSetting === undefined || superDigestSetting.value === "" ? undefined : superDigestSetting.value
    if (superDigestSetting !== undefined && superDigest !== undefined && !/^[^:]+:.+$/.test(superDigest)) {
      return yield* Either.left(invalid(superDigestSetting, "expected user:base64(sha1(user:password))"))
    }
    const authProviders: Array<AuthProvider> = []
    for (const [k, s] of [...byKey].filter(([k]) => isAuthProviderKey(k)).sort(([a], [b]) => (a < b ? -1 : 1))) {
      const p = AUTH_CLASSES[s.value]
      if (p === undefined) notes.push({ level: "Warning", message: `${s.origin}: ${k}=${s.value} is not supported by ezk; ignored` })
      else if (!authProviders.includes(p)) authProviders.push(p)
    }
    const jaas = get("jaasLoginConfig")?.value
    const jaasLoginConfig = jaas === undefined || jaas === "" ? undefined : jaas
    const jaasServerSection = get("sasl.serverconfig")?.value || "Server"
    const superUserValue = get("superUser")?.value
    const superUser = superUserValue === undefined || superUserValue === "" ? undefined : superUserValue
    const enforceAuthSchemes = yield* decodeEnforceAuth(get, bool, ["ip", "digest", ...authProviders])

    // --- server tuning read as system properties (Integer.getInteger / Long.getLong in ZooKeeper)
    const digestEnabled = bool("digest.enabled", true)
    const preAllocSizeKb = yield* positive("preAllocSize", sysInt("preAllocSize", 65536))
    const globalOutstandingLimit = yield* positive("globalOutstandingLimit", sysInt("globalOutstandingLimit", 1000))
    const sessionlessCnxnTimeoutMs = yield* positive("nio.sessionlessCnxnTimeout", sysInt("nio.sessionlessCnxnTimeout", 10000))
    const containerCheckIntervalMs = yield* positive("znode.container.checkIntervalMs", sysInt("znode.container.checkIntervalMs", 60000))
    const containerMaxPerMinute = yield* positive("znode.container.maxPerMinute", sysInt("znode.container.maxPerMinute", 10000))
    const containerMaxNeverUsedIntervalMs = sysInt("znode.container.maxNeverUsedIntervalMs", 0)
    if (containerMaxNeverUsedIntervalMs < 0) return yield* Either.left(invalid(get("znode.container.maxNeverUsedIntervalMs")!, "must be 0 (never) or positive"))

    // --- logging (ezk keys)
    const levelSetting = get("ezk.log.level")
    const logLevel = levelSetting === undefined ? LogLevel.Info : LOG_LEVELS[levelSetting.value.toLowerCase()]
    if (logLevel === undefined) return yield* Either.left(invalid(levelSetting!, "expected one of trace, debug, info, warning, error, fatal, none"))
    const formatSetting = get("ezk.log.format")
    const logFormat = (formatSetting?.value ?? "logfmt").toLowerCase()
    if (logFormat !== "logfmt" && logFormat !== "json" && logFormat !== "pretty") {
      return yield* Either.left(invalid(formatSetting!, "expected logfmt, json or pretty"))
    }

    const quorum = yield* decodeQuorum({ byKey, get, int, bool, sysInt, notes })

    // --- clientPort presence (ZooKeeper starts without a client listener; ezk refuses in standalone).
    if (clientPortValue === undefined && !isQuorum(quorum)) {
      if (clientPortAddress !== undefined) return yield* Either.left(missing("clientPortAddress is set but clientPort is not set"))
      return yield* Either.left(missing("clientPort is not set (set clientPort in zoo.cfg or pass --port)"))
    }
    const clientPort = clientPortValue ?? -1

    const config: ZkConfig = {
      tickTime,
      dataDir,
      dataLogDir,
      clientPort,
      clientPortAddress,
      clientPortListenBacklog,
      maxClientCnxns,
      minSessionTimeout,
      maxSessionTimeout,
      snapCount,
      autopurgeSnapRetainCount,
      autopurgePurgeInterval,
      fourLetterWordWhitelist: whitelist,
      extendedTypesEnabled,
      juteMaxBuffer,
      superDigest,
      authProviders,
      jaasLoginConfig,
      jaasServerSection,
      superUser,
      enforceAuthSchemes,
      digestEnabled,
      preAllocSizeBytes: preAllocSizeKb * 1024,
      globalOutstandingLimit,
      sessionlessCnxnTimeoutMs,
      containerCheckIntervalMs,
      containerMaxNeverUsedIntervalMs,
      containerMaxPerMinute,
      logLevel,
      logFormat,
      quorum,
      source
    }
    return { config, notes }
  })
}

/**
 * ZooKeeper 3.8 AuthenticationHelper: `sessionRequireClientSASLAuth=true` means scheme sasl (and the
 * enforce.auth keys are then not read); else `enforce.auth.enabled=true` needs `enforce.auth.schemes`,
 * each a registered provider (ip, digest, or an `authProvider.N`). ZooKeeper refuses to start otherwise.
 */
const decodeEnforceAuth = (
  get: (k: string) => Setting | undefined,
  bool: (k: string, dflt: boolean) => boolean,
  available: ReadonlyArray<string>
): Parsed<ReadonlyArray<string>> => {
  let at: Setting
  let schemes: Array<string>
  if (bool("sessionRequireClientSASLAuth", false)) {
    at = get("sessionRequireClientSASLAuth")!
    schemes = ["sasl"]
  } else {
    if (!bool("enforce.auth.enabled", false)) return Either.right([])
    const set = get("enforce.auth.schemes")
    schemes = (set?.value.split(",") ?? []).map((x) => x.trim()).filter((x, i, a) => x !== "" && a.indexOf(x) === i)
    if (set === undefined || schemes.length === 0) {
      return Either.left(missing(`${get("enforce.auth.enabled")!.origin}: enforce.auth.enabled is true but enforce.auth.schemes is not set`))
    }
    at = set
  }
  const unknown = schemes.find((x) => !available.includes(x))
  if (unknown !== undefined) return Either.left(invalid(at, `authentication scheme ${unknown} is not available (ip, digest, or one of authProvider.N)`))
  return Either.right(schemes)
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
