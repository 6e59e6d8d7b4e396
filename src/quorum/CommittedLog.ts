/**
 * The leader's in-memory committed log: the last committed proposals as the bytes sent in a
 * PROPOSAL (ZKDatabase.committedLog), seeded from the txns replayed at startup so a restarted
 * leader can still DIFF its followers. The DIFF/TRUNC/SNAP choice itself is the pure
 * `core/SyncDecision`.
 */
import type { RawTxn } from "../storage/TxnLog.js"
import * as SyncDecision from "./core/SyncDecision.js"

export interface CommittedTxn {
  readonly zxid: number
  /** The txn entry (TxnHeader + txn + digest), as logged and as a PROPOSAL carries it. */
  readonly raw: Uint8Array
}

/** zookeeper.commitLogCount. */
export const DEFAULT_CAPACITY = 500

export class CommittedLog {
  private items: Array<CommittedTxn>

  constructor(
    recent: ReadonlyArray<RawTxn>,
    readonly lastReplayedZxid: number,
    readonly capacity = DEFAULT_CAPACITY
  ) {
    // Only a tail that ends at the tree's last txn can serve a DIFF. Txns replayed at startup are
    // stale once the peer applied more in an earlier role: a DIFF or TRUNC computed from them would
    // cut a learner back to the startup zxid and send it nothing after (ZOOKEEPER-4925). Such a
    // leader starts with an empty committed log, so a learner behind it gets a SNAP.
    const last = recent.length > 0 ? recent[recent.length - 1]!.zxid : -1
    this.items = last === lastReplayedZxid ? recent.map((t) => ({ zxid: t.zxid, raw: t.entry })).slice(-capacity) : []
  }

  get size(): number {
    return this.items.length
  }

  add(txn: CommittedTxn): void {
    this.items.push(txn)
    if (this.items.length > this.capacity * 2) this.items = this.items.slice(-this.capacity)
  }

  decide(peerLastZxid: number, lastProcessedZxid: number): SyncDecision.SyncDecision<CommittedTxn> {
    return SyncDecision.decide({ peerLastZxid, lastProcessedZxid, committedLog: this.items, snapshotSizeFactor: -1, snapshotSizeBytes: 0 })
  }
}
