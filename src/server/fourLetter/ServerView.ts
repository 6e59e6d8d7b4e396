/**
 * What the four-letter words read from the server (client.md §14). The server implements this
 * interface over its live state; the formatters in `Format.ts`/`Mntr.ts` turn it into ZooKeeper 3.8's
 * exact text. Everything is read synchronously at the moment a command runs (one consistent snapshot on
 * the single JS thread), except directory sizes, which need the disk, and the reset hooks.
 *
 * Units and encodings follow ZooKeeper's output: times in ms, zxids as numbers (printed as hex),
 * session ids as bigint (printed as unsigned 64-bit hex), averages as Java doubles.
 */
import type * as Effect from "effect/Effect"
import type { MntrView } from "./Mntr.js"

/** Every four-letter word ZooKeeper 3.8 knows (FourLetterCommands), including ones ezk answers trivially. */
export const FOUR_LETTER_WORDS = [
  "conf",
  "cons",
  "crst",
  "dirs",
  "dump",
  "envi",
  "gtmk",
  "hash",
  "isro",
  "mntr",
  "ruok",
  "srst",
  "srvr",
  "stat",
  "stmk",
  "wchc",
  "wchp",
  "wchs"
] as const

/** A known four-letter word. */
export type FourLetterWord = (typeof FOUR_LETTER_WORDS)[number]

/** `Mode:` / `zk_server_state` values (ServerStats.getServerState). */
export type ServerMode = "standalone" | "leader" | "follower" | "observer" | "read-only"

/** Min/avg/max of a latency in ms; `avg` is already rounded to 4 decimals (see `Format.avg4`). */
export interface LatencyStats {
  readonly min: number
  readonly avg: number
  readonly max: number
}

/** The numbers `srvr`/`stat` print (ServerStats). */
export interface ServerStatsView {
  readonly latency: LatencyStats
  readonly packetsReceived: number
  readonly packetsSent: number
  /** Live client connections, including the one asking (ZK counts it). */
  readonly numAliveConnections: number
  /** Requests received but not yet answered, over all connections. */
  readonly outstandingRequests: number
  /** Last zxid applied to the tree. */
  readonly lastProcessedZxid: number
  /** Znodes in the tree, including `/`, `/zookeeper`, `/zookeeper/quota`, `/zookeeper/config`. */
  readonly nodeCount: number
}

/** Session part of a `cons` line; present once the connection has a session (sid != 0). */
export interface ConnectionSessionView {
  readonly sessionId: bigint
  /** ZK's 4-letter op code of the last reply (`lastOpCode`), `"NA"` before any/after `crst`. */
  readonly lastOperation: string
  /** Wall-clock epoch ms when the session was established on this connection (`est=`). */
  readonly established: number
  /** Negotiated session timeout in ms (`to=`). */
  readonly timeout: number
  /** Last cxid answered; -1 (none yet, or after `crst`) omits `lcxid=` as ZK does. */
  readonly lastCxid: number
  /** Last zxid answered; -1 prints `0xffffffffffffffff` as ZK does. */
  readonly lastZxid: number
  /** Monotonic ms of the last reply (ZK prints Time.currentElapsedTime(); 0 after `crst`). */
  readonly lastResponseTime: number
  readonly lastLatency: number
  readonly minLatency: number
  /** Integer average (ZK divides longs). */
  readonly avgLatency: number
  readonly maxLatency: number
}

/** One client connection as `stat`/`cons`/`dump` show it. */
export interface ConnectionView {
  /** Remote IP as Node reports it (`::ffff:` prefixes and IPv6 are rendered the Java way). */
  readonly remoteAddress: string
  readonly remotePort: number
  /** Selector interest bits: 1 (reading) for an idle connection, 0 for the one running the command. */
  readonly interestOps: number
  /** Requests of this connection still in the pipeline (`queued=`). */
  readonly queued: number
  readonly packetsReceived: number
  readonly packetsSent: number
  readonly session: ConnectionSessionView | undefined
}

/** One bucket of an expiry queue (`dump`): elements expire together at `expiresAt` (epoch ms). */
export interface ExpiryBucket<A> {
  readonly expiresAt: number
  readonly items: ReadonlyArray<A>
}

/** A connection awaiting its sessionless/idle timeout in NIO's connection expiry queue (`dump`). */
export interface ConnectionExpiryItem {
  readonly remoteAddress: string
  readonly remotePort: number
  /** 0n for a connection without a session. */
  readonly sessionId: bigint
}

/**
 * The data-watch table as ZooKeeper's `dataWatches` holds it: getData/exists watches plus persistent
 * and persistent-recursive watches. ZK's wchs/wchc/wchp show only this table (child watches are not
 * listed, although `zk_watch_count` counts both), and ezk matches that.
 */
export interface DataWatchesView {
  /** Path → watching session ids, in the order to print (`wchp`). */
  readonly byPath: ReadonlyArray<readonly [path: string, sessions: ReadonlyArray<bigint>]>
  /** Session → watched paths, in the order to print (`wchc`). */
  readonly bySession: ReadonlyArray<readonly [session: bigint, paths: ReadonlyArray<string>]>
}

/** Sizes in bytes of the files in the snapshot and txn-log `version-2` directories (`dirs`, `conf`). */
export interface DirSizes {
  readonly dataDirSize: number
  readonly dataLogSize: number
}

/** One member line of the dynamic config printed by `conf` in a quorum (`server.N=...`). */
export interface QuorumMemberView {
  readonly sid: number
  /** The text after `server.N=`, e.g. `127.0.0.1:32281:32291:participant` (plus `;host:port` if set). */
  readonly spec: string
}

/** Extra `conf` lines of a quorum peer (QuorumZooKeeperServer.dumpConf). */
export interface QuorumConfView {
  readonly initLimit: number
  readonly syncLimit: number
  readonly electionAlg: number
  readonly electionPort: number
  readonly quorumPort: number
  /** 0 = participant, 1 = observer (LearnerType ordinal). */
  readonly peerType: 0 | 1
  readonly members: ReadonlyArray<QuorumMemberView>
  /** Dynamic config version, printed in hex (`version=0`, `version=100000000`). */
  readonly configVersion: number
}

/** What `conf` prints (ZooKeeperServer.dumpConf). */
export interface ConfView {
  readonly clientPort: number
  /** -1 when unset (ezk has no TLS port). */
  readonly secureClientPort: number
  /** Absolute path of the snapshot directory *including* `/version-2`, as ZK prints it. */
  readonly dataDir: string
  /** Absolute path of the txn-log directory including `/version-2`. */
  readonly dataLogDir: string
  readonly tickTime: number
  readonly maxClientCnxns: number
  readonly minSessionTimeout: number
  readonly maxSessionTimeout: number
  readonly clientPortListenBacklog: number
  /** 0 in standalone, the myid in a quorum. */
  readonly serverId: number
  readonly quorum: QuorumConfView | undefined
}

/** `(zxid, digest)` pairs of the tree-digest log (`hash`). */
export interface DigestEntry {
  readonly zxid: number
  readonly digest: bigint
}

/**
 * Everything the four-letter words need. Implemented by the server; pure formatters consume it.
 * Methods are called only by the commands that need them, so expensive tables are built on demand.
 */
export interface ServerView {
  /** False while starting, electing or shutting down: most words then print `ZK_NOT_SERVING`. */
  readonly isServing: () => boolean
  /** `Zookeeper version:` / `zk_version` / `zookeeper.version` text. */
  readonly version: string
  readonly mode: () => ServerMode
  readonly stats: () => ServerStatsView
  /** Leader only: `Proposal sizes last/min/max` (each -1 until the first proposal). */
  readonly proposalSizes: () => { readonly last: number; readonly min: number; readonly max: number } | undefined
  /** Connections in the order to print (ZK's order is a hash-set order; any stable order is fine). */
  readonly connections: () => ReadonlyArray<ConnectionView>
  readonly dataWatches: () => DataWatchesView
  /** Sessions owning ephemerals and their paths (`dump`). */
  readonly ephemerals: () => ReadonlyArray<readonly [session: bigint, paths: ReadonlyArray<string>]>
  /** Session expiry buckets in ascending time (`dump`). */
  readonly sessionExpiry: () => ReadonlyArray<ExpiryBucket<bigint>>
  /** Connection expiry buckets (`dump`); an empty array prints an empty `Connections Sets (0)/(0):`. */
  readonly connectionExpiry: () => ReadonlyArray<ExpiryBucket<ConnectionExpiryItem>>
  readonly conf: () => ConfView
  /** Sizes of the version-2 directories; effectful because it lists the disk. */
  readonly dirSizes: Effect.Effect<DirSizes>
  /** `envi` lines in order (see `Environment.nodeEnvironment`). */
  readonly environment: () => ReadonlyArray<readonly [key: string, value: string]>
  readonly mntr: () => MntrView
  /** ZooTrace text mask (`gtmk`; ZK's default is 306). */
  readonly traceMask: () => bigint
  readonly digestLog: () => ReadonlyArray<DigestEntry>
  /** `crst`: zero every connection's packet/latency stats (ServerCnxn.resetStats). */
  readonly resetConnectionStats: Effect.Effect<void>
  /** `srst`: zero latency and packet counters (ServerStats.reset; on a leader also proposal sizes). */
  readonly resetServerStats: Effect.Effect<void>
  /** `stmk`: set the trace mask. */
  readonly setTraceMask: (mask: bigint) => Effect.Effect<void>
}
