/** `mntr` key lists, to compare a live server's keys with what ezk's Mntr module prints for a mode. */
import * as Mntr from "../../src/server/fourLetter/Mntr.js"
import type { ServerMode } from "../../src/server/fourLetter/ServerView.js"

/** The keys of a `mntr` reply, in order. */
export const mntrKeys = (text: string): Array<string> => text.trimEnd().split("\n").map((l) => l.split("\t")[0]!)

/**
 * Summary sets: one summary per learner or top-level path component (`zk_avg_2_learner_handler_qp_size`,
 * `zk_cnt_fl_write_per_namespace`); which ones exist depends on what the server has seen.
 */
export const isSummarySetKey = (key: string): boolean =>
  /^zk_(avg|min|max|cnt|sum|p50|p95|p99|p999)_.+_(learner_handler_qp_size|read_per_namespace|write_per_namespace|learner_handler_qp_time_ms)$/.test(key)

/** The keys ezk prints in `mode`, summary sets aside. */
export const ezkMntrKeys = (mode: ServerMode): Array<string> =>
  mntrKeys(
    Mntr.formatMntr({
      version: "v",
      mode,
      minLatency: 0,
      avgLatency: 0,
      maxLatency: 0,
      packetsSent: 0,
      packetsReceived: 0,
      numAliveConnections: 0,
      outstandingRequests: 0,
      znodeCount: 0,
      view: { ephemeralsCount: 0, globalSessions: 0, watchCount: 0, uptime: 0, counters: {}, summaries: {} }
    })
  )
