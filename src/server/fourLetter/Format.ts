/**
 * Pure text formatters for the four-letter words, byte-exact with ZooKeeper 3.8.0 (client.md §14,
 * `vectors/four_letter_words.jsonl`, `vectors/ensemble.jsonl`). No I/O, no clock: times arrive as numbers.
 */
import type {
  ConfView,
  ConnectionExpiryItem,
  ConnectionView,
  DataWatchesView,
  DigestEntry,
  DirSizes,
  ExpiryBucket,
  ServerMode,
  ServerStatsView
} from "./ServerView.js"

/** Reply of most words while the server is not serving (ZK's `ZK_NOT_SERVING` + println). */
export const NOT_SERVING = "This ZooKeeper instance is not currently serving requests\n"

/** Reply to a known word that is not in `4lw.commands.whitelist`. */
export const notWhitelisted = (word: string): string => `${word} is not executed because it is not in the whitelist.\n`

// ---------------------------------------------------------------------------------------------
// Java value rendering

/** `Long.toHexString`: two's-complement hex for negatives (zxid -1 → `ffffffffffffffff`). */
export const longHex = (n: number | bigint): string =>
  (typeof n === "bigint" ? BigInt.asUintN(64, n) : n < 0 ? BigInt.asUintN(64, BigInt(n)) : n).toString(16)

/**
 * `Double.toString` for the values ZooKeeper prints: `0.0`, `3.8667`, `1.0E7`, `1.0E-4`. Java switches to
 * scientific notation outside [1e-3, 1e7) and always shows at least one fractional digit.
 */
export const javaDouble = (x: number): string => {
  if (Number.isNaN(x)) return "NaN"
  if (!Number.isFinite(x)) return x > 0 ? "Infinity" : "-Infinity"
  if (x === 0) return Object.is(x, -0) ? "-0.0" : "0.0"
  const abs = Math.abs(x)
  if (abs >= 1e-3 && abs < 1e7) {
    const s = String(x)
    return s.includes(".") ? s : `${s}.0`
  }
  const [mantissa, exp] = x.toExponential().split("e") as [string, string]
  return `${mantissa.includes(".") ? mantissa : `${mantissa}.0`}E${exp.startsWith("+") ? exp.slice(1) : exp}`
}

/** ZooKeeper's averages: `sum / count` rounded to 4 decimals (AvgMinMaxCounter.getAvg), 0 when empty. */
export const avg4 = (sum: number, count: number): number => (count === 0 ? 0 : Math.round((sum / count) * 10000) / 10000)

const DAYS = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
const pad2 = (n: number): string => (n < 10 ? `0${n}` : `${n}`)

/**
 * `java.util.Date.toString()` (`Wed Nov 25 07:36:29 UTC 2026`). ZooKeeper uses the JVM's time zone;
 * ezk always prints UTC so the output does not depend on the host's zone database.
 */
export const javaDate = (epochMs: number): string => {
  const d = new Date(epochMs)
  return (
    `${DAYS[d.getUTCDay()]} ${MONTHS[d.getUTCMonth()]} ${pad2(d.getUTCDate())} ` +
    `${pad2(d.getUTCHours())}:${pad2(d.getUTCMinutes())}:${pad2(d.getUTCSeconds())} UTC ${d.getUTCFullYear()}`
  )
}

/** Expands an IPv6 address to Java's form: 8 groups, no zero compression, no leading zeros. */
const javaIpv6 = (addr: string): string => {
  const [body, zone] = addr.split("%") as [string, string | undefined]
  let groups: Array<string>
  if (body.includes("::")) {
    const [head, tail] = body.split("::") as [string, string]
    const h = head === "" ? [] : head.split(":")
    const t = tail === "" ? [] : tail.split(":")
    groups = [...h, ...Array<string>(Math.max(0, 8 - h.length - t.length)).fill("0"), ...t]
  } else groups = body.split(":")
  const last = groups[groups.length - 1]
  if (last !== undefined && last.includes(".")) {
    // Embedded IPv4 tail (e.g. ::1.2.3.4): Java shows it as two hex groups.
    const [a, b, c, d] = last.split(".").map(Number) as [number, number, number, number]
    groups.splice(groups.length - 1, 1, ((a << 8) | b).toString(16), ((c << 8) | d).toString(16))
  }
  const text = groups.map((g) => Number.parseInt(g, 16).toString(16)).join(":")
  return zone === undefined ? text : `${text}%${zone}`
}

/**
 * `InetSocketAddress.toString()` for a peer: `/127.0.0.1:37676`. IPv4-mapped IPv6 (`::ffff:1.2.3.4`, what a
 * dual-stack Node socket reports) prints as IPv4, as Java converts it; other IPv6 in Java's long form.
 */
export const javaSocketAddress = (address: string, port: number): string => {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address)
  if (mapped !== null) return `/${mapped[1]}:${port}`
  return address.includes(":") ? `/${javaIpv6(address)}:${port}` : `/${address}:${port}`
}

// ---------------------------------------------------------------------------------------------
// ZooKeeper's 4-letter op codes for `cons` (`lop=`), set by FinalRequestProcessor.

const LAST_OP: ReadonlyMap<number, string> = new Map([
  [1, "CREA"], // create
  [2, "DELE"], // delete
  [3, "EXIS"], // exists
  [4, "GETD"], // getData
  [5, "SETD"], // setData
  [6, "GETA"], // getACL
  [7, "SETA"], // setACL
  [8, "GETC"], // getChildren
  [9, "SYNC"], // sync
  [11, "PING"], // ping
  [12, "GETC"], // getChildren2
  [13, "CHEC"], // check
  [14, "MULT"], // multi
  [15, "CREA"], // create2
  [16, "RECO"], // reconfig
  [17, "CHKW"], // checkWatches
  [18, "REMW"], // removeWatches
  [19, "CREA"], // createContainer
  [20, "DELE"], // deleteContainer
  [21, "CREA"], // createTTL
  [22, "MLTR"], // multiRead
  [101, "SETW"], // setWatches
  [103, "GETE"], // getEphemerals
  [104, "GETACN"], // getAllChildrenNumber
  [105, "STW2"], // setWatches2
  [106, "ADDW"], // addWatch
  [107, "HOMI"], // whoAmI
  [-10, "SESS"], // createSession
  [-11, "CLOS"] // closeSession
])

/**
 * The `lop=` code ZooKeeper records for a reply to `op`; auth/sasl/unknown ops leave the previous code,
 * so they return undefined (keep the connection's last value). Verified against 3.8.0 for the common ops.
 */
export const lastOpCode = (op: number): string | undefined => LAST_OP.get(op)

/** Initial `lop=` value, and the value after `crst`. */
export const NO_LAST_OP = "NA"

// ---------------------------------------------------------------------------------------------
// Command texts

/** `ruok`: always `imok` (no newline), even when not serving: it only proves the process is up. */
export const ruok = (): string => "imok"

/** `isro`: `ro` / `rw`, or `null` when not serving (no newline). */
export const isro = (serving: boolean, mode: ServerMode): string => (!serving ? "null" : mode === "read-only" ? "ro" : "rw")

/** One connection as `stat` (brief) or `cons` (full) prints it (ServerCnxn.dumpConnectionInfo). */
export const connectionLine = (c: ConnectionView, brief: boolean): string => {
  let s = ` ${javaSocketAddress(c.remoteAddress, c.remotePort)}[${c.interestOps.toString(16)}](queued=${c.queued},recved=${c.packetsReceived},sent=${c.packetsSent}`
  const x = c.session
  if (!brief && x !== undefined && x.sessionId !== 0n) {
    s += `,sid=0x${longHex(x.sessionId)},lop=${x.lastOperation},est=${x.established},to=${x.timeout}`
    if (x.lastCxid >= 0) s += `,lcxid=0x${longHex(x.lastCxid)}`
    s += `,lzxid=0x${longHex(x.lastZxid)},lresp=${x.lastResponseTime},llat=${x.lastLatency}`
    s += `,minlat=${x.minLatency},avglat=${x.avgLatency},maxlat=${x.maxLatency}`
  }
  return `${s})\n`
}

/** Input of `srvr`/`stat`. */
export interface StatInput {
  readonly version: string
  readonly mode: ServerMode
  readonly stats: ServerStatsView
  /** `stat` only: the connections to list under `Clients:`. */
  readonly connections?: ReadonlyArray<ConnectionView>
  /** Leader only. */
  readonly proposalSizes?: { readonly last: number; readonly min: number; readonly max: number } | undefined
}

/** `srvr` (no `connections`) and `stat` (with them), as StatCommand + ServerStats.toString print them. */
export const stat = (input: StatInput): string => {
  const s = input.stats
  let out = `Zookeeper version: ${input.version}\n`
  if (input.mode === "read-only") out += "READ-ONLY mode; serving only read-only clients\n"
  if (input.connections !== undefined) {
    out += "Clients:\n"
    for (const c of input.connections) out += connectionLine(c, true)
    out += "\n"
  }
  out += `Latency min/avg/max: ${s.latency.min}/${javaDouble(s.latency.avg)}/${s.latency.max}\n`
  out += `Received: ${s.packetsReceived}\nSent: ${s.packetsSent}\nConnections: ${s.numAliveConnections}\n`
  out += `Outstanding: ${s.outstandingRequests}\nZxid: 0x${longHex(s.lastProcessedZxid)}\nMode: ${input.mode}\n`
  out += `Node count: ${s.nodeCount}\n`
  const p = input.proposalSizes
  if (input.mode === "leader" && p !== undefined) out += `Proposal sizes last/min/max: ${p.last}/${p.min}/${p.max}\n`
  return out
}

/** `cons`: every connection in full, then an empty line. */
export const cons = (connections: ReadonlyArray<ConnectionView>): string =>
  connections.map((c) => connectionLine(c, false)).join("") + "\n"

/** `wchs`: `<n> connections watching <m> paths` / `Total watches:<k>` over the data-watch table. */
export const wchs = (w: DataWatchesView): string => {
  let total = 0
  for (const [, paths] of w.bySession) total += paths.length
  return `${w.bySession.length} connections watching ${w.byPath.length} paths\nTotal watches:${total}\n`
}

/** `wchc`: per session `0x<sid>` then `\t<path>` lines, then an empty line. */
export const wchc = (w: DataWatchesView): string => {
  let out = ""
  for (const [sid, paths] of w.bySession) {
    out += `0x${longHex(sid)}\n`
    for (const p of paths) out += `\t${p}\n`
  }
  return out + "\n"
}

/** `wchp`: per path the path then `\t0x<sid>` lines, then an empty line. */
export const wchp = (w: DataWatchesView): string => {
  let out = ""
  for (const [path, sids] of w.byPath) {
    out += `${path}\n`
    for (const sid of sids) out += `\t0x${longHex(sid)}\n`
  }
  return out + "\n"
}

const expiryQueue = <A>(label: string, buckets: ReadonlyArray<ExpiryBucket<A>>, show: (a: A) => string): string => {
  let total = 0
  for (const b of buckets) total += b.items.length
  let out = `${label} Sets (${buckets.length})/(${total}):\n`
  for (const b of buckets) {
    out += `${b.items.length} expire at ${javaDate(b.expiresAt)}:\n`
    for (const a of b.items) out += `\t${show(a)}\n`
  }
  return out
}

/** Input of `dump`. */
export interface DumpInput {
  readonly sessionExpiry: ReadonlyArray<ExpiryBucket<bigint>>
  readonly ephemerals: ReadonlyArray<readonly [session: bigint, paths: ReadonlyArray<string>]>
  readonly connectionExpiry: ReadonlyArray<ExpiryBucket<ConnectionExpiryItem>>
}

/** `dump`: session expiry buckets, ephemerals by session, connection expiry buckets. */
export const dump = (input: DumpInput): string => {
  let out = "SessionTracker dump:\n"
  out += expiryQueue("Session", input.sessionExpiry, (sid) => `0x${longHex(sid)}`)
  out += "ephemeral nodes dump:\n"
  out += `Sessions with Ephemerals (${input.ephemerals.length}):\n`
  for (const [sid, paths] of input.ephemerals) {
    out += `0x${longHex(sid)}:\n`
    for (const p of paths) out += `\t${p}\n`
  }
  out += "Connections dump:\n"
  out += expiryQueue(
    "Connections",
    input.connectionExpiry,
    (c) => `ip: ${javaSocketAddress(c.remoteAddress, c.remotePort)} sessionId: 0x${longHex(c.sessionId)}`
  )
  return out
}

/** `conf` (ZooKeeperServer.dumpConf, plus QuorumZooKeeperServer's lines in a quorum). */
export const conf = (c: ConfView, sizes: DirSizes): string => {
  let out =
    `clientPort=${c.clientPort}\nsecureClientPort=${c.secureClientPort}\n` +
    `dataDir=${c.dataDir}\ndataDirSize=${sizes.dataDirSize}\n` +
    `dataLogDir=${c.dataLogDir}\ndataLogSize=${sizes.dataLogSize}\n` +
    `tickTime=${c.tickTime}\nmaxClientCnxns=${c.maxClientCnxns}\n` +
    `minSessionTimeout=${c.minSessionTimeout}\nmaxSessionTimeout=${c.maxSessionTimeout}\n` +
    `clientPortListenBacklog=${c.clientPortListenBacklog}\nserverId=${c.serverId}\n`
  const q = c.quorum
  if (q !== undefined) {
    out +=
      `initLimit=${q.initLimit}\nsyncLimit=${q.syncLimit}\nelectionAlg=${q.electionAlg}\n` +
      `electionPort=${q.electionPort}\nquorumPort=${q.quorumPort}\npeerType=${q.peerType}\nmembership: \n`
    // The dynamic config text ends without a newline (QuorumVerifier.toString).
    out += q.members.map((m) => `server.${m.sid}=${m.spec}\n`).join("") + `version=${longHex(q.configVersion)}`
  }
  return out
}

/** `dirs`: sizes of the snapshot and log directories. */
export const dirs = (sizes: DirSizes): string =>
  `datadir_size: ${sizes.dataDirSize}\nlogdir_size: ${sizes.dataLogSize}\n`

/** `envi`: `Environment:` then `key=value` lines. */
export const envi = (lines: ReadonlyArray<readonly [string, string]>): string =>
  "Environment:\n" + lines.map(([k, v]) => `${k}=${v}\n`).join("")

/** `gtmk` / `stmk`: the trace mask in decimal, no newline. */
export const traceMask = (mask: bigint): string => mask.toString()

/** `hash`: `<zxid hex>: <digest>` per digest-log entry. */
export const hash = (entries: ReadonlyArray<DigestEntry>): string =>
  entries.map((e) => `${longHex(e.zxid)}: ${e.digest}\n`).join("")

/** `crst` reply. */
export const CONNECTION_STATS_RESET = "Connection stats reset.\n"

/** `srst` reply. */
export const SERVER_STATS_RESET = "Server stats reset.\n"
