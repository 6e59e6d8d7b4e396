/**
 * The client-facing request pipeline: connect → prep → commit stage → apply → reply. Synchronous
 * and single-threaded; the Effect shell feeds it socket events and drives the tick timers. What
 * happens between prep and apply is the commit stage's (./commit/CommitStage.ts): local group
 * commit when standalone, propose/ACK/COMMIT in an ensemble; a learner forwards writes instead
 * of preparing them.
 *
 * Ordering contract: a write is acknowledged only after it is durable (and, in an ensemble,
 * committed by a quorum); the tree only ever holds such txns; a connection's replies leave in
 * request order, and a notification caused by a write leaves before that write's reply.
 */
import type { AuthProvidersShape } from "../auth/Digest.js"
import * as SaslServer from "../auth/SaslDigestMd5.js"
import type { DataTree } from "../tree/DataTree.js"
import { kindOfOwner, ttlOfOwner } from "../tree/ZNode.js"
import { type Request, readRequest, writeMultiResponse, type MultiResult } from "../wire/ClientRecords.js"
import { Err, Op, opName, Xid } from "../wire/Codes.js"
import { JuteReader, JuteWriter } from "../wire/Jute.js"
import { type Txn, type TxnHeader, writeTxn, writeTxnHeader } from "../wire/TxnRecords.js"
import { WireError } from "../wire/WireError.js"
import { ZxidCounter, toHex } from "../wire/Zxid.js"
import { type CommitStage, type PendingWrite, WriteKind } from "./commit/CommitStage.js"
import { DIGEST_VERSION } from "../tree/Digest.js"
import { writeNodeStat } from "../tree/ZNode.js"
import { type ClientSocket, Connection, PAUSE_THROTTLE, type QueuedRead } from "./Connection.js"
import { Pending } from "./pipeline/Pending.js"
import { type Caller, isWriteOp, Prep, type Prepared } from "./pipeline/Prep.js"
import { executeRead } from "./Reads.js"
import { initialSessionId, nextSessionId, passwordMatches, sessionPassword } from "./sessions/SessionId.js"
import { type SessionEntry, SessionTracker } from "./sessions/SessionTracker.js"
import { Summary } from "./Summary.js"

/** Settings the pipeline needs (a slice of ZkConfig). */
export interface CoreConfig {
  readonly serverId: number
  readonly tickTime: number
  readonly minSessionTimeout: number
  readonly maxSessionTimeout: number
  /** Per remote IP; 0 = unlimited. */
  readonly maxClientCnxns: number
  readonly maxFrame: number
  readonly extendedTypes: boolean
  readonly digestEnabled: boolean
  /** SASL users from the JAAS Server section, or null when SASL is not configured. */
  readonly saslUsers: ReadonlyMap<string, string> | null
  readonly saslSuperUser?: string | undefined
  /** `authProvider.N=…SASLAuthenticationProvider`: `sasl:` ACL entries are valid (else InvalidACL, as in ZooKeeper). */
  readonly saslAclEnabled: boolean
  /** znode.container.maxNeverUsedIntervalMs (0 = never reap never-used containers). */
  readonly containerMaxNeverUsedMs: number
  /** znode.container.maxPerMinute */
  readonly containerMaxPerMinute: number
  /** zookeeper.nio.sessionlessCnxnTimeout: how long a connection may stay without a session. */
  readonly sessionlessCnxnTimeoutMs: number
  /** globalOutstandingLimit: above this many uncommitted writes, clients are not read from. */
  readonly outstandingLimit: number
  /** enforce.auth: a session must hold an id of one of these schemes for anything but auth/SASL; empty = off. */
  readonly enforceAuthSchemes?: ReadonlyArray<string>
}

/** Time as the pipeline sees it: wall clock for txn times, monotonic for session ids. */
export interface CoreClock {
  readonly nowMs: () => number
  readonly monotonicMs: () => number
}

export interface CoreLogger {
  readonly debug: (message: string) => void
  readonly info: (message: string) => void
  readonly warn: (message: string) => void
  readonly error: (message: string) => void
}

const ZERO_PASSWD = new Uint8Array(16)
const MAX_EARLY_FRAMES = 1000

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

  reset(): void {
    this.received = 0
    this.sent = 0
    this.latencyMs.reset()
  }
}

export class ServerCore {
  readonly tracker: SessionTracker
  readonly pending: Pending
  readonly prep: Prep
  readonly connections = new Set<Connection>()
  readonly stats = new ServerStats()
  /** The connection currently attached to each session. */
  private readonly owners = new Map<bigint, Connection>()
  private readonly perIp = new Map<string, number>()
  /** Hands out zxids for the txns this server prepares (standalone, leader). */
  readonly zxids: ZxidCounter
  private sessionIdSeq: bigint
  /** Writes prepared and not yet committed (in the open batch or being synced). */
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
  private readonly dirty = new Set<Connection>()
  /** Learners: sessions touched since the last PING, with their timeouts. */
  private readonly touched = new Map<bigint, number>()
  /** Learners: sync requests forwarded to the leader, oldest first. */
  private readonly pendingSyncs: Array<{ readonly conn: Connection; readonly xid: number; readonly path: string }> = []
  /** Set by the shell: answers a four-letter word on a fresh connection. */
  fourLetter: (conn: Connection, word: string) => void = (conn) => this.close(conn, "four-letter words unavailable")
  /** Txns logged since the last snapshot (the shell decides when to snapshot). */
  txnsSinceSnapshot = 0
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
    private stage: CommitStage,
    readonly clock: CoreClock,
    private readonly auth: AuthProvidersShape,
    readonly logger: CoreLogger
  ) {
    this.tracker = new SessionTracker(config.tickTime)
    this.pending = new Pending(tree)
    this.prep = new Prep(this.pending, { extendedTypes: config.extendedTypes, saslEnabled: config.saslAclEnabled })
    this.zxids = new ZxidCounter(tree.lastProcessedZxid)
    this.sessionIdSeq = initialSessionId(config.serverId, clock.monotonicMs())
    // Sessions restored from disk get a fresh deadline: their clients may still reconnect.
    const now = clock.nowMs()
    for (const [id, timeout] of tree.sessions) this.tracker.add(id, timeout, now)
  }

  /** Highest zxid handed out (prepared; may not be durable yet). */
  get lastPreparedZxid(): number {
    return this.zxids.current
  }

  get outstanding(): number {
    return this.inFlight
  }

  get role(): CommitStage["role"] {
    return this.stage.role
  }

  /** Switches the commit stage (a peer changing role). Writes still in flight belong to the old stage. */
  setStage(stage: CommitStage): void {
    this.stage = stage
  }

  /** The next zxid for a txn prepared here, or null when the epoch is used up and a leader must step down. */
  private nextZxid(): number | null {
    if (!this.zxids.canAdvance && !this.stage.epochExhausted(this.zxids)) return null
    return this.zxids.next()
  }

  // -------------------------------------------------------------------------------------------
  // Connections

  /** Registers a new socket; null if it was refused (maxClientCnxns, shutting down). */
  accept(socket: ClientSocket): Connection | null {
    const conn = new Connection(socket, this.config.maxFrame, this.clock.nowMs(), (c, bytes) => this.markDirty(c, bytes))
    if (!this.serving) {
      socket.destroy()
      return null
    }
    const max = this.config.maxClientCnxns
    const n = this.perIp.get(conn.remoteAddress) ?? 0
    if (max > 0 && n >= max) {
      this.logger.warn(`Too many connections from /${conn.remoteAddress} - max is ${max}`)
      socket.destroy()
      return null
    }
    this.perIp.set(conn.remoteAddress, n + 1)
    this.connections.add(conn)
    return conn
  }

  private markDirty(c: Connection, bytes: number): void {
    const s = this.stats
    s.sent++
    s.lastResponseBytes = bytes
    if (s.minResponseBytes < 0 || bytes < s.minResponseBytes) s.minResponseBytes = bytes
    if (bytes > s.maxResponseBytes) s.maxResponseBytes = bytes
    this.dirty.add(c)
  }

  /** Flushes every connection that has buffered output (end of a socket event or a commit batch). */
  flushAll(): void {
    for (const c of this.dirty) c.flush()
    this.dirty.clear()
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
        return this.onConnect(conn, frame)
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
    if (conn.state === "closed") return
    conn.state = "closed"
    this.connections.delete(conn)
    this.dirty.delete(conn)
    const n = (this.perIp.get(conn.remoteAddress) ?? 1) - 1
    if (n <= 0) this.perIp.delete(conn.remoteAddress)
    else this.perIp.set(conn.remoteAddress, n)
    if (conn.session !== null && this.owners.get(conn.session.id) === conn) this.owners.delete(conn.session.id)
    this.tree.watches.removeWatcher(conn)
  }

  /** Closes a connection after flushing what it has buffered; `reason` is logged once. */
  close(conn: Connection, reason?: string): void {
    if (conn.state === "closed") return
    if (reason !== undefined) this.logger.info(`Closing connection /${conn.remoteAddress}:${conn.remotePort}${conn.session ? ` session 0x${conn.session.id.toString(16)}` : ""}: ${reason}`)
    conn.flush()
    conn.socket.end()
    this.onClosed(conn)
  }

  // -------------------------------------------------------------------------------------------
  // Session establishment (client.md §3.3)

  private onConnect(conn: Connection, frame: Uint8Array): void {
    let timeOut: number, sessionId: bigint, passwd: Uint8Array, readOnly: boolean | null, lastZxidSeen: bigint
    try {
      const r = new JuteReader(frame)
      r.int() // protocolVersion
      lastZxidSeen = r.bigLong()
      timeOut = r.int()
      sessionId = r.bigLong()
      passwd = r.buffer() ?? ZERO_PASSWD
      readOnly = r.remaining > 0 ? r.bool() : null
    } catch (e) {
      if (e instanceof WireError) return this.close(conn, `malformed ConnectRequest: ${e.message}`)
      throw e
    }
    if (!this.serving) return this.close(conn, "server is shutting down")
    const lastZxid = this.tree.lastProcessedZxid
    if (lastZxidSeen > BigInt(lastZxid)) {
      return this.close(conn, `client has seen zxid 0x${lastZxidSeen.toString(16)}, our last zxid is 0x${lastZxid.toString(16)}: client must try another server`)
    }
    conn.readOnlyByte = readOnly !== null
    const timeout = Math.min(Math.max(timeOut, this.config.minSessionTimeout), this.config.maxSessionTimeout)
    const now = this.clock.nowMs()
    if (sessionId === 0n) {
      const id = this.sessionIdSeq
      this.sessionIdSeq = nextSessionId(id)
      conn.session = this.tracker.add(id, timeout, now)
      conn.state = "connecting"
      this.owners.set(id, conn)
      if (this.stage.role === "learner") {
        this.stage.forward({ sessionId: id, cxid: 0, type: Op.createSession, body: intBytes(timeout), authInfo: null })
        return
      }
      const zxid = this.nextZxid()
      if (zxid === null) return this.close(conn, "the leader is changing epochs")
      this.enqueue(this.prep.createSession(id, timeout, zxid, now), WriteKind.CreateSession, conn, 0, now)
      return
    }
    const s = this.tracker.get(sessionId)
    if (s === undefined || s.closing || !passwordMatches(sessionId, passwd)) {
      this.sendConnectResponse(conn, 0, 0n, ZERO_PASSWD)
      return this.close(conn, `invalid session 0x${sessionId.toString(16)} (expired, unknown or wrong password)`)
    }
    const previous = this.owners.get(sessionId)
    if (previous !== undefined && previous !== conn) this.close(previous, "session moved to a new connection")
    s.timeout = timeout
    this.tracker.touch(s, now)
    this.attach(conn, s)
    this.sendConnectResponse(conn, timeout, sessionId, sessionPassword(sessionId))
  }

  private attach(conn: Connection, s: SessionEntry): void {
    conn.session = s
    conn.state = "established"
    this.owners.set(s.id, conn)
  }

  private sendConnectResponse(conn: Connection, timeout: number, sessionId: bigint, passwd: Uint8Array): void {
    const w = conn.out
    const mark = w.mark()
    w.int(0).int(timeout).bigLong(sessionId).buffer(passwd)
    if (conn.readOnlyByte) w.bool(false)
    conn.endFrame(mark)
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
    this.tracker.touch(s, now)
    if (this.stage.role === "learner") this.touched.set(s.id, s.timeout)
    if (type === Op.auth) return this.onAuth(conn, frame)
    if (type === Op.sasl) return this.onSasl(conn, xid, frame)
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
      if (isWriteOp(type) && this.stage.role !== "learner") {
        const zxid = this.nextZxid()
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
      if (this.stage.role === "learner") return this.forwardWrite(conn, xid, type, frame, q)
      return this.submitWrite(conn, xid, q, now)
    }
    if (type !== Op.ping) conn.writeStreak = 0
    if (type === Op.sync && this.stage.role === "learner") return this.forwardSync(conn, xid, frame, q)
    if (conn.queued > 0) conn.queue.push({ xid, request: q, err: 0 })
    else executeRead(this.tree, conn, xid, q)
  }

  /** An error reply that still respects the connection's order. */
  private replyInOrder(conn: Connection, xid: number, err: number): void {
    if (conn.queued === 0) return conn.replyHeader(xid, this.tree.lastProcessedZxid, err)
    conn.queue.push({ xid, request: null, err })
  }

  private onAuth(conn: Connection, frame: Uint8Array): void {
    let scheme: string, auth: Uint8Array
    try {
      const r = new JuteReader(frame, 8)
      r.int()
      scheme = r.string()
      auth = r.buffer() ?? new Uint8Array(0)
    } catch (e) {
      if (!(e instanceof WireError)) throw e
      conn.replyHeader(Xid.auth, 0, Err.AuthFailed)
      return this.close(conn, "malformed auth packet")
    }
    const res = this.auth.authenticate(scheme, auth, conn.remoteAddress)
    if (!res.ok) {
      this.stats.authFailures++
      conn.replyHeader(Xid.auth, 0, Err.AuthFailed)
      return this.close(conn, `authentication with scheme '${scheme}' failed`)
    }
    for (const id of res.ids) if (!conn.ids.some((x) => x.scheme === id.scheme && x.id === id.id)) conn.ids.push(id)
    if (res.isSuper) conn.isSuper = true
    conn.replyHeader(Xid.auth, 0, 0)
  }

  private onSasl(conn: Connection, xid: number, frame: Uint8Array): void {
    let token: Uint8Array | null
    try {
      token = new JuteReader(frame, 8).buffer()
    } catch (e) {
      if (!(e instanceof WireError)) throw e
      return this.saslFailed(conn, xid, "malformed SASL request")
    }
    const users = this.config.saslUsers
    if (users === null) return this.saslFailed(conn, xid, "SASL is not configured on this server (no jaasLoginConfig)")
    conn.sasl ??= SaslServer.start({ users, superUser: this.config.saslSuperUser })
    const step = conn.sasl.evaluateResponse(token ?? new Uint8Array(0))
    if (step._tag === "Failure") return this.saslFailed(conn, xid, `SASL authentication failed: ${step.reason}`)
    if (step._tag === "Success") {
      for (const id of step.ids) conn.ids.push(id)
      if (step.isSuper) conn.isSuper = true
      this.logger.info(`Successfully authenticated client: authenticationID=${step.user}; session 0x${conn.sessionId.toString(16)}`)
    }
    const mark = conn.beginReply(xid, 0, 0)
    conn.out.buffer(step.token)
    conn.endFrame(mark)
  }

  private saslFailed(conn: Connection, xid: number, reason: string): void {
    this.stats.authFailures++
    const mark = conn.beginReply(xid, 0, Err.AuthFailed)
    conn.out.buffer(null)
    conn.endFrame(mark)
    this.close(conn, reason)
  }

  private submitWrite(conn: Connection, xid: number, q: Request, now: number): void {
    const s = conn.session!
    const zxid = this.nextZxid()
    if (zxid === null) return this.close(conn, "the leader is changing epochs")
    if (s.closing) return this.submitPrepared(conn, xid, errorTxn(s.id, xid, zxid, now, Err.SessionExpired), now)
    const prepared = this.prep.write(conn, xid, zxid, now, q)
    if (q.type === Op.closeSession) s.closing = true
    this.submitPrepared(conn, xid, prepared, now)
  }

  /**
   * Learners: `sync` asks the leader to flush its pipeline to us; the reply waits in the connection's
   * order (like a write) until the leader's SYNC comes back behind every earlier commit.
   */
  private forwardSync(conn: Connection, xid: number, frame: Uint8Array, q: Request): void {
    const s = conn.session!
    conn.queue.push(null)
    this.pendingSyncs.push({ conn, xid, path: (q as { readonly path: string }).path })
    this.stage.forward({ sessionId: s.id, cxid: xid, type: Op.sync, body: frame.subarray(8), authInfo: conn.ids })
  }

  /** Learners: the leader's SYNC arrived: answers the oldest forwarded sync. */
  syncAnswered(): void {
    const p = this.pendingSyncs.shift()
    if (p === undefined) return this.logger.warn("SYNC from the leader with no sync request pending")
    const conn = p.conn
    if (!conn.isOpen) return
    conn.queueHead++
    const mark = conn.beginReply(p.xid, this.tree.lastProcessedZxid, 0)
    conn.out.ustring(p.path)
    conn.endFrame(mark)
    this.drainReads(conn)
    this.flushAll()
  }

  /** Learners: sessions touched by their clients since the last call (the PING reply's table). */
  takeTouches(): Array<{ readonly sessionId: bigint; readonly timeout: number }> {
    const out = [...this.touched].map(([sessionId, timeout]) => ({ sessionId, timeout }))
    this.touched.clear()
    return out
  }

  /** Learners: the write goes to the leader; its reply waits in the connection's order until the txn commits here. */
  private forwardWrite(conn: Connection, xid: number, type: number, frame: Uint8Array, q: Request): void {
    const s = conn.session!
    if (q.type === Op.closeSession) s.closing = true
    conn.queue.push(null)
    conn.forwardedXids.push(xid)
    this.inFlight++
    this.stage.forward({ sessionId: s.id, cxid: xid, type, body: frame.subarray(8), authInfo: conn.ids })
  }

  /** Queues a client's prepared txn; its reply waits in the connection's order until it is durable. */
  private submitPrepared(conn: Connection, xid: number, prepared: Prepared, now: number): void {
    conn.queue.push(null)
    this.enqueue(prepared, WriteKind.Client, conn, xid, now)
  }

  /** Serialises a prepared txn into its log record and hands it to the commit stage. */
  private enqueue(p: Prepared, kind: WriteKind, conn: Connection | null, xid: number, receivedMs: number): void {
    const w = this.entry.reset()
    writeTxnHeader(w, p.header)
    writeTxn(w, p.txn)
    const d = this.pending.digest
    const hasDigest = this.config.digestEnabled && p.txn.type !== Op.error
    if (hasDigest) w.int(DIGEST_VERSION).int(d.hi | 0).int(d.lo | 0)
    this.txnsSinceSnapshot++
    if (++this.inFlight > this.config.outstandingLimit && !this.throttled) this.throttle(true)
    const write: PendingWrite = { header: p.header, txn: p.txn, kind, conn, xid, receivedMs, digestHi: d.hi, digestLo: d.lo, hasDigest }
    this.stage.append(write, w.bytes.subarray(0, w.pos))
  }

  /**
   * Prepares a txn for another server's client (a leader handling a learner's REQUEST). The caller is
   * the learner's session with the auth ids it forwarded; null when the epoch is used up.
   */
  prepareRemote(caller: Caller, cxid: number, q: Request | { readonly type: typeof Op.createSession; readonly timeOut: number }, now: number): void {
    const zxid = this.nextZxid()
    if (zxid === null) return
    if (q.type === Op.createSession) {
      this.tracker.add(caller.sessionId, q.timeOut, now)
      return this.enqueue(this.prep.createSession(caller.sessionId, q.timeOut, zxid, now), WriteKind.Remote, null, cxid, now)
    }
    const s = this.tracker.get(caller.sessionId)
    if (s === undefined || s.closing) return this.enqueue(errorTxn(caller.sessionId, cxid, zxid, now, Err.SessionExpired), WriteKind.Remote, null, cxid, now)
    if (q.type === Op.closeSession) s.closing = true
    this.enqueue(this.prep.write(caller, cxid, zxid, now, q as Request), WriteKind.Remote, null, cxid, now)
  }

  /**
   * A txn the leader committed, seen by a learner: answers the local connection that asked for it
   * (by session and cxid), else applies it as remote.
   */
  committedFromLeader(header: TxnHeader, txn: Txn, digest: { readonly hi: number; readonly lo: number } | null, now: number): PendingWrite {
    const conn = this.owners.get(header.clientId) ?? null
    let kind = WriteKind.Remote
    if (conn !== null && conn.isOpen) {
      if (header.type === Op.createSession && conn.state === "connecting") kind = WriteKind.CreateSession
      else if (conn.queueHead < conn.queue.length && conn.queue[conn.queueHead] === null && header.cxid === conn.forwardedXids[0]) {
        conn.forwardedXids.shift()
        kind = WriteKind.Client
      }
    }
    const mine = kind !== WriteKind.Remote
    if (mine && kind === WriteKind.Client) this.inFlight = Math.max(0, this.inFlight - 1)
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

  // -------------------------------------------------------------------------------------------
  // Commit (called by the commit stage)

  /** Applies durable, committed writes in zxid order and answers their clients. */
  commit(batch: ReadonlyArray<PendingWrite>): void {
    const now = this.clock.nowMs()
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
    if (this.throttled && this.inFlight <= this.config.outstandingLimit / 2) this.throttle(false)
    this.flushAll()
  }

  /** Stops (or resumes) reading from every client while too many writes wait for the disk. */
  private throttle(on: boolean): void {
    this.throttled = on
    if (on) this.logger.debug(`${this.inFlight} writes outstanding (limit ${this.config.outstandingLimit}): throttling clients`)
    for (const c of this.connections) if (on) c.pause(PAUSE_THROTTLE)
    else c.resume(PAUSE_THROTTLE)
  }

  private commitOne(w: PendingWrite, now: number): void {
    const res = this.tree.processTxn(w.header, w.txn)
    this.pending.retire(w.header.zxid)
    if (this.config.digestEnabled && w.hasDigest && (this.tree.digest.hi !== w.digestHi || this.tree.digest.lo !== w.digestLo)) {
      this.stats.digestMismatches++
      this.logger.error(`Digest mismatch after zxid ${toHex(w.header.zxid)}: tree ${this.tree.digest.value}, expected from prep`)
    }
    const conn = w.conn
    if (conn !== null && conn.isOpen) {
      if (w.kind === WriteKind.CreateSession) this.sessionCreated(conn, w)
      else if (w.kind === WriteKind.Client) this.answerWrite(conn, w, res, now)
    }
    // Sessions created through other servers: known here too, so their clients may move to us.
    if (w.kind === WriteKind.Remote && w.txn.type === Op.createSession && this.tracker.get(w.header.clientId) === undefined) {
      this.tracker.add(w.header.clientId, (w.txn as { readonly timeOut: number }).timeOut, now)
    }
    if (w.txn.type === Op.closeSession) {
      // After the reply to a client's own closeSession, so that reply still goes out.
      this.tracker.remove(w.header.clientId)
      this.sessionClosed(w.header.clientId)
    }
  }

  private sessionCreated(conn: Connection, w: PendingWrite): void {
    if (conn.state !== "connecting") return
    this.attach(conn, conn.session!)
    this.sendConnectResponse(conn, (w.txn as { timeOut: number }).timeOut, w.header.clientId, sessionPassword(w.header.clientId))
    for (const f of conn.early.splice(0)) {
      if (!conn.isOpen) break
      this.onFrame(conn, f)
    }
  }

  private answerWrite(conn: Connection, w: PendingWrite, res: ReturnType<DataTree["processTxn"]>, now: number): void {
    conn.queueHead++
    this.replyToWrite(conn, w, res)
    conn.recordLatency(now, w.receivedMs)
    this.stats.latencyMs.record(now - w.receivedMs)
    conn.lastZxid = w.header.zxid
    if (w.txn.type !== Op.closeSession) this.drainReads(conn)
  }

  /** Runs the reads that waited behind the write just answered, up to the next write. */
  private drainReads(conn: Connection): void {
    const q = conn.queue
    while (conn.queueHead < q.length) {
      const r = q[conn.queueHead] as QueuedRead | null
      if (r === null) break
      conn.queueHead++
      if (r.request === null) conn.replyHeader(r.xid, this.tree.lastProcessedZxid, r.err)
      else executeRead(this.tree, conn, r.xid, r.request)
    }
    if (conn.queueHead === q.length) {
      q.length = 0
      conn.queueHead = 0
    }
  }

  private replyToWrite(conn: Connection, w: PendingWrite, res: ReturnType<DataTree["processTxn"]>): void {
    const zxid = w.header.zxid
    if (res.err !== 0 && w.txn.type !== Op.multi) return conn.replyHeader(w.xid, zxid, res.err)
    const out = conn.out
    const mark = conn.beginReply(w.xid, zxid, 0)
    switch (w.txn.type) {
      case Op.create:
        out.ustring(res.path)
        break
      case Op.create2:
      case Op.createContainer:
      case Op.createTTL:
        out.ustring(res.path)
        writeNodeStat(out, res.node!)
        break
      case Op.setData:
      case Op.setACL:
        writeNodeStat(out, res.node!)
        break
      case Op.check: {
        const node = this.tree.get(res.path)
        if (node !== undefined) writeNodeStat(out, node)
        break
      }
      case Op.multi:
        writeMultiResponse(out, multiResults(res))
        break
      default:
        break
    }
    conn.endFrame(mark)
  }

  private sessionClosed(id: bigint): void {
    const owner = this.owners.get(id)
    if (owner !== undefined) {
      this.owners.delete(id)
      this.close(owner)
    }
  }

  // -------------------------------------------------------------------------------------------
  // Timers (driven by the shell)

  /** Expires sessions whose deadline passed: each gets a closeSession txn with cxid 0. */
  expireSessions(): number {
    const now = this.clock.nowMs()
    // A connection that never completed its handshake is dropped (zookeeper.nio.sessionlessCnxnTimeout).
    for (const c of this.connections) {
      if (c.state === "new" && now - c.establishedMs > this.config.sessionlessCnxnTimeoutMs) this.close(c, "no ConnectRequest within the sessionless connection timeout")
    }
    // Only the server that prepares txns expires sessions; learners report their clients' touches.
    if (this.stage.role === "learner") return 0
    const expired = this.tracker.expire(now)
    for (const s of expired) {
      this.logger.info(`Expiring session 0x${s.id.toString(16)}, timeout of ${s.timeout}ms exceeded`)
      const zxid = this.nextZxid()
      if (zxid === null) break
      this.enqueue(this.prep.closeSession(s.id, 0, zxid, now), WriteKind.Expire, null, 0, now)
    }
    return expired.length
  }

  /** Deletes empty containers that once had children and expired TTL nodes (ContainerManager). */
  reapContainers(): number {
    const now = this.clock.nowMs()
    const candidates: Array<string> = []
    for (const path of this.tree.containers) {
      const node = this.tree.get(path)
      if (node === undefined || node.children !== null) continue
      if (node.cversion > 0 || (this.config.containerMaxNeverUsedMs > 0 && now - node.mtime > this.config.containerMaxNeverUsedMs)) candidates.push(path)
    }
    for (const path of this.tree.ttls) {
      const node = this.tree.get(path)
      if (node === undefined || node.children !== null) continue
      if (kindOfOwner(node.owner, this.config.extendedTypes) === "ttl" && now - node.mtime > ttlOfOwner(node.owner)) candidates.push(path)
    }
    if (this.stage.role === "learner") return 0
    const limit = Math.min(candidates.length, this.config.containerMaxPerMinute)
    for (let i = 0; i < limit; i++) {
      const zxid = this.nextZxid()
      if (zxid === null) break
      this.enqueue(this.prep.deleteContainer(candidates[i]!, zxid, now), WriteKind.Reap, null, 0, now)
    }
    return limit
  }

  /** Stops accepting work; existing connections are closed by the shell after the last commit. */
  closeAll(reason: string): void {
    for (const c of [...this.connections]) this.close(c, reason)
  }
}

const intBytes = (n: number): Uint8Array => new JuteWriter(4).int(n).copy()

/** A failed write: it still takes a zxid and is logged (client.md §5). */
const errorTxn = (sessionId: bigint, cxid: number, zxid: number, time: number, err: number): Prepared => ({
  header: { clientId: sessionId, cxid, zxid, time, type: Op.error },
  txn: { type: Op.error, err }
})

/** Multi results from the applied sub-txns (client.md §7.2). */
const multiResults = (res: ReturnType<DataTree["processTxn"]>): Array<MultiResult> => {
  const subs = res.multi ?? []
  const failed = subs.some((r) => r.type === Op.error)
  return subs.map((r): MultiResult => {
    if (failed) return { type: Op.error, err: r.err }
    switch (r.type) {
      case Op.create:
        return { type: Op.create, path: r.path }
      case Op.create2:
      case Op.createContainer:
      case Op.createTTL:
        return { type: Op.create2, path: r.path, stat: r.stat! }
      case Op.setData:
        return { type: Op.setData, stat: r.stat! }
      case Op.delete:
        return { type: Op.delete }
      default:
        return { type: Op.check }
    }
  })
}
