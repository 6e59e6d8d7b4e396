/**
 * The live ServerView behind the four-letter words: reads ServerCore's state at the moment a
 * command runs (one consistent picture, since the core is single-threaded).
 */
import { Effect } from "effect"
import type { ZkConfig } from "./Config.js"
import type { Connection } from "./Connection.js"
import { fileDescriptorCounts, nodeEnvironment } from "./fourLetter/Environment.js"
import { avg4 } from "./fourLetter/Format.js"
import type { ConnectionView, DirSizes, ServerView } from "./fourLetter/ServerView.js"
import type { ServerCore } from "./ServerCore.js"

/** What `srvr`/`envi` report as the version: ZooKeeper's line it is compatible with, then ours. */
export const versionString = (ezkVersion: string): string => `3.8.0-ezk-${ezkVersion}, built on ezk`

export interface ViewStore {
  readonly dataDir: string
  readonly dataLogDir: string
  readonly dirSizes: Effect.Effect<DirSizes>
}

const connectionView = (c: Connection, asking: boolean): ConnectionView => ({
  remoteAddress: c.remoteAddress,
  remotePort: c.remotePort,
  interestOps: asking ? 0 : 1,
  queued: c.queued,
  packetsReceived: c.received,
  packetsSent: c.sent,
  session:
    c.session === null || c.state !== "established"
      ? undefined
      : {
          sessionId: c.session.id,
          lastOperation: c.lastOp,
          established: c.establishedMs,
          timeout: c.session.timeout,
          lastCxid: c.lastCxid,
          lastZxid: c.lastZxid,
          lastResponseTime: c.lastResponseMs,
          lastLatency: c.lastLatencyMs,
          minLatency: c.latencyMs.min,
          avgLatency: c.latencyMs.count === 0 ? 0 : Math.floor(c.latencyMs.sum / c.latencyMs.count),
          maxLatency: c.latencyMs.max
        }
})

export const makeView = (core: ServerCore, config: ZkConfig, store: ViewStore, ezkVersion: string, clientPort: number): ServerView => {
  const startedMs = core.clock.nowMs()
  let traceMask = 306n
  const version = versionString(ezkVersion)
  const watchTables = () => {
    const w = core.tree.watches
    const byPath = new Map<string, Array<bigint>>()
    const bySession = new Map<bigint, Array<string>>()
    for (const table of [w.data, w.persistent, w.recursive]) {
      for (const [path, watchers] of table) {
        for (const watcher of watchers) {
          const sids = byPath.get(path) ?? []
          if (!sids.includes(watcher.sessionId)) sids.push(watcher.sessionId)
          byPath.set(path, sids)
          const paths = bySession.get(watcher.sessionId) ?? []
          if (!paths.includes(path)) paths.push(path)
          bySession.set(watcher.sessionId, paths)
        }
      }
    }
    return { byPath: [...byPath.entries()], bySession: [...bySession.entries()] }
  }
  return {
    isServing: () => core.serving,
    version,
    mode: () => core.mode,
    stats: () => {
      const s = core.stats
      return {
        latency: {
          min: s.latencyMs.min,
          avg: avg4(s.latencyMs.sum, s.latencyMs.count),
          max: s.latencyMs.max
        },
        packetsReceived: s.received,
        packetsSent: s.sent,
        numAliveConnections: core.connections.size,
        outstandingRequests: core.outstanding,
        lastProcessedZxid: core.tree.lastProcessedZxid,
        // ZooKeeper's node map holds the root twice ("" and "/"), and its count shows it.
        nodeCount: core.tree.nodeCount + 1
      }
    },
    proposalSizes: () => {
      const q = core.quorumCounters()
      return core.mode === "leader" ? { last: q["last_proposal_size"] ?? -1, min: q["min_proposal_size"] ?? -1, max: q["max_proposal_size"] ?? -1 } : undefined
    },
    connections: () => [...core.connections].map((c) => connectionView(c, c.state === "closing")),
    dataWatches: watchTables,
    ephemerals: () => [...core.tree.ephemerals.entries()].map(([sid, paths]) => [sid, [...paths]] as const),
    sessionExpiry: () => core.tracker.dump().map(([expiresAt, items]) => ({ expiresAt, items })),
    connectionExpiry: () => [],
    conf: () => ({
      clientPort,
      secureClientPort: -1,
      dataDir: store.dataDir,
      dataLogDir: store.dataLogDir,
      tickTime: config.tickTime,
      maxClientCnxns: config.maxClientCnxns,
      minSessionTimeout: config.minSessionTimeout,
      maxSessionTimeout: config.maxSessionTimeout,
      clientPortListenBacklog: config.clientPortListenBacklog,
      serverId: 0,
      quorum: undefined
    }),
    dirSizes: store.dirSizes,
    environment: () => nodeEnvironment(version),
    mntr: () => ({
      ephemeralsCount: [...core.tree.ephemerals.values()].reduce((n, s) => n + s.size, 0),
      globalSessions: core.tracker.sessions.size,
      watchCount: core.tree.watches.count,
      uptime: core.clock.nowMs() - startedMs,
      counters: (() => {
        const fds = fileDescriptorCounts()
        return {
          digest_mismatches_count: core.stats.digestMismatches,
          outstanding_changes_queued: core.pending.size,
          approximate_data_size: core.tree.approximateDataSize,
          open_file_descriptor_count: fds.open,
          max_file_descriptor_count: fds.max,
          last_client_response_size: core.stats.lastResponseBytes,
          min_client_response_size: core.stats.minResponseBytes,
          max_client_response_size: core.stats.maxResponseBytes,
          auth_failed_count: core.stats.authFailures,
          ...core.quorumCounters()
        }
      })(),
      ...(core.mode === "standalone" ? {} : { peerState: `${core.mode === "leader" ? "leading" : core.mode === "follower" ? "following" : "observing"} - broadcast` }),
      summaries: {
        fsynctime: { ...core.stats.fsyncMs },
        sync_processor_queue_size: { ...core.stats.batchSize },
        ...(core.mode === "leader" ? { proposal_latency: { ...core.proposalLatencyMs } } : {})
      }
    }),
    traceMask: () => traceMask,
    digestLog: () => core.tree.digestLog.entries(),
    resetConnectionStats: Effect.sync(() => {
      for (const c of core.connections) c.resetStats()
    }),
    resetServerStats: Effect.sync(() => core.stats.reset()),
    setTraceMask: (mask) => Effect.sync(() => void (traceMask = mask))
  }
}
