/**
 * The client-facing request pipeline: connect → prep → commit stage → apply → reply. Synchronous
 * and single-threaded; the Effect shell feeds it socket events and drives the tick timers. This
 * module dispatches frames to its parts in ./pipeline: ClientConnections (admission, session
 * owners, flushing), SessionEstablishment (ConnectRequest), AuthRequests (auth, sasl), WritePath
 * (zxids, the commit stage and back) and LearnerForwarding (what a learner sends its leader).
 * What happens between prep and apply is the commit stage's (./commit/CommitStage.ts): local group
 * commit when standalone, propose/ACK/COMMIT in an ensemble.
 *
 * Ordering contract: a write is acknowledged only after it is durable (and, in an ensemble,
 * committed by a quorum); the tree only ever holds such txns; a connection's replies leave in
 * request order, and a notification caused by a write leaves before that write's reply.
 */
import type { AuthProvidersShape } from "../auth/Digest.js"
import type { DataTree } from "../tree/DataTree.js"
import { type Request, readRequest } from "../wire/ClientRecords.js"
import { Err, Op, opName } from "../wire/Codes.js"
import { JuteReader } from "../wire/Jute.js"
import type { Txn, TxnHeader } from "../wire/TxnRecords.js"
import { WireError } from "../wire/WireError.js"
import type { ZxidCounter } from "../wire/Zxid.js"
import { type CommitStage, type PendingWrite, WriteKind } from "./commit/CommitStage.js"
import type { ClientSocket, Connection } from "./Connection.js"
import type { CoreClock, CoreConfig, CoreLogger } from "./CoreConfig.js"
import { AuthRequests } from "./pipeline/AuthRequests.js"
import { ClientConnections } from "./pipeline/ClientConnections.js"
import { reapCandidates } from "./pipeline/ContainerReaper.js"
import { LearnerForwarding } from "./pipeline/LearnerForwarding.js"
import { Pending } from "./pipeline/Pending.js"
import { type Caller, errorTxn, isWriteOp, Prep, type Prepared } from "./pipeline/Prep.js"
import { SessionEstablishment } from "./pipeline/SessionEstablishment.js"
import { WritePath } from "./pipeline/WritePath.js"
import { executeRead } from "./Reads.js"
import { ServerStats } from "./ServerStats.js"
import { SessionTracker } from "./sessions/SessionTracker.js"
import { Summary } from "./Summary.js"

const MAX_EARLY_FRAMES = 1000

export class ServerCore {
  readonly tracker: SessionTracker
  readonly pending: Pending
  readonly prep: Prep
  readonly stats = new ServerStats()
  private readonly clients: ClientConnections
  private readonly writes: WritePath
  private readonly authRequests: AuthRequests
  private readonly learner: LearnerForwarding
  private readonly sessions: SessionEstablishment
  /** Set by the shell: answers a four-letter word on a fresh connection. */
  fourLetter: (conn: Connection, word: string) => void = (conn) => this.close(conn, "four-letter words unavailable")
  /** False once shutting down: new connections and requests are refused. */
  serving = true
  /** What srvr/stat/mntr report (set by the quorum role that serves through this core). */
  mode: "standalone" | "leader" | "follower" | "observer" = "standalone"
  /** The serving quorum role's mntr counters (learners, synced_followers, pending_syncs, proposal sizes …). */
  quorumCounters: () => Readonly<Record<string, number>> = () => ({})
  /** Leader: ms from PROPOSAL to COMMIT (mntr proposal_latency). */
  readonly proposalLatencyMs = new Summary()

  constructor(
    readonly config: CoreConfig,
    readonly tree: DataTree,
    stage: CommitStage,
    readonly clock: CoreClock,
    auth: AuthProvidersShape,
    readonly logger: CoreLogger
  ) {
    this.tracker = new SessionTracker(config.tickTime, () => clock.monotonicMs())
    this.pending = new Pending(tree)
    this.prep = new Prep(this.pending, { extendedTypes: config.extendedTypes, saslEnabled: config.saslAclEnabled })
    this.clients = new ClientConnections(config, tree, clock, this.stats, logger)
    this.writes = new WritePath(
      {
        config,
        tree,
        pending: this.pending,
        tracker: this.tracker,
        clients: this.clients,
        stats: this.stats,
        logger,
        sessionCreated: (conn, w) => this.sessions.sessionCreated(conn, w)
      },
      stage
    )
    this.authRequests = new AuthRequests(auth, config, this.clients, this.stats, logger)
    this.learner = new LearnerForwarding(this.writes, this.clients, tree, logger)
    this.sessions = new SessionEstablishment({
      config,
      tree,
      clock,
      tracker: this.tracker,
      prep: this.prep,
      clients: this.clients,
      writes: this.writes,
      serving: () => this.serving,
      replay: (conn, frame) => this.onFrame(conn, frame)
    })
    // Sessions restored from disk get a fresh deadline: their clients may still reconnect.
    for (const [id, timeout] of tree.sessions) this.tracker.add(id, timeout)
  }

  /** The open client connections. */
  get connections(): ReadonlySet<Connection> {
    return this.clients.all
  }

  /** Hands out zxids for the txns this server prepares (standalone, leader). */
  get zxids(): ZxidCounter {
    return this.writes.zxids
  }

  /** Highest zxid handed out (prepared; may not be durable yet). */
  get lastPreparedZxid(): number {
    return this.writes.zxids.current
  }

  /** Writes prepared (or forwarded) and not yet committed. */
  get outstanding(): number {
    return this.writes.outstanding
  }

  /** Writers answered by the last commit (the group-commit loop waits a moment for them to write again). */
  get recentWriters(): number {
    return this.writes.recentWriters
  }

  /** Called after each committed batch with its size (the shell's snapshot schedule counts them). */
  set onCommitted(f: (txns: number) => void) {
    this.writes.onCommitted = f
  }

  get role(): CommitStage["role"] {
    return this.writes.role
  }

  /** Switches the commit stage (a peer changing role). Writes still in flight belong to the old stage. */
  setStage(stage: CommitStage): void {
    this.writes.setStage(stage)
  }

  // -------------------------------------------------------------------------------------------
  // Connections

  /** Registers a new socket; null if it was refused (maxClientCnxns, shutting down). */
  accept(socket: ClientSocket): Connection | null {
    return this.clients.accept(socket, this.serving)
  }

  /** Flushes every connection that has buffered output (end of a socket event or a commit batch). */
  flushAll(): void {
    this.clients.flushAll()
  }

  /** Socket data: split frames and handle each; a framing error closes the connection. */
  onData(conn: Connection, chunk: Uint8Array): void {
    if (conn.state === "closed") return
    let frames: Array<Uint8Array>
    try {
      frames = conn.splitter.feed(chunk)
    } catch (e) {
      if (e instanceof WireError) return this.close(conn, `bad frame from /${conn.remoteAddress}:${conn.remotePort}: ${e.message}`)
      throw e
    }
    const word = conn.splitter.fourLetterWord
    if (word !== null) {
      if (conn.state === "new") {
        conn.state = "closing"
        this.fourLetter(conn, word)
      }
      return
    }
    for (const f of frames) {
      if (!conn.isOpen || conn.state === "closing") break
      this.onFrame(conn, f)
    }
    this.flushAll()
  }

  private onFrame(conn: Connection, frame: Uint8Array): void {
    switch (conn.state) {
      case "new":
        return this.sessions.onConnect(conn, frame)
      case "connecting":
        if (conn.early.length >= MAX_EARLY_FRAMES) return this.close(conn, "too many requests before the session was established")
        conn.early.push(frame.slice())
        return
      case "established":
        return this.onRequest(conn, frame)
      default:
        return
    }
  }

  /** The client half-closed: a four-letter word still gets its answer, anything else is closed. */
  onEnd(conn: Connection): void {
    if (conn.state !== "closing") this.close(conn)
  }

  /** The socket ended or failed. Pending writes still commit; their replies are dropped. */
  onClosed(conn: Connection): void {
    this.clients.detach(conn)
  }

  /** Closes a connection after flushing what it has buffered; `reason` is logged once. */
  close(conn: Connection, reason?: string): void {
    this.clients.close(conn, reason)
  }

  /** Stops accepting work; existing connections are closed by the shell after the last commit. */
  closeAll(reason: string): void {
    this.clients.closeAll(reason)
  }

  // -------------------------------------------------------------------------------------------
  // Requests

  private onRequest(conn: Connection, frame: Uint8Array): void {
    if (frame.length < 8) return this.close(conn, "request shorter than its header")
    const xid = (frame[0]! << 24) | (frame[1]! << 16) | (frame[2]! << 8) | frame[3]!
    const type = (frame[4]! << 24) | (frame[5]! << 16) | (frame[6]! << 8) | frame[7]!
    const now = this.clock.nowMs()
    conn.received++
    this.stats.received++
    const s = conn.session!
    this.tracker.touch(s)
    const learner = this.writes.role === "learner"
    if (learner) this.learner.touch(s)
    if (type === Op.auth) return this.authRequests.onAuth(conn, frame)
    if (type === Op.sasl) return this.authRequests.onSasl(conn, xid, frame)
    const schemes = this.config.enforceAuthSchemes
    if (schemes !== undefined && schemes.length > 0 && !conn.ids.some((id) => schemes.includes(id.scheme))) {
      // ZooKeeper 3.8 AuthenticationHelper.enforceAuthentication: reply -124, then close the connection.
      this.logger.error(`Client authentication scheme(s) [${conn.ids.map((id) => id.scheme).join(", ")}] do not match any expected scheme [${schemes.join(", ")}]; closing session 0x${s.id.toString(16)}`)
      conn.replyHeader(xid, 0, Err.SessionClosedRequireSaslAuth)
      return this.close(conn, "session requires authentication")
    }
    let q: Request | null
    try {
      q = readRequest(new JuteReader(frame, 8, frame.length, this.config.maxFrame), type)
    } catch (e) {
      if (!(e instanceof WireError)) throw e
      this.logger.warn(`Malformed ${opName(type)} request from session 0x${s.id.toString(16)}: ${e.message}`)
      // A write that cannot be parsed still consumes a zxid, logged as an error txn (as ZooKeeper's prep does).
      if (isWriteOp(type) && !learner) {
        const zxid = this.writes.nextZxid()
        if (zxid === null) return this.close(conn, "the leader is changing epochs")
        return this.submitPrepared(conn, xid, errorTxn(s.id, xid, zxid, now, Err.MarshallingError), now)
      }
      return this.replyInOrder(conn, xid, Err.MarshallingError)
    }
    if (q === null) {
      conn.replyHeader(xid, -1, Err.Unimplemented)
      return this.close(conn, `unknown opcode ${type}`)
    }
    conn.lastOp = opName(type)
    conn.lastCxid = xid
    if (isWriteOp(type)) {
      conn.writeStreak++
      if (learner) return this.learner.forwardWrite(conn, xid, type, frame, q)
      return this.submitWrite(conn, xid, q, now)
    }
    if (type !== Op.ping) conn.writeStreak = 0
    if (type === Op.sync && learner) return this.learner.forwardSync(conn, xid, frame, q)
    if (conn.queued > 0) conn.queue.push({ xid, request: q, err: 0 })
    else executeRead(this.tree, conn, xid, q)
  }

  /** An error reply that still respects the connection's order. */
  private replyInOrder(conn: Connection, xid: number, err: number): void {
    if (conn.queued === 0) return conn.replyHeader(xid, this.tree.lastProcessedZxid, err)
    conn.queue.push({ xid, request: null, err })
  }

  private submitWrite(conn: Connection, xid: number, q: Request, now: number): void {
    const s = conn.session!
    const zxid = this.writes.nextZxid()
    if (zxid === null) return this.close(conn, "the leader is changing epochs")
    if (s.closing) return this.submitPrepared(conn, xid, errorTxn(s.id, xid, zxid, now, Err.SessionExpired), now)
    const prepared = this.prep.write(conn, xid, zxid, now, q)
    if (q.type === Op.closeSession) s.closing = true
    this.submitPrepared(conn, xid, prepared, now)
  }

  /** Queues a client's prepared txn; its reply waits in the connection's order until it is durable. */
  private submitPrepared(conn: Connection, xid: number, prepared: Prepared, now: number): void {
    conn.queue.push(null)
    this.writes.enqueue(prepared, WriteKind.Client, conn, xid, now)
  }

  // -------------------------------------------------------------------------------------------
  // The quorum roles' entry points

  /**
   * Leaders: prepares a txn for another server's client (a learner's REQUEST). The caller is the
   * learner's session with the auth ids it forwarded; nothing is prepared when the epoch is used up.
   */
  prepareRemote(caller: Caller, cxid: number, q: Request | { readonly type: typeof Op.createSession; readonly timeOut: number }, now: number): void {
    const zxid = this.writes.nextZxid()
    if (zxid === null) return
    if (q.type === Op.createSession) {
      this.tracker.add(caller.sessionId, q.timeOut)
      return this.writes.enqueue(this.prep.createSession(caller.sessionId, q.timeOut, zxid, now), WriteKind.Remote, null, cxid, now)
    }
    const s = this.tracker.get(caller.sessionId)
    if (s === undefined || s.closing) return this.writes.enqueue(errorTxn(caller.sessionId, cxid, zxid, now, Err.SessionExpired), WriteKind.Remote, null, cxid, now)
    if (q.type === Op.closeSession) s.closing = true
    this.writes.enqueue(this.prep.write(caller, cxid, zxid, now, q as Request), WriteKind.Remote, null, cxid, now)
  }

  /** Learners: the leader's SYNC arrived: answers the oldest forwarded sync. */
  syncAnswered(): void {
    this.learner.syncAnswered()
  }

  /** Learners: sessions touched by their clients since the last call (the PING reply's table). */
  takeTouches(): Array<{ readonly sessionId: bigint; readonly timeout: number }> {
    return this.learner.takeTouches()
  }

  /** Learners: a txn the leader committed, matched to the local connection that asked for it (else remote). */
  committedFromLeader(header: TxnHeader, txn: Txn, digest: { readonly hi: number; readonly lo: number } | null, now: number): PendingWrite {
    return this.learner.committedFromLeader(header, txn, digest, now)
  }

  /** Applies durable, committed writes in zxid order and answers their clients (called by the commit stage). */
  commit(batch: ReadonlyArray<PendingWrite>): void {
    this.writes.commit(batch, this.clock.nowMs())
  }

  // -------------------------------------------------------------------------------------------
  // Timers (driven by the shell)

  /** Expires sessions whose deadline passed: each gets a closeSession txn with cxid 0. */
  expireSessions(): number {
    const elapsed = this.clock.monotonicMs()
    // A connection that never completed its handshake is dropped (zookeeper.nio.sessionlessCnxnTimeout).
    for (const c of this.clients.all) {
      if (c.state === "new" && elapsed - c.openedMonotonicMs > this.config.sessionlessCnxnTimeoutMs) this.close(c, "no ConnectRequest within the sessionless connection timeout")
    }
    // Only the server that prepares txns expires sessions; learners report their clients' touches.
    if (this.writes.role === "learner") return 0
    const expired = this.tracker.expire()
    const now = this.clock.nowMs()
    for (const s of expired) {
      this.logger.info(`Expiring session 0x${s.id.toString(16)}, timeout of ${s.timeout}ms exceeded`)
      const zxid = this.writes.nextZxid()
      if (zxid === null) break
      this.writes.enqueue(this.prep.closeSession(s.id, 0, zxid, now), WriteKind.Expire, null, 0, now)
    }
    return expired.length
  }

  /** Deletes empty containers that once had children and expired TTL nodes (ContainerManager). */
  reapContainers(): number {
    if (this.writes.role === "learner") return 0
    const now = this.clock.nowMs()
    const candidates = reapCandidates(this.tree, now, this.config)
    const limit = Math.min(candidates.length, this.config.containerMaxPerMinute)
    for (let i = 0; i < limit; i++) {
      const zxid = this.writes.nextZxid()
      if (zxid === null) break
      this.writes.enqueue(this.prep.deleteContainer(candidates[i]!, zxid, now), WriteKind.Reap, null, 0, now)
    }
    return limit
  }
}

