/** Server-wide counters for srvr/stat/mntr, kept by the client-facing pipeline. */
import { Summary } from "./Summary.js"

/** Server-wide counters for srvr/stat/mntr. */
export class ServerStats {
  received = 0
  sent = 0
  /** Request latencies in ms (srvr's Latency min/avg/max). */
  readonly latencyMs = new Summary()
  digestMismatches = 0
  /** Sizes of replies (mntr *_client_response_size); -1 until the first one. */
  lastResponseBytes = -1
  minResponseBytes = -1
  maxResponseBytes = -1
  authFailures = 0
  /** Durations of log syncs (mntr fsynctime) and sizes of the batches they made durable. */
  readonly fsyncMs = new Summary()
  readonly batchSize = new Summary()

  /** One reply of `bytes` bytes left for a client. */
  recordResponse(bytes: number): void {
    this.sent++
    this.lastResponseBytes = bytes
    if (this.minResponseBytes < 0 || bytes < this.minResponseBytes) this.minResponseBytes = bytes
    if (bytes > this.maxResponseBytes) this.maxResponseBytes = bytes
  }

  /** srst: the request counters and latencies start again (response sizes and fsync times stay). */
  reset(): void {
    this.received = 0
    this.sent = 0
    this.latencyMs.reset()
  }
}
