/**
 * Session expiry in tick buckets (ZooKeeper's SessionTrackerImpl / ExpiryQueue): a session's
 * deadline is rounded up to the next tick boundary, so one timer per tick expires whole buckets.
 * Time comes from the monotonic clock it is given, never the wall clock: a wall-clock step (NTP, an
 * operator) must neither expire every session at once nor keep dead ones alive (ZOOKEEPER-1366).
 */

export interface SessionEntry {
  readonly id: bigint
  timeout: number
  /** Tick-aligned deadline (ms); 0 while not in a bucket. */
  expireAt: number
  /** Set once a closeSession is prepared: no more requests are accepted for it. */
  closing: boolean
}

export class SessionTracker {
  readonly sessions = new Map<bigint, SessionEntry>()
  private readonly buckets = new Map<number, Set<SessionEntry>>()

  constructor(
    readonly tickTime: number,
    /** Monotonic milliseconds. */
    private readonly now: () => number
  ) {}

  /** (floor((now + timeout) / tick) + 1) · tick (client.md §3.7). */
  deadline(now: number, timeout: number): number {
    return (Math.floor((now + timeout) / this.tickTime) + 1) * this.tickTime
  }

  get(id: bigint): SessionEntry | undefined {
    return this.sessions.get(id)
  }

  add(id: bigint, timeout: number): SessionEntry {
    const existing = this.sessions.get(id)
    if (existing !== undefined) {
      existing.timeout = timeout
      this.touch(existing)
      return existing
    }
    const s: SessionEntry = { id, timeout, expireAt: 0, closing: false }
    this.sessions.set(id, s)
    this.touch(s)
    return s
  }

  /** Moves the session's deadline; false if it is closing (then it must not be kept alive). */
  touch(s: SessionEntry): boolean {
    if (s.closing) return false
    const at = this.deadline(this.now(), s.timeout)
    if (at === s.expireAt) return true
    this.unbucket(s)
    s.expireAt = at
    const b = this.buckets.get(at)
    if (b === undefined) this.buckets.set(at, new Set([s]))
    else b.add(s)
    return true
  }

  private unbucket(s: SessionEntry): void {
    if (s.expireAt === 0) return
    const b = this.buckets.get(s.expireAt)
    if (b !== undefined) {
      b.delete(s)
      if (b.size === 0) this.buckets.delete(s.expireAt)
    }
    s.expireAt = 0
  }

  remove(id: bigint): void {
    const s = this.sessions.get(id)
    if (s === undefined) return
    this.unbucket(s)
    this.sessions.delete(id)
  }

  /** Takes every session whose deadline has passed out of the buckets and marks it closing. */
  expire(): Array<SessionEntry> {
    const now = this.now()
    const out: Array<SessionEntry> = []
    for (const [at, bucket] of this.buckets) {
      if (at > now) continue
      this.buckets.delete(at)
      for (const s of bucket) {
        s.expireAt = 0
        s.closing = true
        out.push(s)
      }
    }
    return out
  }

  /** Expiry buckets for `dump`: deadline → session ids, soonest first. */
  dump(): Array<[number, Array<bigint>]> {
    return [...this.buckets.entries()].sort((a, b) => a[0] - b[0]).map(([at, b]) => [at, [...b].map((s) => s.id)])
  }
}
