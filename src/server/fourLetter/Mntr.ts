/**
 * The `mntr` catalogue: every `zk_*` key ZooKeeper 3.8.0 prints, in its order, and how ezk fills it.
 *
 * ZooKeeper prints a hash-map iteration order that is stable for a given key set. The orders here were
 * read from the Debian 3.8.0 build: standalone from `vectors/four_letter_words.jsonl`, leader/follower/
 * observer from a 4-node ensemble on the capture machine (the common keys keep the same relative order in
 * every mode, so one master list filtered by mode reproduces all four).
 *
 * Each key is tagged with its source so monitoring users know what is real:
 * - `core`: computed from ServerView fields every server has (latency, packets, znodes, sessions, ...);
 * - `ezk`: meaningful for ezk and filled from `MntrView.counters`/`summaries` when the server records it;
 * - `quorum`: meaningful once replication exists (0 in standalone);
 * - `zk-internal`: describes a ZooKeeper/JVM mechanism ezk does not have (Netty, TLS, commit-processor
 *   pools, response cache, JVM pauses, BlueThrottle). Always printed, 0 unless a value is given, so
 *   scripts that parse mntr keep working.
 */
import { javaDouble, avg4 } from "./Format.js"
import type { ServerMode } from "./ServerView.js"

/** Where a value comes from (see the module comment). */
export type MntrSource = "core" | "ezk" | "quorum" | "zk-internal"

/**
 * Gauges and counters printed before the summaries, in ZooKeeper's order for a leader (a superset;
 * `observer_master_id` sits where an observer prints it). Filter with {@link gaugeKeys}.
 */
const GAUGES = [
  ["version", "core"],
  ["server_state", "core"],
  ["peer_state", "quorum"],
  ["observer_master_id", "quorum"],
  ["ephemerals_count", "core"],
  ["num_alive_connections", "core"],
  ["avg_latency", "core"],
  ["min_proposal_size", "quorum"],
  ["outstanding_requests", "core"],
  ["znode_count", "core"],
  ["global_sessions", "core"],
  ["non_mtls_remote_conn_count", "zk-internal"],
  ["last_client_response_size", "ezk"],
  ["packets_sent", "core"],
  ["packets_received", "core"],
  ["max_proposal_size", "quorum"],
  ["max_client_response_size", "ezk"],
  ["synced_followers", "quorum"],
  ["connection_drop_probability", "zk-internal"],
  ["watch_count", "core"],
  ["synced_non_voting_followers", "quorum"],
  ["synced_observers", "quorum"],
  ["auth_failed_count", "ezk"],
  ["min_latency", "core"],
  ["max_file_descriptor_count", "ezk"],
  ["approximate_data_size", "ezk"],
  ["open_file_descriptor_count", "ezk"],
  ["last_proposal_size", "quorum"],
  ["pending_syncs", "quorum"],
  ["leader_uptime", "quorum"],
  ["local_sessions", "ezk"],
  ["uptime", "core"],
  ["max_latency", "core"],
  ["outstanding_tls_handshake", "zk-internal"],
  ["learners", "quorum"],
  ["min_client_response_size", "ezk"],
  ["non_mtls_local_conn_count", "zk-internal"],
  ["quorum_size", "quorum"],
  ["proposal_count", "quorum"],
  ["watch_bytes", "ezk"],
  ["outstanding_changes_removed", "ezk"],
  ["throttled_ops", "zk-internal"],
  ["stale_requests_dropped", "zk-internal"],
  ["large_requests_rejected", "ezk"],
  ["insecure_admin_count", "zk-internal"],
  ["connection_rejected", "ezk"],
  ["cnxn_closed_without_zk_server_running", "ezk"],
  ["sessionless_connections_expired", "ezk"],
  ["looking_count", "quorum"],
  ["dead_watchers_queued", "zk-internal"],
  ["stale_requests", "zk-internal"],
  ["connection_drop_count", "ezk"],
  ["learner_proposal_received_count", "quorum"],
  ["digest_mismatches_count", "ezk"],
  ["dead_watchers_cleared", "zk-internal"],
  ["response_packet_cache_hits", "zk-internal"],
  ["bytes_received_count", "ezk"],
  ["add_dead_watcher_stall_time", "zk-internal"],
  ["request_throttle_wait_count", "zk-internal"],
  ["requests_not_forwarded_to_commit_processor", "zk-internal"],
  ["response_packet_cache_misses", "zk-internal"],
  ["ensemble_auth_success", "quorum"],
  ["prep_processor_request_queued", "ezk"],
  ["learner_commit_received_count", "quorum"],
  ["stale_replies", "zk-internal"],
  ["connection_request_count", "ezk"],
  ["response_bytes", "ezk"],
  ["ensemble_auth_fail", "quorum"],
  ["diff_count", "quorum"],
  ["response_packet_get_children_cache_misses", "zk-internal"],
  ["connection_revalidate_count", "quorum"],
  ["quit_leading_due_to_disloyal_voter", "quorum"],
  ["snap_count", "quorum"],
  ["unrecoverable_error_count", "ezk"],
  ["unsuccessful_handshake", "ezk"],
  ["commit_count", "quorum"],
  ["stale_sessions_expired", "ezk"],
  ["response_packet_get_children_cache_hits", "zk-internal"],
  ["sync_processor_request_queued", "ezk"],
  ["outstanding_changes_queued", "ezk"],
  ["request_commit_queued", "zk-internal"],
  ["ensemble_auth_skip", "quorum"],
  ["skip_learner_request_to_next_processor_count", "quorum"],
  ["tls_handshake_exceeded", "zk-internal"],
  ["revalidate_count", "quorum"]
] as const satisfies ReadonlyArray<readonly [string, MntrSource]>

/** Summaries (`avg/min/max/cnt/sum`; with `p50/p95/p99/p999` when `percentiles`), in ZooKeeper's order. */
const SUMMARIES = [
  ["socket_closing_time", false, "zk-internal"],
  ["proposal_process_time", false, "quorum"],
  ["leader_unavailable_time", false, "quorum"],
  ["node_created_watch_count", false, "ezk"],
  ["session_queues_drained", false, "zk-internal"],
  ["write_commit_proc_req_queued", false, "zk-internal"],
  ["connection_token_deficit", false, "zk-internal"],
  ["read_commit_proc_req_queued", false, "zk-internal"],
  ["node_deleted_watch_count", false, "ezk"],
  ["startup_txns_load_time", false, "ezk"],
  ["sync_processor_queue_size", false, "ezk"],
  ["follower_sync_time", false, "quorum"],
  ["prep_processor_queue_size", false, "ezk"],
  ["fsynctime", false, "ezk"],
  ["inflight_snap_count", false, "quorum"],
  ["reads_issued_from_session_queue", false, "zk-internal"],
  ["learner_request_processor_queue_size", false, "quorum"],
  ["snapshottime", false, "ezk"],
  ["unavailable_time", false, "quorum"],
  ["startup_txns_loaded", false, "ezk"],
  ["reads_after_write_in_session_queue", false, "zk-internal"],
  ["requests_in_session_queue", false, "zk-internal"],
  ["write_commit_proc_issued", false, "zk-internal"],
  ["prep_process_time", false, "ezk"],
  ["pending_session_queue_size", false, "zk-internal"],
  ["time_waiting_empty_pool_in_commit_processor_read_ms", false, "zk-internal"],
  ["commit_process_time", false, "zk-internal"],
  ["dbinittime", false, "ezk"],
  ["inflight_diff_count", false, "quorum"],
  ["netty_queued_buffer_capacity", false, "zk-internal"],
  ["election_time", false, "quorum"],
  ["commit_commit_proc_req_queued", false, "zk-internal"],
  ["sync_processor_batch_size", false, "ezk"],
  ["node_children_watch_count", false, "ezk"],
  ["write_batch_time_in_commit_processor", false, "zk-internal"],
  ["read_commit_proc_issued", false, "zk-internal"],
  ["concurrent_request_processing_in_commit_processor", false, "zk-internal"],
  ["observer_sync_time", false, "quorum"],
  ["node_changed_watch_count", false, "ezk"],
  ["sync_process_time", false, "ezk"],
  ["startup_snap_load_time", false, "ezk"],
  ["prep_processor_queue_time_ms", true, "ezk"],
  ["jvm_pause_time_ms", true, "zk-internal"],
  ["close_session_prep_time", true, "ezk"],
  ["read_commitproc_time_ms", true, "zk-internal"],
  ["updatelatency", true, "ezk"],
  ["local_write_committed_time_ms", true, "quorum"],
  ["request_throttle_queue_time_ms", true, "zk-internal"],
  ["readlatency", true, "ezk"],
  ["quorum_ack_latency", true, "quorum"],
  ["om_commit_process_time_ms", true, "quorum"],
  ["read_final_proc_time_ms", true, "zk-internal"],
  ["commit_propagation_latency", true, "quorum"],
  ["dead_watchers_cleaner_latency", true, "zk-internal"],
  ["write_final_proc_time_ms", true, "zk-internal"],
  ["proposal_ack_creation_latency", true, "quorum"],
  ["proposal_latency", true, "quorum"],
  ["om_proposal_process_time_ms", true, "quorum"],
  ["sync_processor_queue_and_flush_time_ms", true, "ezk"],
  ["propagation_latency", true, "ezk"],
  ["server_write_committed_time_ms", true, "quorum"],
  ["sync_processor_queue_time_ms", true, "ezk"],
  ["sync_processor_queue_flush_time_ms", true, "ezk"],
  ["write_commitproc_time_ms", true, "zk-internal"]
] as const satisfies ReadonlyArray<readonly [string, boolean, MntrSource]>

/** Name of a gauge/counter (without `zk_`). */
export type MntrGauge = (typeof GAUGES)[number][0]
/** Name of a summary (without `zk_avg_` etc.). */
export type MntrSummary = (typeof SUMMARIES)[number][0]

/** Gauges that ServerView computes itself; the rest come from {@link MntrView.counters}. */
type CoreGauge =
  | "version"
  | "server_state"
  | "ephemerals_count"
  | "num_alive_connections"
  | "avg_latency"
  | "outstanding_requests"
  | "znode_count"
  | "global_sessions"
  | "packets_sent"
  | "packets_received"
  | "watch_count"
  | "min_latency"
  | "uptime"
  | "max_latency"
  | "peer_state"

/** A counter the server may supply (anything not computed from core fields). */
export type MntrCounter = Exclude<MntrGauge, CoreGauge>

/** Statistics of one summary. Percentiles are only printed for percentile summaries (0 if absent). */
export interface SummaryStats {
  readonly count: number
  readonly sum: number
  readonly min: number
  readonly max: number
  readonly p50?: number
  readonly p95?: number
  readonly p99?: number
  readonly p999?: number
}

/** Keyed summary sets ZooKeeper prints after the fixed summaries (`zk_avg_<key>_<set>`). */
export interface MntrSummarySets {
  /** Leader: per-learner queue sizes, keyed by sid (`zk_avg_1_learner_handler_qp_size`). */
  readonly learnerHandlerQpSize?: ReadonlyArray<readonly [key: string, stats: SummaryStats]>
  /** Response bytes of reads per top-level path component (`zk_avg_vec_read_per_namespace`). */
  readonly readPerNamespace?: ReadonlyArray<readonly [key: string, stats: SummaryStats]>
  /** Bytes written per top-level path component (`zk_avg_vec_write_per_namespace`). */
  readonly writePerNamespace?: ReadonlyArray<readonly [key: string, stats: SummaryStats]>
  /** Leader: per-learner queue time percentiles (`zk_p50_1_learner_handler_qp_time_ms`). */
  readonly learnerHandlerQpTimeMs?: ReadonlyArray<readonly [key: string, stats: SummaryStats]>
}

/** The `mntr` values beyond ServerStats. Unknown/unset keys print as 0 (response sizes as -1). */
export interface MntrView {
  readonly ephemeralsCount: number
  readonly globalSessions: number
  /** Total watches, data and child tables together (DataTree.getWatchCount). */
  readonly watchCount: number
  /** ms since the server started serving. */
  readonly uptime: number
  /** Quorum only: `leading - broadcast`, `following - broadcast`, `observing - broadcast`. */
  readonly peerState?: string
  readonly counters: Readonly<Partial<Record<MntrCounter, number>>>
  readonly summaries: Readonly<Partial<Record<MntrSummary, SummaryStats>>>
  readonly summarySets?: MntrSummarySets
}

/** Source of every gauge and summary, for docs and tests. */
export const sources: ReadonlyMap<string, MntrSource> = new Map<string, MntrSource>([
  ...GAUGES.map(([k, s]) => [k, s] as const),
  ...SUMMARIES.map(([k, , s]) => [k, s] as const)
])

const LEADER_ONLY = new Set<string>([
  "min_proposal_size",
  "max_proposal_size",
  "synced_followers",
  "synced_non_voting_followers",
  "synced_observers",
  "last_proposal_size",
  "pending_syncs",
  "leader_uptime",
  "learners"
])

/** Gauge keys ZooKeeper prints in `mode`, in order. */
export const gaugeKeys = (mode: ServerMode): ReadonlyArray<MntrGauge> =>
  GAUGES.map(([k]) => k).filter((k) => {
    if (k === "peer_state" || k === "quorum_size") return mode !== "standalone" && mode !== "read-only"
    if (k === "observer_master_id") return mode === "observer"
    if (LEADER_ONLY.has(k)) return mode === "leader"
    return true
  })

/** Summary names in order with whether they carry percentiles. */
export const summaryKeys: ReadonlyArray<readonly [MntrSummary, boolean]> = SUMMARIES.map(([k, p]) => [k, p] as const)

/** Counters whose "nothing yet" value is -1 rather than 0 (BufferStats / proposal sizes). */
const MINUS_ONE_DEFAULT = new Set<string>([
  "last_client_response_size",
  "max_client_response_size",
  "min_client_response_size",
  "min_proposal_size",
  "max_proposal_size",
  "last_proposal_size"
])

/** Counters ZooKeeper prints as doubles. */
const DOUBLE_GAUGES = new Set<string>(["connection_drop_probability", "avg_latency"])

const EMPTY: SummaryStats = { count: 0, sum: 0, min: 0, max: 0 }

const summaryLines = (out: Array<string>, name: string, s: SummaryStats, percentiles: boolean): void => {
  out.push(`zk_avg_${name}\t${javaDouble(avg4(s.sum, s.count))}`)
  out.push(`zk_min_${name}\t${s.count === 0 ? 0 : s.min}`)
  out.push(`zk_max_${name}\t${s.count === 0 ? 0 : s.max}`)
  out.push(`zk_cnt_${name}\t${s.count}`)
  out.push(`zk_sum_${name}\t${s.sum}`)
  if (percentiles) {
    out.push(`zk_p50_${name}\t${s.p50 ?? 0}`)
    out.push(`zk_p95_${name}\t${s.p95 ?? 0}`)
    out.push(`zk_p99_${name}\t${s.p99 ?? 0}`)
    out.push(`zk_p999_${name}\t${s.p999 ?? 0}`)
  }
}

/** Everything `mntr` needs, gathered from ServerView by the command. */
export interface MntrInput {
  readonly version: string
  readonly mode: ServerMode
  readonly minLatency: number
  readonly avgLatency: number
  readonly maxLatency: number
  readonly packetsSent: number
  readonly packetsReceived: number
  readonly numAliveConnections: number
  readonly outstandingRequests: number
  readonly znodeCount: number
  readonly view: MntrView
}

/** Formats `mntr` exactly as ZooKeeper 3.8 (MonitorCommand): `zk_<key>\t<value>\n` lines. */
export const formatMntr = (input: MntrInput): string => {
  const v = input.view
  const core: Record<CoreGauge, string | number> = {
    version: input.version,
    server_state: input.mode,
    peer_state: v.peerState ?? "",
    ephemerals_count: v.ephemeralsCount,
    num_alive_connections: input.numAliveConnections,
    avg_latency: javaDouble(input.avgLatency),
    outstanding_requests: input.outstandingRequests,
    znode_count: input.znodeCount,
    global_sessions: v.globalSessions,
    packets_sent: input.packetsSent,
    packets_received: input.packetsReceived,
    watch_count: v.watchCount,
    min_latency: input.minLatency,
    uptime: v.uptime,
    max_latency: input.maxLatency
  }
  const out: Array<string> = []
  for (const key of gaugeKeys(input.mode)) {
    let value: string | number
    if (key in core) value = core[key as CoreGauge]
    else {
      const n = v.counters[key as MntrCounter] ?? (MINUS_ONE_DEFAULT.has(key) ? -1 : 0)
      value = DOUBLE_GAUGES.has(key) ? javaDouble(n) : n
    }
    out.push(`zk_${key}\t${value}`)
  }
  for (const [name, percentiles] of summaryKeys) summaryLines(out, name, v.summaries[name] ?? EMPTY, percentiles)
  const sets = v.summarySets
  if (sets !== undefined) {
    for (const [k, s] of sets.learnerHandlerQpSize ?? []) summaryLines(out, `${k}_learner_handler_qp_size`, s, false)
    for (const [k, s] of sets.readPerNamespace ?? []) summaryLines(out, `${k}_read_per_namespace`, s, false)
    for (const [k, s] of sets.writePerNamespace ?? []) summaryLines(out, `${k}_write_per_namespace`, s, false)
    for (const [k, s] of sets.learnerHandlerQpTimeMs ?? []) summaryLines(out, `${k}_learner_handler_qp_time_ms`, s, true)
  }
  return out.join("\n") + "\n"
}
