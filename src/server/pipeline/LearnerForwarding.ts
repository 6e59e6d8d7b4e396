/**
 * What a learner's core does differently from a leader's: client writes and syncs go to the leader
 * (quorum.md §3.2 REQUEST) while their replies keep their place in the connection's order; the
 * leader's commits are matched back to the local connection that asked (by session and cxid); and
 * the sessions clients touched are collected for the next PING reply.
 */
import type { DataTree } from "../../tree/DataTree.js"
import type { Request } from "../../wire/ClientRecords.js"
import { Op } from "../../wire/Codes.js"
import type { Txn, TxnHeader } from "../../wire/TxnRecords.js"
import { type PendingWrite, WriteKind } from "../commit/CommitStage.js"
import type { Connection } from "../Connection.js"
import * as HopTimes from "../HopTimes.js"
import type { CoreLogger } from "../CoreConfig.js"
import { drainQueuedReads } from "../Reads.js"
import type { SessionEntry } from "../sessions/SessionTracker.js"
import type { ClientConnections } from "./ClientConnections.js"
import type { WritePath } from "./WritePath.js"

export class LearnerForwarding {
  /** Sessions touched since the last PING, with their timeouts. */
  private readonly touched = new Map<bigint, number>()
  /** Sync requests forwarded to the leader, oldest first. */
  private readonly pendingSyncs: Array<{ readonly conn: Connection; readonly xid: number; readonly path: string }> = []
  /** EZK_HOPS: when each forwarded write left, by session and cxid. */
  private readonly forwardedAt = new Map<string, number>()

  constructor(
    private readonly writes: WritePath,
    private readonly clients: ClientConnections,
    private readonly tree: DataTree,
    private readonly logger: CoreLogger
  ) {}

  /** A local client used its session: the leader hears of it in the next PING reply. */
  touch(s: SessionEntry): void {
    this.touched.set(s.id, s.timeout)
  }

  /** Sessions touched by their clients since the last call (the PING reply's table). */
  takeTouches(): Array<{ readonly sessionId: bigint; readonly timeout: number }> {
    const out = [...this.touched].map(([sessionId, timeout]) => ({ sessionId, timeout }))
    this.touched.clear()
    return out
  }

  /** The write goes to the leader; its reply waits in the connection's order until the txn commits here. */
  forwardWrite(conn: Connection, xid: number, type: number, frame: Uint8Array, q: Request): void {
    const s = conn.session!
    if (q.type === Op.closeSession) s.closing = true
    conn.queue.push(null)
    conn.forwardedXids.push(xid)
    if (HopTimes.enabled) this.forwardedAt.set(`${s.id}:${xid}`, HopTimes.now())
    this.writes.forwardWrite({ sessionId: s.id, cxid: xid, type, body: frame.subarray(8), authInfo: conn.ids })
  }

  /**
   * `sync` asks the leader to flush its pipeline to us; the reply waits in the connection's order
   * (like a write) until the leader's SYNC comes back behind every earlier commit.
   */
  forwardSync(conn: Connection, xid: number, frame: Uint8Array, q: Request): void {
    const s = conn.session!
    conn.queue.push(null)
    this.pendingSyncs.push({ conn, xid, path: (q as { readonly path: string }).path })
    this.writes.forward({ sessionId: s.id, cxid: xid, type: Op.sync, body: frame.subarray(8), authInfo: conn.ids })
  }

  /** The leader's SYNC arrived: answers the oldest forwarded sync. */
  syncAnswered(): void {
    const p = this.pendingSyncs.shift()
    if (p === undefined) return this.logger.warn("SYNC from the leader with no sync request pending")
    const conn = p.conn
    if (!conn.isOpen) return
    conn.queueHead++
    const mark = conn.beginReply(p.xid, this.tree.lastProcessedZxid, 0)
    conn.out.ustring(p.path)
    conn.endFrame(mark)
    drainQueuedReads(this.tree, conn)
    this.clients.flushAll()
  }

  /**
   * A txn the leader committed: answers the local connection that asked for it (by session and
   * cxid), else it is applied as remote.
   */
  committedFromLeader(header: TxnHeader, txn: Txn, digest: { readonly hi: number; readonly lo: number } | null, now: number): PendingWrite {
    const conn = this.clients.ownerOf(header.clientId) ?? null
    let kind = WriteKind.Remote
    if (conn !== null && conn.isOpen) {
      if (header.type === Op.createSession && conn.state === "connecting") kind = WriteKind.CreateSession
      else if (conn.queueHead < conn.queue.length && conn.queue[conn.queueHead] === null && header.cxid === conn.forwardedXids[0]) {
        conn.forwardedXids.shift()
        kind = WriteKind.Client
        if (HopTimes.enabled) this.recordForwarded(`${header.clientId}:${header.cxid}`)
      }
    }
    const mine = kind !== WriteKind.Remote
    if (mine && kind === WriteKind.Client) this.writes.forwardedCommitted()
    return {
      header,
      txn,
      kind,
      conn: mine ? conn : null,
      xid: header.cxid,
      receivedMs: now,
      digestHi: digest?.hi ?? 0,
      digestLo: digest?.lo ?? 0,
      hasDigest: digest !== null
    }
  }

  private recordForwarded(key: string): void {
    const at = this.forwardedAt.get(key)
    if (at === undefined) return
    HopTimes.record("follower: client write forwarded → committed here", at)
    this.forwardedAt.delete(key)
  }
}
