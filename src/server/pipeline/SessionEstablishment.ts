/**
 * Session establishment (client.md §3.3): a fresh connection's ConnectRequest either creates a
 * session (a createSession txn; the ConnectResponse waits until it commits) or reattaches an
 * existing one after checking its password (the session moves here from any other connection).
 */
import type { DataTree } from "../../tree/DataTree.js"
import { Op } from "../../wire/Codes.js"
import { JuteReader, JuteWriter } from "../../wire/Jute.js"
import { WireError } from "../../wire/WireError.js"
import { type PendingWrite, WriteKind } from "../commit/CommitStage.js"
import type { Connection } from "../Connection.js"
import type { CoreClock, CoreConfig } from "../CoreConfig.js"
import { initialSessionId, nextSessionId, passwordMatches, sessionPassword } from "../sessions/SessionId.js"
import type { SessionEntry, SessionTracker } from "../sessions/SessionTracker.js"
import type { ClientConnections } from "./ClientConnections.js"
import type { Prep } from "./Prep.js"
import type { WritePath } from "./WritePath.js"

const ZERO_PASSWD = new Uint8Array(16)

/** What establishing a session needs from the rest of the core. */
export interface SessionEstablishmentContext {
  readonly config: CoreConfig
  readonly tree: DataTree
  readonly clock: CoreClock
  readonly tracker: SessionTracker
  readonly prep: Prep
  readonly clients: ClientConnections
  readonly writes: WritePath
  /** False once shutting down. */
  readonly serving: () => boolean
  /** Handles a frame that arrived while the session was being created, now that it exists. */
  readonly replay: (conn: Connection, frame: Uint8Array) => void
}

export class SessionEstablishment {
  /** The id the next new session gets (serverId and start time in its high bits, as ZooKeeper's). */
  private sessionIdSeq: bigint

  constructor(private readonly ctx: SessionEstablishmentContext) {
    this.sessionIdSeq = initialSessionId(ctx.config.serverId, ctx.clock.monotonicMs())
  }

  /** A fresh connection's first frame, the ConnectRequest. */
  onConnect(conn: Connection, frame: Uint8Array): void {
    const { config, tree, clock, tracker, clients, writes } = this.ctx
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
      if (e instanceof WireError) return clients.close(conn, `malformed ConnectRequest: ${e.message}`)
      throw e
    }
    if (!this.ctx.serving()) return clients.close(conn, "server is shutting down")
    const lastZxid = tree.lastProcessedZxid
    if (lastZxidSeen > BigInt(lastZxid)) {
      return clients.close(conn, `client has seen zxid 0x${lastZxidSeen.toString(16)}, our last zxid is 0x${lastZxid.toString(16)}: client must try another server`)
    }
    conn.readOnlyByte = readOnly !== null
    const timeout = Math.min(Math.max(timeOut, config.minSessionTimeout), config.maxSessionTimeout)
    const now = clock.nowMs()
    if (sessionId === 0n) {
      const id = this.sessionIdSeq
      this.sessionIdSeq = nextSessionId(id)
      conn.session = tracker.add(id, timeout)
      conn.state = "connecting"
      clients.own(id, conn)
      if (writes.role === "learner") {
        writes.forward({ sessionId: id, cxid: 0, type: Op.createSession, body: intBytes(timeout), authInfo: null })
        return
      }
      const zxid = writes.nextZxid()
      if (zxid === null) return clients.close(conn, "the leader is changing epochs")
      writes.enqueue(this.ctx.prep.createSession(id, timeout, zxid, now), WriteKind.CreateSession, conn, 0, now)
      return
    }
    const s = tracker.get(sessionId)
    if (s === undefined || s.closing || !passwordMatches(sessionId, passwd)) {
      sendConnectResponse(conn, 0, 0n, ZERO_PASSWD)
      return clients.close(conn, `invalid session 0x${sessionId.toString(16)} (expired, unknown or wrong password)`)
    }
    const previous = clients.ownerOf(sessionId)
    if (previous !== undefined && previous !== conn) clients.close(previous, "session moved to a new connection")
    s.timeout = timeout
    tracker.touch(s)
    this.attach(conn, s)
    sendConnectResponse(conn, timeout, sessionId, sessionPassword(sessionId))
  }

  /** A new session's createSession committed: its ConnectResponse, then the frames that arrived meanwhile. */
  sessionCreated(conn: Connection, w: PendingWrite): void {
    if (conn.state !== "connecting") return
    this.attach(conn, conn.session!)
    sendConnectResponse(conn, (w.txn as { timeOut: number }).timeOut, w.header.clientId, sessionPassword(w.header.clientId))
    for (const f of conn.early.splice(0)) {
      if (!conn.isOpen) break
      this.ctx.replay(conn, f)
    }
  }

  private attach(conn: Connection, s: SessionEntry): void {
    conn.session = s
    conn.state = "established"
    this.ctx.clients.own(s.id, conn)
  }
}

/** ConnectResponse (protocolVersion 0); the readOnly byte only if the client sent one. */
const sendConnectResponse = (conn: Connection, timeout: number, sessionId: bigint, passwd: Uint8Array): void => {
  const w = conn.out
  const mark = w.mark()
  w.int(0).int(timeout).bigLong(sessionId).buffer(passwd)
  if (conn.readOnlyByte) w.bool(false)
  conn.endFrame(mark)
}

const intBytes = (n: number): Uint8Array => new JuteWriter(4).int(n).copy()
