/**
 * The leader's in-memory committed log: the last committed proposals as the bytes sent in a
 * PROPOSAL (ZKDatabase.committedLog), seeded from the txns replayed at startup so a restarted
 * leader can still DIFF its followers, and the read of the on-disk txn log for a learner older
 * than that window. The DIFF/TRUNC/SNAP choice itself is the pure `core/SyncDecision`.
 */
import { Effect } from "effect"
import type { Store } from "../storage/Storage.js"
import type { RawTxn } from "../storage/TxnLog.js"
import { toHex } from "../wire/Zxid.js"
import * as SyncDecision from "./core/SyncDecision.js"
import { follows } from "./core/ZxidOrder.js"

export interface CommittedTxn {
  readonly zxid: number
  /** The txn entry (TxnHeader + txn + digest), as logged and as a PROPOSAL carries it. */
  readonly raw: Uint8Array
}

/** zookeeper.commitLogCount. */
export const DEFAULT_CAPACITY = 500


/** The txn log read for one learner, with the SNAP size its budget was measured against. */
export interface TxnLogRead extends SyncDecision.TxnLogSource<CommittedTxn> {
  readonly snapshotSizeBytes: number
}

export class CommittedLog {
  private items: Array<CommittedTxn>

  constructor(
    recent: ReadonlyArray<RawTxn>,
    /** zookeeper.snapshotSizeFactor (QuorumConfig): a DIFF from the txn log may send up to this × what a SNAP would. */
    readonly snapshotSizeFactor: number,
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

  minZxid(lastProcessedZxid: number): number {
    return SyncDecision.minCommitted(this.items, lastProcessedZxid)
  }

  /** Forgets everything (the tree was replaced or truncated). */
  clear(): void {
    this.items = []
  }

  /**
   * The txns a learner below this window needs from the txn log on disk, read up to the window's
   * start within the size budget; undefined when it is not below the window, the factor disables
   * it, or the log cannot be read (SNAP then). What a SNAP would send is measured by the tree's
   * data size, not the newest snapshot file's: that may be up to snapCount txns stale.
   */
  readTxnLog(store: Store, peerLastZxid: number): Effect.Effect<TxnLogRead | undefined> {
    const tree = store.tree
    const snapshotSizeBytes = tree.approximateDataSize
    const limit = SyncDecision.txnLogLimitBytes(this.snapshotSizeFactor, snapshotSizeBytes)
    if (limit === undefined || !SyncDecision.needsTxnLog(peerLastZxid, this.items, tree.lastProcessedZxid)) return Effect.succeed(undefined)
    const upTo = this.minZxid(tree.lastProcessedZxid)
    // The DIFF sends the committed log's txns too: they count against the same budget.
    let windowBytes = 0
    for (const t of this.items) windowBytes += t.raw.length
    return store.readLogRange(peerLastZxid, upTo, limit - windowBytes).pipe(
      Effect.map((r) => {
        const txns = r.txns.map((t) => ({ zxid: t.zxid, raw: t.entry }))
        return { sizeBytes: r.bytes + windowBytes, snapshotSizeBytes, read: () => txns }
      }),
      Effect.catchAll((e) => Effect.as(Effect.logWarning(`cannot read the txn log from ${toHex(peerLastZxid)} for a DIFF (SNAP instead): ${e.message}`), undefined))
    )
  }

  /** The choice for a learner at peerLastZxid, with what `readTxnLog` returned for it (just before). */
  decide(peerLastZxid: number, lastProcessedZxid: number, txnLog?: TxnLogRead): SyncDecision.SyncDecision<CommittedTxn> {
    return SyncDecision.decide({
      peerLastZxid,
      lastProcessedZxid,
      committedLog: this.items,
      snapshotSizeFactor: this.snapshotSizeFactor,
      snapshotSizeBytes: txnLog?.snapshotSizeBytes ?? 0,
      ...(txnLog !== undefined ? { txnLog } : {})
    })
  }
}
