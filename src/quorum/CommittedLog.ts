/**
 * The leader's in-memory committed log: the last committed proposals as the bytes sent in a
 * PROPOSAL (ZKDatabase.committedLog), seeded from the txns replayed at startup so a restarted
 * leader can still DIFF its followers. The DIFF/TRUNC/SNAP choice itself is the pure
 * `core/SyncDecision`.
 */
import type { RawTxn } from "../storage/TxnLog.js"
import * as SyncDecision from "./core/SyncDecision.js"
import { follows } from "./core/ZxidOrder.js"

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
    readonly capacity = DEFAULT_CAPACITY
  ) {
    this.items = []
    for (const t of recent.slice(-capacity)) this.add({ zxid: t.zxid, raw: t.entry })
  }

  get size(): number {
    return this.items.length
  }

  /**
   * Appends the next txn applied on this peer. Only a contiguous history can serve a DIFF: a txn that
   * does not follow the last one (after a SNAP or TRUNC) starts the log afresh.
   */
  add(txn: CommittedTxn): void {
    const last = this.items[this.items.length - 1]
    if (last !== undefined && (txn.zxid <= last.zxid || !follows(last.zxid, txn.zxid))) this.items = []
    this.items.push(txn)
    if (this.items.length > this.capacity * 2) this.items = this.items.slice(-this.capacity)
  }

  /** Forgets everything (the tree was replaced or truncated). */
  clear(): void {
    this.items = []
  }

  decide(peerLastZxid: number, lastProcessedZxid: number): SyncDecision.SyncDecision<CommittedTxn> {
    return SyncDecision.decide({ peerLastZxid, lastProcessedZxid, committedLog: this.items, snapshotSizeFactor: -1, snapshotSizeBytes: 0 })
  }
}
