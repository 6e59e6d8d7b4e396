/**
 * The write path between prep and the client's reply: hands out zxids, serialises prepared txns
 * into log records for the commit stage, and applies what the stage returns durable and committed,
 * in zxid order, answering the local clients that asked. It also throttles reading from clients
 * while too many writes are outstanding (globalOutstandingLimit).
 */
import type { DataTree } from "../../tree/DataTree.js"
import { Op } from "../../wire/Codes.js"
import { JuteWriter } from "../../wire/Jute.js"
import { DIGEST_VERSION, writeTxn, writeTxnHeader } from "../../wire/TxnRecords.js"
import { toHex, ZxidCounter } from "../../wire/Zxid.js"
import { type CommitStage, type ForwardedRequest, type PendingWrite, WriteKind } from "../commit/CommitStage.js"
import { type Connection, PAUSE_THROTTLE } from "../Connection.js"
import type { CoreConfig, CoreLogger } from "../CoreConfig.js"
import { drainQueuedReads } from "../Reads.js"
import type { ServerStats } from "../ServerStats.js"
import type { SessionTracker } from "../sessions/SessionTracker.js"
import type { ClientConnections } from "./ClientConnections.js"
import type { Pending } from "./Pending.js"
import type { Prepared } from "./Prep.js"
import { replyToWrite, type TxnResult } from "./WriteReplies.js"

/** What the write path shares with the rest of the core. */
export interface WritePathContext {
  readonly config: CoreConfig
  readonly tree: DataTree
  readonly pending: Pending
  readonly tracker: SessionTracker
  readonly clients: ClientConnections
  readonly stats: ServerStats
  readonly logger: CoreLogger
  /** A new session's createSession committed: its ConnectResponse, then the frames that waited. */
  readonly sessionCreated: (conn: Connection, w: PendingWrite) => void
}

export class WritePath {
  /** Hands out zxids for the txns this server prepares (standalone, leader). */
  readonly zxids: ZxidCounter
  /** Writes prepared (or forwarded) and not yet committed. */
  private inFlight = 0
  private commitSeq = 0
  /**
   * Connections answered by the last commit whose recent requests were all writes: a client that
   * writes in a loop sends again right away, so the shell may wait a moment for that many writes
   * before it starts the next sync.
   */
  recentWriters = 0
  private throttled = false
  private readonly entry = new JuteWriter(64 * 1024)
  /** Called with the size of each committed batch (the shell's snapshot schedule). */
  onCommitted: (txns: number) => void = () => {}

  constructor(
    private readonly ctx: WritePathContext,
    private stage: CommitStage
  ) {
    this.zxids = new ZxidCounter(ctx.tree.lastProcessedZxid)
  }

  get role(): CommitStage["role"] {
    return this.stage.role
  }

  get outstanding(): number {
    return this.inFlight
  }

  /** Switches the commit stage (a peer changing role). Writes still in flight belong to the old stage. */
  setStage(stage: CommitStage): void {
    this.stage = stage
  }

  /** The next zxid for a txn prepared here, or null when the epoch is used up and a leader must step down. */
  nextZxid(): number | null {
    if (!this.zxids.canAdvance && !this.stage.epochExhausted(this.zxids)) return null
    return this.zxids.next()
  }

  /** Learners: sends a request (createSession, sync) to the leader. */
  forward(request: ForwardedRequest): void {
    this.stage.forward(request)
  }

  /** Learners: sends a client write to the leader; it counts as outstanding until it commits here. */
  forwardWrite(request: ForwardedRequest): void {
    this.inFlight++
    this.stage.forward(request)
  }

  /** Learners: a forwarded write of a local client came back committed. */
  forwardedCommitted(): void {
    this.inFlight = Math.max(0, this.inFlight - 1)
  }

  /** Serialises a prepared txn into its log record and hands it to the commit stage. */
  enqueue(p: Prepared, kind: WriteKind, conn: Connection | null, xid: number, receivedMs: number): void {
    const { config, pending } = this.ctx
    const w = this.entry.reset()
    writeTxnHeader(w, p.header)
    writeTxn(w, p.txn)
    const d = pending.digest
    const hasDigest = config.digestEnabled && p.txn.type !== Op.error
    if (hasDigest) w.int(DIGEST_VERSION).int(d.hi | 0).int(d.lo | 0)
    if (++this.inFlight > config.outstandingLimit && !this.throttled) this.throttle(true)
    const write: PendingWrite = { header: p.header, txn: p.txn, kind, conn, xid, receivedMs, digestHi: d.hi, digestLo: d.lo, hasDigest }
    this.stage.append(write, w.bytes.subarray(0, w.pos))
  }

  /** Applies durable, committed writes in zxid order and answers their clients. */
  commit(batch: ReadonlyArray<PendingWrite>, now: number): void {
    const seq = ++this.commitSeq
    let writers = 0
    for (const w of batch) {
      this.commitOne(w, now)
      const c = w.conn
      if (c !== null && c.lastCommitSeq !== seq && c.writeStreak >= 2 && c.state === "established") {
        c.lastCommitSeq = seq
        writers++
      }
    }
    this.recentWriters = writers
    if (this.stage.role !== "learner") this.inFlight -= batch.length
    if (this.throttled && this.inFlight <= this.ctx.config.outstandingLimit / 2) this.throttle(false)
    this.ctx.clients.flushAll()
    this.onCommitted(batch.length)
  }

  /** Stops (or resumes) reading from every client while too many writes wait for the disk. */
  private throttle(on: boolean): void {
    this.throttled = on
    if (on) this.ctx.logger.debug(`${this.inFlight} writes outstanding (limit ${this.ctx.config.outstandingLimit}): throttling clients`)
    for (const c of this.ctx.clients.all) if (on) c.pause(PAUSE_THROTTLE)
    else c.resume(PAUSE_THROTTLE)
  }

  private commitOne(w: PendingWrite, now: number): void {
    const { config, tree, tracker, stats, logger, clients } = this.ctx
    const res = tree.processTxn(w.header, w.txn)
    this.ctx.pending.retire(w.header.zxid)
    if (config.digestEnabled && w.hasDigest && (tree.digest.hi !== w.digestHi || tree.digest.lo !== w.digestLo)) {
      stats.digestMismatches++
      logger.error(`Digest mismatch after zxid ${toHex(w.header.zxid)}: tree ${tree.digest.value}, expected from prep`)
    }
    const conn = w.conn
    if (conn !== null && conn.isOpen) {
      if (w.kind === WriteKind.CreateSession) this.ctx.sessionCreated(conn, w)
      else if (w.kind === WriteKind.Client) this.answerWrite(conn, w, res, now)
    }
    // Sessions created through other servers: known here too, so their clients may move to us.
    if (w.kind === WriteKind.Remote && w.txn.type === Op.createSession && tracker.get(w.header.clientId) === undefined) {
      tracker.add(w.header.clientId, (w.txn as { readonly timeOut: number }).timeOut)
    }
    if (w.txn.type === Op.closeSession) {
      // After the reply to a client's own closeSession, so that reply still goes out.
      tracker.remove(w.header.clientId)
      clients.closeOwner(w.header.clientId)
    }
  }

  private answerWrite(conn: Connection, w: PendingWrite, res: TxnResult, now: number): void {
    conn.queueHead++
    replyToWrite(this.ctx.tree, conn, w, res)
    conn.recordLatency(now, w.receivedMs)
    this.ctx.stats.latencyMs.record(now - w.receivedMs)
    conn.lastZxid = w.header.zxid
    if (w.txn.type !== Op.closeSession) drainQueuedReads(this.ctx.tree, conn)
  }
}
