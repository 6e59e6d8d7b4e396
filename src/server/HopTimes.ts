/**
 * A diagnostic for the broadcast path, off unless the environment has EZK_HOPS=1: each hop of a
 * write (REQUEST in → proposed, proposed → own log durable, proposed → a follower's ACK, ...) is
 * timed on the real clock and a summary (p50/p99/max in µs per hop, and the event loop's own
 * delay) goes to stderr every 5 s. Off, every call is one branch on a constant.
 */
import { monitorEventLoopDelay } from "node:perf_hooks"

const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env
export const enabled = env?.EZK_HOPS === "1"

const REPORT_MS = 5000
const samples = new Map<string, Array<number>>()
let loopDelay: ReturnType<typeof monitorEventLoopDelay> | null = null

/** Now, in ms with sub-ms precision (0 when off: callers only pass it back to `record`). */
export const now = (): number => (enabled ? performance.now() : 0)

/** Records that `hop` took from `sinceMs` (a `now()`) until now. */
export const record = (hop: string, sinceMs: number): void => {
  if (!enabled) return
  let xs = samples.get(hop)
  if (xs === undefined) samples.set(hop, (xs = []))
  xs.push(performance.now() - sinceMs)
  if (loopDelay === null) start()
}

const pct = (sorted: ReadonlyArray<number>, p: number): number => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]!
const us = (ms: number): string => String(Math.round(ms * 1000))

const start = (): void => {
  loopDelay = monitorEventLoopDelay({ resolution: 1 })
  loopDelay.enable()
  const report = (): void => {
    const lines: Array<string> = []
    for (const [hop, xs] of [...samples].sort(([a], [b]) => a.localeCompare(b))) {
      if (xs.length === 0) continue
      xs.sort((a, b) => a - b)
      lines.push(`  ${hop}: n ${xs.length} p50 ${us(pct(xs, 0.5))} p99 ${us(pct(xs, 0.99))} max ${us(xs[xs.length - 1]!)} µs`)
      xs.length = 0
    }
    const d = loopDelay!
    lines.push(`  event loop delay: p50 ${Math.round(d.percentile(50) / 1000)} p99 ${Math.round(d.percentile(99) / 1000)} max ${Math.round(d.max / 1000)} µs`)
    d.reset()
    process.stderr.write(`hops (pid ${process.pid}):\n${lines.join("\n")}\n`)
  }
  setInterval(report, REPORT_MS).unref()
}
