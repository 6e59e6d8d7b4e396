/**
 * The leader's outstanding proposals in the broadcast phase (quorum.md §4.5): which zxids a quorum of
 * voters has ACKed and may be committed, strictly in zxid order. Times are passed in (milliseconds
 * from the shell's Clock), never read.
 *
 * A mutable class on purpose: it sits on the per-write hot path and is owned by the leader's single
 * fiber (STYLE §2.10); every method is still deterministic.
 */
import * as Zxid from "../../wire/Zxid.js"
import { assert } from "./internal/assert.js"
import type { QuorumVerifier, Sid } from "./QuorumVerifier.js"

interface Outstanding {
  readonly zxid: Zxid.Zxid
  readonly proposedAtMs: number
  /** Voters that logged it, each once (an ACK only adds to proposals after that voter's last one). */
  readonly acks: Array<Sid>
}

/** Returned when nothing commits: no array per ACK on the leader's hot path. */
const NONE: ReadonlyArray<Zxid.Zxid> = []

/** Outstanding proposals and their ACKs; the leader's own ACK is `ack(myid, zxid)` once it has logged. */
export class ProposalTracker {
  private readonly outstanding: Array<Outstanding> = []
  private lastProposed: Zxid.Zxid
  private lastCommittedZxid: Zxid.Zxid
  /** Per voter, the zxid its last ACK covered. */
  private readonly ackedUpTo = new Map<Sid, Zxid.Zxid>()

  /** Starts after `lastCommitted` (the new epoch's `epoch << 32` once NEWLEADER is acked). */
  constructor(private readonly verifier: QuorumVerifier, lastCommitted: Zxid.Zxid) {
    this.lastProposed = lastCommitted
    this.lastCommittedZxid = lastCommitted
  }

  /** The last zxid committed (what PING carries as the leader's position is `lastProposedZxid`). */
  get lastCommitted(): Zxid.Zxid {
    return this.lastCommittedZxid
  }

  get lastProposedZxid(): Zxid.Zxid {
    return this.lastProposed
  }

  /** How many proposals wait for a quorum. */
  get size(): number {
    return this.outstanding.length
  }

  /** Registers a proposal sent to the followers; zxids must increase. */
  propose(zxid: Zxid.Zxid, nowMs: number): void {
    // The message only when it fails: this runs once per write.
    if (zxid <= this.lastProposed) assert(false, `proposal ${Zxid.toHex(zxid)} after ${Zxid.toHex(this.lastProposed)}`)
    assert(Zxid.counterOf(zxid) !== 0, "no txn has counter 0")
    this.outstanding.push({ zxid, proposedAtMs: nowMs, acks: [] })
    this.lastProposed = zxid
  }

  /**
   * Records that voter `sid` has logged every proposal up to `zxid`; returns the zxids that become
   * committed, in order. A proposal with a quorum waits for every earlier one. One ACK covers every
   * earlier proposal: a learner logs proposals in order and refuses a hole, so what precedes a durable
   * txn is durable too. This counts the leader's own log (one sync per batch) and a learner that
   * acknowledges only the last of what it logged while syncing. ACKs from non-voters, for counter-0
   * zxids (NEWLEADER/UPTODATE acks) and ACKs that cover nothing new are ignored.
   */
  ack(sid: Sid, zxid: Zxid.Zxid): ReadonlyArray<Zxid.Zxid> {
    if (!this.verifier.isVoter(sid) || Zxid.counterOf(zxid) === 0) return NONE
    const from = this.ackedUpTo.get(sid) ?? -1
    if (zxid <= from) return NONE
    this.ackedUpTo.set(sid, zxid)
    const out = this.outstanding
    // Proposals up to `from` already carry this ACK (or were committed): start after them.
    for (let i = this.firstAfter(from); i < out.length && out[i]!.zxid <= zxid; i++) out[i]!.acks.push(sid)
    return this.commitReady()
  }

  /** Pops the committed prefix: proposals a quorum acked, each after every earlier one. */
  private commitReady(): ReadonlyArray<Zxid.Zxid> {
    if (this.outstanding.length === 0 || !this.verifier.containsQuorum(this.outstanding[0]!.acks)) return NONE
    const committed: Array<Zxid.Zxid> = []
    while (this.outstanding.length > 0 && this.verifier.containsQuorum(this.outstanding[0]!.acks)) {
      const head = this.outstanding.shift()!
      assert(head.zxid > this.lastCommittedZxid, "commits in zxid order")
      this.lastCommittedZxid = head.zxid
      committed.push(head.zxid)
    }
    return committed
  }

  /** Index of the first outstanding proposal with a zxid above `zxid`. */
  private firstAfter(zxid: Zxid.Zxid): number {
    let lo = 0
    let hi = this.outstanding.length
    while (lo < hi) {
      const mid = (lo + hi) >> 1
      if (this.outstanding[mid]!.zxid <= zxid) lo = mid + 1
      else hi = mid
    }
    return lo
  }

  /**
   * Age of the oldest outstanding proposal `sid` has not ACKed, or undefined. The leader drops a
   * learner when this exceeds tickTime × syncLimit (quorum.md §5). An ACK implies every earlier
   * proposal was logged too (learners log in order), so earlier proposals count as acked.
   */
  oldestUnackedAgeMs(sid: Sid, nowMs: number): number | undefined {
    const oldest = this.outstanding[this.firstAfter(this.ackedUpTo.get(sid) ?? -1)]
    return oldest === undefined ? undefined : nowMs - oldest.proposedAtMs
  }
}
