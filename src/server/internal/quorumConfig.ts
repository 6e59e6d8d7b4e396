/**
 * The quorum keys of zoo.cfg (QuorumPeerConfig 3.8): `server.N` lines, the
 * limits in ticks and the election settings ZooKeeper reads as system properties. Pure; checks that
 * need this peer's id (the `myid` file) are in Ensemble.ts.
 */
import * as Either from "effect/Either"
import { invalid, missing, type Note, type Parsed, type Setting, ZkConfigError } from "./configValues.js"

/** One address of a quorum member (`host:quorumPort:electionPort`). */
export interface QuorumAddress {
  readonly host: string
  readonly quorumPort: number
  readonly electionPort: number
}

/** A `server.N=` line (QuorumPeer.QuorumServer), parsed. */
export interface QuorumServer {
  readonly sid: number
  /** One or more addresses (`|`-separated when multiAddress is used). */
  readonly addresses: ReadonlyArray<QuorumAddress>
  readonly type: "participant" | "observer"
  /** The `;[host:]port` client part, if given. */
  readonly clientAddress: { readonly host: string | undefined; readonly port: number } | undefined
  /** The text after `server.N=`, verbatim (trimmed). */
  readonly spec: string
}

/** Quorum keys, validated; standalone refuses to start with them, the ensemble runs from them. */
export interface QuorumConfig {
  /** Ticks a follower may take to connect and sync (required in a quorum). */
  readonly initLimit: number | undefined
  /** Ticks a follower may lag (required in a quorum). */
  readonly syncLimit: number | undefined
  readonly servers: ReadonlyArray<QuorumServer>
  readonly peerType: "participant" | "observer"
  readonly electionAlg: number
  /** Bind the quorum and election ports on all interfaces, not only the server.N host. */
  readonly quorumListenOnAllIPs: boolean
  /** Election connect (and handshake read) timeout in ms (`cnxTimeout`, QuorumCnxManager, default 5000). */
  readonly cnxTimeoutMs: number
  /** Attempts to bind the election port before giving up; 0 = keep trying (`electionPortBindRetry`, default 3). */
  readonly electionPortBindRetry: number
  /** FastLeaderElection's first notification timeout in ms (`fastleader.minNotificationInterval`, 200). */
  readonly minNotificationIntervalMs: number
  /** Cap of the doubling notification timeout in ms (`fastleader.maxNotificationInterval`, 60000). */
  readonly maxNotificationIntervalMs: number
  readonly standaloneEnabled: boolean
  /**
   * A leader may DIFF a learner from its txn log while the txns weigh at most this × the data a SNAP
   * would send; negative: never (`zookeeper.snapshotSizeFactor`, default 0.33).
   */
  readonly snapshotSizeFactor: number
}

const QUORUM_SPEC_HELP = "expected host:quorumPort:electionPort[:participant|observer][;[clientHost:]clientPort]"

/** Splits `host:port` where host may be a bracketed IPv6 literal. */
const splitHostParts = (text: string): Array<string> | undefined => {
  if (text.startsWith("[")) {
    const end = text.indexOf("]")
    if (end < 0) return undefined
    const rest = text.slice(end + 1)
    if (rest !== "" && !rest.startsWith(":")) return undefined
    return [text.slice(1, end), ...(rest === "" ? [] : rest.slice(1).split(":"))]
  }
  return text.split(":")
}

const portNumber = (text: string | undefined): number | undefined => {
  if (text === undefined || !/^\d+$/.test(text)) return undefined
  const n = Number(text)
  return n <= 65535 ? n : undefined
}

/** Parses a `server.N` value (QuorumServer's format in 3.8). */
const quorumServer = (s: Setting, sid: number): Parsed<QuorumServer> => {
  const spec = s.value
  const [serverPart, clientPart, extra] = spec.split(";") as [string, string | undefined, string | undefined]
  if (extra !== undefined) return Either.left(invalid(s, QUORUM_SPEC_HELP))
  const addresses: Array<QuorumAddress> = []
  let type: "participant" | "observer" = "participant"
  for (const addr of serverPart.split("|")) {
    const parts = splitHostParts(addr.trim())
    if (parts === undefined || parts.length < 3 || parts.length > 4) return Either.left(invalid(s, QUORUM_SPEC_HELP))
    const quorumPort = portNumber(parts[1])
    const electionPort = portNumber(parts[2])
    if (parts[0] === "" || quorumPort === undefined || electionPort === undefined) return Either.left(invalid(s, QUORUM_SPEC_HELP))
    if (parts[3] !== undefined) {
      const t = parts[3].toLowerCase()
      if (t !== "participant" && t !== "observer") return Either.left(invalid(s, `unknown server type "${parts[3]}" (participant or observer)`))
      type = t
    }
    addresses.push({ host: parts[0]!, quorumPort, electionPort })
  }
  let clientAddress: QuorumServer["clientAddress"] = undefined
  if (clientPart !== undefined) {
    const parts = splitHostParts(clientPart.trim())
    const p = portNumber(parts?.[parts.length - 1])
    if (parts === undefined || parts.length > 2 || p === undefined) return Either.left(invalid(s, QUORUM_SPEC_HELP))
    clientAddress = { host: parts.length === 2 ? parts[0] : undefined, port: p }
  }
  return Either.right({ sid, addresses, type, clientAddress, spec })
}

/** How decodeQuorum reads the layered settings (Config.decode's accessors, with its notes). */
export interface SettingReader {
  readonly byKey: ReadonlyMap<string, Setting>
  readonly get: (k: string) => Setting | undefined
  readonly int: (k: string) => Parsed<number | undefined>
  readonly bool: (k: string, dflt: boolean) => boolean
  /** A system property read with Integer.getInteger (bad values warn and default). */
  readonly sysInt: (k: string, dflt: number) => number
  readonly notes: Array<Note>
}

const inconsistent = (detail: string): ZkConfigError => new ZkConfigError({ reason: "Inconsistent", detail })

/** Every quorum and election endpoint must be distinct: two peers cannot bind (or be reached at) one address. */
const checkDistinctAddresses = (servers: ReadonlyArray<QuorumServer>): Parsed<void> => {
  const owner = new Map<string, string>()
  for (const s of servers) {
    for (const a of s.addresses) {
      for (const [what, p] of [["quorum", a.quorumPort], ["election", a.electionPort]] as const) {
        const endpoint = `${a.host}:${p}`
        const mine = `server.${s.sid} (${what} port)`
        const other = owner.get(endpoint)
        if (other !== undefined) return Either.left(inconsistent(`${other} and ${mine} both use ${endpoint}`))
        owner.set(endpoint, mine)
      }
    }
  }
  return Either.right(undefined)
}

const positiveLimit = (r: SettingReader, key: "initLimit" | "syncLimit", value: number | undefined): Parsed<number | undefined> => {
  if (value === undefined) return Either.left(missing(`${key} is not set (required with server.N entries)`))
  return value > 0 ? Either.right(value) : Either.left(invalid(r.get(key)!, "must be a positive number of ticks"))
}

/** Whether the server.N lines make this a replicated peer (ZooKeeper: more than one server, or one with standaloneEnabled=false). */
export const isQuorum = (q: Pick<QuorumConfig, "servers" | "standaloneEnabled">): boolean =>
  q.servers.length > 1 || (q.servers.length === 1 && !q.standaloneEnabled)

type ElectionSettings = Pick<QuorumConfig, "electionAlg" | "cnxTimeoutMs" | "electionPortBindRetry" | "minNotificationIntervalMs" | "maxNotificationIntervalMs">

/** The election settings: electionAlg must be 3 (FastLeaderElection, the only one in 3.8), timeouts positive. */
const decodeElection = (r: SettingReader): Parsed<ElectionSettings> =>
  Either.gen(function* () {
    const { get, int, sysInt } = r
    const electionAlg = (yield* int("electionAlg")) ?? 3
    if (electionAlg !== 3) return yield* Either.left(invalid(get("electionAlg")!, "only 3 (FastLeaderElection) is supported, as in ZooKeeper 3.8"))
    const cnxTimeoutMs = sysInt("cnxTimeout", 5000)
    if (cnxTimeoutMs <= 0) return yield* Either.left(invalid(get("cnxTimeout")!, "must be a positive number of ms"))
    let electionPortBindRetry = sysInt("electionPortBindRetry", 3)
    if (electionPortBindRetry < 0) {
      // QuorumCnxManager.Listener: a negative count is logged and replaced by the default.
      r.notes.push({ level: "Warning", message: `${get("electionPortBindRetry")!.origin}: electionPortBindRetry=${electionPortBindRetry} must be >= 0; using 3, as ZooKeeper does` })
      electionPortBindRetry = 3
    }
    const minNotificationIntervalMs = sysInt("fastleader.minNotificationInterval", 200)
    const maxNotificationIntervalMs = sysInt("fastleader.maxNotificationInterval", 60000)
    if (minNotificationIntervalMs <= 0) return yield* Either.left(invalid(get("fastleader.minNotificationInterval")!, "must be a positive number of ms"))
    if (maxNotificationIntervalMs < minNotificationIntervalMs) {
      return yield* Either.left(inconsistent(`fastleader.maxNotificationInterval (${maxNotificationIntervalMs}) must not be below fastleader.minNotificationInterval (${minNotificationIntervalMs})`))
    }
    return { electionAlg, cnxTimeoutMs, electionPortBindRetry, minNotificationIntervalMs, maxNotificationIntervalMs }
  })

/** ZooKeeper's default `zookeeper.snapshotSizeFactor`. */
const DEFAULT_SNAPSHOT_SIZE_FACTOR = 0.33

/** Java's Double.parseDouble forms; anything else warns and keeps the default, as ZooKeeper does. */
const decodeSnapshotSizeFactor = (r: SettingReader): number => {
  const s = r.get("snapshotSizeFactor")
  if (s === undefined) return DEFAULT_SNAPSHOT_SIZE_FACTOR
  const v = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?[dDfF]?$/.test(s.value) ? Number.parseFloat(s.value) : Number.NaN
  if (Number.isFinite(v)) return v
  r.notes.push({ level: "Warning", message: `${s.origin}: ${s.key}=${s.value} is not a number; using ${DEFAULT_SNAPSHOT_SIZE_FACTOR}` })
  return DEFAULT_SNAPSHOT_SIZE_FACTOR
}

/**
 * Decodes the quorum keys; with server.N peers, initLimit/syncLimit are required and addresses distinct.
 * A dynamicConfigFile is refused: its server list would be invisible to ezk, which would then start a
 * standalone database on each node.
 */
export const decodeQuorum = (r: SettingReader): Parsed<QuorumConfig> =>
  Either.gen(function* () {
    const { byKey, get, int, bool } = r
    const dyn = get("dynamicConfigFile")
    if (dyn !== undefined && dyn.value !== "") return yield* Either.left(invalid(dyn, "dynamic config files are not supported by ezk; list the server.N lines in zoo.cfg"))
    const servers: Array<QuorumServer> = []
    for (const [k, s] of byKey) {
      const m = /^server\.(.+)$/.exec(k)
      if (m === null) continue
      if (!/^\d+$/.test(m[1]!) || !Number.isSafeInteger(Number(m[1]))) return yield* Either.left(invalid(s, `"${m[1]}" in the key is not a numeric id`))
      servers.push(yield* quorumServer(s, Number(m[1])))
    }
    servers.sort((a, b) => a.sid - b.sid)
    const peerTypeSetting = get("peerType")
    const peerType = (peerTypeSetting?.value ?? "participant").toLowerCase()
    if (peerType !== "participant" && peerType !== "observer") {
      return yield* Either.left(invalid(peerTypeSetting!, "expected participant or observer"))
    }
    const standaloneEnabled = bool("standaloneEnabled", true)
    let initLimit = yield* int("initLimit")
    let syncLimit = yield* int("syncLimit")
    if (isQuorum({ servers, standaloneEnabled })) {
      initLimit = yield* positiveLimit(r, "initLimit", initLimit)
      syncLimit = yield* positiveLimit(r, "syncLimit", syncLimit)
      yield* checkDistinctAddresses(servers)
    }
    return {
      initLimit,
      syncLimit,
      servers,
      peerType,
      quorumListenOnAllIPs: bool("quorumListenOnAllIPs", false),
      standaloneEnabled,
      snapshotSizeFactor: decodeSnapshotSizeFactor(r),
      ...(yield* decodeElection(r))
    } satisfies QuorumConfig
  })
