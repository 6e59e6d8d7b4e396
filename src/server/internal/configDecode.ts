/**
 * zoo.cfg settings → ZkConfig with ZooKeeper 3.8's rules (QuorumPeerConfig and the `zookeeper.*`
 * system properties a zoo.cfg can set). Pure: notes are returned, not logged; the first invalid
 * value fails with a one-line ZkConfigError naming its key. Each group of keys has its own
 * decoder, called in the order ZooKeeper reads them, so notes and errors come in that order.
 */
import * as Either from "effect/Either"
import * as LogLevel from "effect/LogLevel"
import type { AuthProvider, LogFormat, ZkConfig } from "../Config.js"
import { FOUR_LETTER_WORDS, type FourLetterWord } from "../fourLetter/ServerView.js"
import { canonicalKey, classifyCanonical, isAuthProviderKey, unsupportedReason } from "./configKeys.js"
import { invalid, javaBool, javaDecode, javaInt, missing, type Note, type Parsed, port, type Setting, ZkConfigError } from "./configValues.js"
import { decodeQuorum, isQuorum, type SettingReader } from "./quorumConfig.js"

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
  const r = readSettings(settings)
  return Either.gen(function* () {
    const tickTime = yield* decodeTickTime(r)
    const dataDir = r.get("dataDir")?.value
    if (dataDir === undefined || dataDir === "") return yield* Either.left(missing("dataDir is not set (set dataDir in zoo.cfg or pass --data-dir)"))
    const client = yield* decodeClientPort(r)
    const sessions = yield* decodeSessionTimeouts(r, tickTime)
    const snapshots = yield* decodeSnapshots(r)
    const fourLetterWordWhitelist = decodeWhitelist(r)
    const extendedTypesEnabled = r.bool("extendedTypesEnabled", false)
    const juteMaxBuffer = r.sysInt("jute.maxbuffer", 0xfffff)
    if (juteMaxBuffer <= 0) return yield* Either.left(invalid(r.get("jute.maxbuffer")!, "must be positive"))
    const auth = yield* decodeAuth(r)
    const tuning = yield* decodeTuning(r)
    const logging = yield* decodeLogging(r)
    const quorum = yield* decodeQuorum(r)
    yield* refuseWeakerQuorum(r)

    // clientPort presence: ZooKeeper starts without a client listener; ezk refuses in standalone.
    if (client.clientPort === undefined && !isQuorum(quorum)) {
      if (client.clientPortAddress !== undefined) return yield* Either.left(missing("clientPortAddress is set but clientPort is not set"))
      return yield* Either.left(missing("clientPort is not set (set clientPort in zoo.cfg or pass --port)"))
    }
    const dataLogDirValue = r.get("dataLogDir")?.value
    const config: ZkConfig = {
      tickTime,
      dataDir,
      dataLogDir: dataLogDirValue === undefined || dataLogDirValue === "" ? dataDir : dataLogDirValue,
      clientPort: client.clientPort ?? -1,
      clientPortAddress: client.clientPortAddress,
      clientPortListenBacklog: client.clientPortListenBacklog,
      maxClientCnxns: client.maxClientCnxns,
      ...sessions,
      ...snapshots,
      fourLetterWordWhitelist,
      extendedTypesEnabled,
      juteMaxBuffer,
      ...auth,
      ...tuning,
      ...logging,
      quorum,
      source
    }
    return { config, notes: r.notes }
  })
}

/**
 * Quorum settings ezk cannot honour without quietly giving the operator less than they asked for:
 * plaintext where TLS was required, unauthenticated peers where SASL was required, or a different
 * quorum than the other peers count (hierarchical groups and weights). Refused, not warned about.
 */
const refuseWeakerQuorum = (r: SettingReader): Either.Either<void, ZkConfigError> => {
  const required = (k: string) => r.get(k)?.value.toLowerCase() === "true"
  if (required("sslQuorum")) return Either.left(invalid(r.get("sslQuorum")!, "TLS between peers is not supported by ezk; refusing to replicate in plaintext"))
  for (const k of ["quorum.auth.enableSasl", "quorum.auth.serverRequireSasl", "quorum.auth.learnerRequireSasl"]) {
    if (required(k)) return Either.left(invalid(r.get(k)!, "quorum SASL is not supported by ezk; refusing to run with peers that do not authenticate each other"))
  }
  for (const [k, setting] of r.byKey) {
    if (k.startsWith("group.") || k.startsWith("weight.")) {
      return Either.left(invalid(setting, "hierarchical quorums are not supported by ezk; refusing to count a different quorum than the other peers"))
    }
  }
  return Either.void
}

/** Indexes settings by canonical key (the last one wins) and notes keys that ezk does not apply. */
const readSettings = (settings: Iterable<Setting>): SettingReader => {
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
  const get = (k: string): Setting | undefined => byKey.get(k)
  return {
    byKey,
    get,
    notes,
    int: (k) => {
      const s = get(k)
      return s === undefined ? Either.right(undefined) : javaInt(s)
    },
    bool: (k, dflt) => {
      const s = get(k)
      return s === undefined ? dflt : javaBool(s, notes)
    },
    // A system property read with Integer.getInteger: a bad value silently falls back in ZooKeeper; ezk warns.
    sysInt: (k, dflt) => {
      const s = get(k)
      if (s === undefined) return dflt
      const n = javaDecode(s.value)
      if (n === undefined) {
        notes.push({ level: "Warning", message: `${s.origin}: ${k}=${s.value} is not an integer; using ${dflt}, as ZooKeeper does` })
        return dflt
      }
      return n
    }
  }
}

const positive = (r: SettingReader, k: string, n: number): Parsed<number> => (n > 0 ? Either.right(n) : Either.left(invalid(r.get(k)!, "must be positive")))

const decodeTickTime = (r: SettingReader): Parsed<number> =>
  Either.flatMap(r.int("tickTime"), (n) => {
    const tickTime = n ?? 3000
    if (tickTime > 0) return Either.right(tickTime)
    const at = r.get("tickTime")
    return Either.left(at ? invalid(at, "must be positive") : missing("tickTime is not set"))
  })

const decodeClientPort = (r: SettingReader) =>
  Either.gen(function* () {
    const at = r.get("clientPort")
    const clientPort = at === undefined ? undefined : yield* port(at)
    const address = r.get("clientPortAddress")?.value
    return {
      clientPort,
      clientPortAddress: address === undefined || address === "" ? undefined : address,
      clientPortListenBacklog: (yield* r.int("clientPortListenBacklog")) ?? -1,
      maxClientCnxns: (yield* r.int("maxClientCnxns")) ?? 60
    }
  })

/** min/maxSessionTimeout: -1 (or unset) means 2 and 20 ticks. */
const decodeSessionTimeouts = (r: SettingReader, tickTime: number) =>
  Either.gen(function* () {
    const minSet = r.get("minSessionTimeout")
    const maxSet = r.get("maxSessionTimeout")
    const minRaw = (yield* r.int("minSessionTimeout")) ?? -1
    const maxRaw = (yield* r.int("maxSessionTimeout")) ?? -1
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
    return { minSessionTimeout, maxSessionTimeout }
  })

/** snapCount and autopurge: out-of-range values warn and are reset, as ZooKeeper does. */
const decodeSnapshots = (r: SettingReader) =>
  Either.gen(function* () {
    let snapCount = r.sysInt("snapCount", 100000)
    if (snapCount < 2) {
      r.notes.push({ level: "Warning", message: `${r.get("snapCount")!.origin}: snapCount=${snapCount}: SnapCount should be 2 or more; reset to 2, as ZooKeeper does` })
      snapCount = 2
    }
    let autopurgeSnapRetainCount = (yield* r.int("autopurge.snapRetainCount")) ?? 3
    if (autopurgeSnapRetainCount < 3) {
      const at = r.get("autopurge.snapRetainCount")!.origin
      r.notes.push({ level: "Warning", message: `${at}: Invalid autopurge.snapRetainCount: ${autopurgeSnapRetainCount}. Defaulting to 3` })
      autopurgeSnapRetainCount = 3
    }
    const purge = (yield* r.int("autopurge.purgeInterval")) ?? 0
    return { snapCount, autopurgeSnapRetainCount, autopurgePurgeInterval: purge > 0 ? purge : 0 }
  })

/** The 4lw whitelist (FourLetterCommands.getWhiteList): `*` is every word; srvr is always on. */
const decodeWhitelist = (r: SettingReader): ReadonlySet<FourLetterWord> => {
  const whitelist = new Set<FourLetterWord>()
  const wl = r.get("4lw.commands.whitelist")
  if (wl !== undefined) {
    for (const raw of wl.value.split(",")) {
      const w = raw.trim()
      if (w === "") continue
      if (w === "*") {
        for (const x of FOUR_LETTER_WORDS) whitelist.add(x)
        break
      }
      if ((FOUR_LETTER_WORDS as ReadonlyArray<string>).includes(w)) whitelist.add(w as FourLetterWord)
      else r.notes.push({ level: "Warning", message: `${wl.origin}: 4lw.commands.whitelist: unknown command "${w}" ignored` })
    }
  }
  if (r.bool("readonlymode.enabled", false)) whitelist.add("isro")
  whitelist.add("srvr") // zkServer.sh status depends on it; ZooKeeper always adds it.
  return whitelist
}

const decodeAuth = (r: SettingReader) =>
  Either.gen(function* () {
    const superDigestSetting = r.get("superDigest")
    const superDigest = superDigestSetting === undefined || superDigestSetting.value === "" ? undefined : superDigestSetting.value
    if (superDigestSetting !== undefined && superDigest !== undefined && !/^[^:]+:.+$/.test(superDigest)) {
      return yield* Either.left(invalid(superDigestSetting, "expected user:base64(sha1(user:password))"))
    }
    const authProviders: Array<AuthProvider> = []
    for (const [k, s] of [...r.byKey].filter(([k]) => isAuthProviderKey(k)).sort(([a], [b]) => (a < b ? -1 : 1))) {
      const p = AUTH_CLASSES[s.value]
      if (p === undefined) r.notes.push({ level: "Warning", message: `${s.origin}: ${k}=${s.value} is not supported by ezk; ignored` })
      else if (!authProviders.includes(p)) authProviders.push(p)
    }
    const jaas = r.get("jaasLoginConfig")?.value
    const superUser = r.get("superUser")?.value
    return {
      superDigest,
      authProviders,
      jaasLoginConfig: jaas === undefined || jaas === "" ? undefined : jaas,
      jaasServerSection: r.get("sasl.serverconfig")?.value || "Server",
      superUser: superUser === undefined || superUser === "" ? undefined : superUser,
      enforceAuthSchemes: yield* decodeEnforceAuth(r, ["ip", "digest", ...authProviders])
    }
  })

/**
 * ZooKeeper 3.8 AuthenticationHelper: `sessionRequireClientSASLAuth=true` means scheme sasl (and the
 * enforce.auth keys are then not read); else `enforce.auth.enabled=true` needs `enforce.auth.schemes`,
 * each a registered provider (ip, digest, or an `authProvider.N`). ZooKeeper refuses to start otherwise.
 */
const decodeEnforceAuth = (r: SettingReader, available: ReadonlyArray<string>): Parsed<ReadonlyArray<string>> => {
  let at: Setting
  let schemes: Array<string>
  if (r.bool("sessionRequireClientSASLAuth", false)) {
    at = r.get("sessionRequireClientSASLAuth")!
    schemes = ["sasl"]
  } else {
    if (!r.bool("enforce.auth.enabled", false)) return Either.right([])
    const set = r.get("enforce.auth.schemes")
    schemes = (set?.value.split(",") ?? []).map((x) => x.trim()).filter((x, i, a) => x !== "" && a.indexOf(x) === i)
    if (set === undefined || schemes.length === 0) {
      return Either.left(missing(`${r.get("enforce.auth.enabled")!.origin}: enforce.auth.enabled is true but enforce.auth.schemes is not set`))
    }
    at = set
  }
  const unknown = schemes.find((x) => !available.includes(x))
  if (unknown !== undefined) return Either.left(invalid(at, `authentication scheme ${unknown} is not available (ip, digest, or one of authProvider.N)`))
  return Either.right(schemes)
}

/** Server tuning ZooKeeper reads as system properties (Integer.getInteger / Long.getLong). */
const decodeTuning = (r: SettingReader) =>
  Either.gen(function* () {
    const digestEnabled = r.bool("digest.enabled", true)
    const preAllocSizeKb = yield* positive(r, "preAllocSize", r.sysInt("preAllocSize", 65536))
    const globalOutstandingLimit = yield* positive(r, "globalOutstandingLimit", r.sysInt("globalOutstandingLimit", 1000))
    const sessionlessCnxnTimeoutMs = yield* positive(r, "nio.sessionlessCnxnTimeout", r.sysInt("nio.sessionlessCnxnTimeout", 10000))
    const containerCheckIntervalMs = yield* positive(r, "znode.container.checkIntervalMs", r.sysInt("znode.container.checkIntervalMs", 60000))
    const containerMaxPerMinute = yield* positive(r, "znode.container.maxPerMinute", r.sysInt("znode.container.maxPerMinute", 10000))
    const containerMaxNeverUsedIntervalMs = r.sysInt("znode.container.maxNeverUsedIntervalMs", 0)
    if (containerMaxNeverUsedIntervalMs < 0) return yield* Either.left(invalid(r.get("znode.container.maxNeverUsedIntervalMs")!, "must be 0 (never) or positive"))
    return {
      digestEnabled,
      preAllocSizeBytes: preAllocSizeKb * 1024,
      globalOutstandingLimit,
      sessionlessCnxnTimeoutMs,
      containerCheckIntervalMs,
      containerMaxNeverUsedIntervalMs,
      containerMaxPerMinute
    }
  })

/** The ezk logging keys. */
const decodeLogging = (r: SettingReader): Parsed<{ readonly logLevel: LogLevel.LogLevel; readonly logFormat: LogFormat }> => {
  const levelSetting = r.get("ezk.log.level")
  const logLevel = levelSetting === undefined ? LogLevel.Info : LOG_LEVELS[levelSetting.value.toLowerCase()]
  if (logLevel === undefined) return Either.left(invalid(levelSetting!, "expected one of trace, debug, info, warning, error, fatal, none"))
  const formatSetting = r.get("ezk.log.format")
  const logFormat = (formatSetting?.value ?? "logfmt").toLowerCase()
  if (logFormat !== "logfmt" && logFormat !== "json" && logFormat !== "pretty") return Either.left(invalid(formatSetting!, "expected logfmt, json or pretty"))
  return Either.right({ logLevel, logFormat })
}
