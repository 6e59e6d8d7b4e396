/**
 * The client's protocol engine: one session over a sequence of TCP connections ("links").
 *
 * Hot state (pending requests, watch tables, the frame buffer) lives in plain fields of one
 * `Connection` object and is only touched from node's event loop callbacks and from
 * synchronous sections of Effects, so no locking is needed. Frames are decoded synchronously in
 * the socket's `data` callback; a request's Effect is resumed straight from there.
 * The request side is `Requests` (requests.ts); this module adds the links (open, handshake,
 * prime, ping, drop) and the read loop. The driver fiber (`runDriver`, driver.ts) owns the link
 * lifecycle.
 */
import { type Clock, Deferred, Exit } from "effect"
import { type ConnectResponse, readConnectResponse, readWatcherEvent } from "../../wire/ClientRecords.js"
import { Op, WatcherType, Xid } from "../../wire/Codes.js"
import { JuteReader, JuteWriter } from "../../wire/Jute.js"
import type { Socket } from "../../net/Transport.js"
import { type Server, toClientPath, toServerPath } from "../ConnectString.js"
import { ConnectionLoss, KeeperError, SessionExpired } from "../ZooKeeperError.js"
import { connectFrame, Link, pingFrame, setWatchesRequests } from "./link.js"
import { type Config, Requests } from "./requests.js"
import { lists, ServerList } from "./serverList.js"

export type { EventTypeName, Subscriber, WatchedEvent, WatchError } from "./watches.js"
export type { Config, Pending, Reply } from "./requests.js"
export type { Link } from "./link.js"

/** Observable session state (KeeperState as the Java client reports it to watchers). */
export type SessionState = "Connected" | "ConnectedReadOnly" | "Disconnected" | "Expired" | "AuthFailed" | "Closed"

/** The session and its current link. See the module comment. */
export class Connection extends Requests {
  sessionId: bigint
  passwd: Uint8Array
  negotiatedTimeoutMs = 0
  lastZxid = 0
  /** close() started: the driver must not reconnect. */
  closing = false
  /** Auth packets that succeeded; replayed on every new link (auth is per connection). */
  readonly auths: Array<{ readonly scheme: string; readonly auth: Uint8Array }> = []
  /** The servers the driver connects to, in turn; replaced by `updateServerList`. */
  readonly servers: ServerList

  private readonly writer = new JuteWriter(4096)

  constructor(config: Config, clock: Clock.Clock) {
    super(config, clock)
    this.servers = new ServerList(config.servers)
    this.sessionId = config.sessionId
    this.passwd = config.passwd
  }

  toServer(path: string): string {
    return toServerPath(this.config.chroot, path)
  }

  toClient(path: string): string {
    return toClientPath(this.config.chroot, path)
  }

  /** The SessionExpired error of this session. */
  sessionExpired(reason: "Expired" | "Closed"): SessionExpired {
    return new SessionExpired({ sessionId: this.sessionId, reason })
  }

  /**
   * Timeout of one connection attempt (TCP, handshake): the user's, or else the session timeout
   * (the negotiated one once known) shared among the listed servers, at least 1 s, as the Java
   * client's connectTimeout. Read on every attempt, so `updateServerList` changes it.
   */
  get attemptTimeoutMs(): number {
    const sessionMs = this.negotiatedTimeoutMs > 0 ? this.negotiatedTimeoutMs : this.config.sessionTimeoutMs
    return this.config.attemptTimeoutMs ?? Math.max(1000, Math.floor(sessionMs / this.servers.size))
  }

  /**
   * Replaces the server list (ZooKeeper's updateServerList). If the current server is no longer
   * listed, its link is dropped and the driver moves the session to a listed one; otherwise the
   * client stays where it is (ZooKeeper may also move some clients to rebalance load; ezk does
   * not). `start` is where the next connection attempt begins in the new list.
   */
  updateServers(servers: ReadonlyArray<Server>, start: number): void {
    this.servers.replace(servers, start)
    const link = this.link
    if (link !== null && !lists(servers, link)) this.drop(link, "server removed from the server list")
  }

  // -------------------------------------------------------------------------------------------
  // Links

  /** Adopts a socket connected to `server` (at `address`) and sends the ConnectRequest. */
  open(socket: Socket, server: Server, address: string): Link {
    const now = this.clock.unsafeCurrentTimeMillis()
    const link = new Link(socket, server, address, now)
    this.link = link
    this.connected = false
    socket.setHandlers({
      data: (chunk) => this.onData(link, chunk),
      error: (e) => {
        if (!link.dead) link.reason = e.message
      },
      close: () => this.detach(link, link.reason)
    })
    socket.write(connectFrame(this.writer, {
      lastZxidSeen: this.lastZxid,
      timeOut: this.config.sessionTimeoutMs,
      sessionId: this.sessionId,
      passwd: this.passwd,
      readOnly: this.config.readOnly
    }))
    this.lastSendAt = now
    return link
  }

  /** Closes a link as if the network failed; the driver reconnects. */
  drop(link: Link, reason: string): void {
    if (link.dead) return
    link.reason = reason
    this.detach(link, reason)
    link.socket.destroy()
  }

  private detach(link: Link, reason: string): void {
    if (!link.dead) link.dead = true
    if (this.link === link) {
      this.link = null
      this.connected = false
      this.failPending(new ConnectionLoss({ reason }))
    }
    Deferred.unsafeDone(link.handshake, Exit.fail(new ConnectionLoss({ reason })))
    Deferred.unsafeDone(link.closed, Exit.succeed(reason))
  }

  /**
   * The handshake succeeded: adopt the session, then (before anything else, as the Java client
   * does in primeConnection) replay auth packets and setWatches, then flush queued requests.
   */
  established(link: Link, response: ConnectResponse): boolean {
    if (link.dead || this.link !== link) return false
    this.sessionId = response.sessionId
    this.passwd = response.passwd
    this.negotiatedTimeoutMs = response.timeOut
    this.connected = true
    link.lastRecvAt = this.clock.unsafeCurrentTimeMillis()
    for (const { auth, scheme } of this.auths) {
      this.sendUnanswered(Op.auth, { type: Op.auth, authType: 0, scheme, auth })
    }
    const rearm = setWatchesRequests({
      data: [...this.dataWatches.keys()],
      exist: [...this.existWatches.keys()],
      child: [...this.childWatches.keys()],
      persistent: [...this.persistent.keys()],
      recursive: [...this.recursive.keys()]
    }, this.lastZxid)
    for (const request of rearm) this.sendUnanswered(request.type, request)
    this.sendQueued()
    return true
  }

  /** Pings when idle, drops a link that has been silent for 2/3 of the session timeout. */
  tick(link: Link): void {
    if (link.dead || this.link !== link || !this.connected) return
    const now = this.clock.unsafeCurrentTimeMillis()
    const timeout = this.negotiatedTimeoutMs
    if (now - link.lastRecvAt >= (timeout * 2) / 3) {
      return this.drop(link, `no frame from server for ${now - link.lastRecvAt}ms`)
    }
    if (now - this.lastSendAt >= Math.min(timeout / 3, 10_000)) this.write(pingFrame)
  }

  // -------------------------------------------------------------------------------------------
  // Inbound frames (synchronous, per chunk)

  private onData(link: Link, chunk: Uint8Array): void {
    if (link.dead) return
    link.lastRecvAt = this.clock.unsafeCurrentTimeMillis()
    link.chunks.push(chunk)
    link.buffered += chunk.length
    if (link.buffered < link.want) return
    const buf = link.chunks.length === 1 ? link.chunks[0]! : Buffer.concat(link.chunks, link.buffered)
    const end = buf.length
    let off = 0
    let want = 4
    while (end - off >= 4) {
      const len = (buf[off]! << 24) | (buf[off + 1]! << 16) | (buf[off + 2]! << 8) | buf[off + 3]!
      if (len < 0 || len > this.config.maxFrameBytes) return this.drop(link, `bad frame length ${len}`)
      if (end - off - 4 < len) {
        want = 4 + len
        break
      }
      this.onFrame(link, buf, off + 4, off + 4 + len)
      if (link.dead) return
      off += 4 + len
    }
    link.chunks = off === end ? [] : [buf.subarray(off)]
    link.buffered = end - off
    link.want = want
  }

  private onFrame(link: Link, buf: Uint8Array, start: number, end: number): void {
    const r = new JuteReader(buf, start, end, this.config.maxFrameBytes)
    try {
      if (link.connectResponse === null) {
        const response = readConnectResponse(r)
        link.connectResponse = response
        Deferred.unsafeDone(link.handshake, Exit.succeed(response))
        return
      }
      const xid = r.int()
      const zxid = r.long()
      const err = r.int()
      if (xid === Xid.notification) this.onNotification(r)
      else if (xid === Xid.auth) this.onAuthReply(link, err, r)
      else if (xid !== Xid.ping) this.onReply(xid, zxid, err, r)
    } catch (e) {
      this.drop(link, `bad frame from server: ${e instanceof Error ? e.message : String(e)}`)
    }
  }

  private onReply(xid: number, zxid: number, err: number, r: JuteReader): void {
    const entry = this.shiftPending()
    if (entry === undefined || entry.xid !== xid) {
      if (entry !== undefined) this.fail(entry, new ConnectionLoss({ reason: "xid out of order" }))
      // ClientCnxn does the same: a reply we cannot match means the stream is unusable.
      throw new Error(`reply xid ${xid}, expected ${entry?.xid ?? "none"}`)
    }
    if (zxid > 0) this.lastZxid = zxid
    if (entry.resume === null && !entry.always) return
    this.runReply(entry, err, r, zxid, xid)
  }

  private onAuthReply(link: Link, err: number, r: JuteReader): void {
    const entry = this.shiftAuth()
    if (entry !== undefined) this.runReply(entry, err, r, 0, Xid.auth)
    if (err !== 0) {
      // AuthFailed is terminal for the Java client too (state AUTH_FAILED, no reconnect).
      this.terminate(new KeeperError({ code: "AuthFailed", path: "" }))
      this.drop(link, "authentication failed")
    }
  }

  private onNotification(r: JuteReader): void {
    const ev = readWatcherEvent(r)
    this.notify(ev.type, ev.path)
  }

  protected releaseServerWatch(serverPath: string): void {
    this.fireAndForget(Op.removeWatches, { type: Op.removeWatches, path: serverPath, watcherType: WatcherType.Any })
  }

  /** Ends the session locally: every request and watch fails with `error` (streams end on close). */
  terminate(error: SessionExpired | KeeperError): void {
    if (this.terminal !== null) return
    this.terminal = error
    this.failAll(error)
    this.failWatches(error)
  }
}
