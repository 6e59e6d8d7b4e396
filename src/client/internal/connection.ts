/**
 * The client's protocol engine: one session over a sequence of TCP connections ("links").
 *
 * Hot state (pending requests, watch tables, the frame buffer) lives in plain fields of one
 * `Connection` object and is only touched from node's event loop callbacks and from
 * synchronous sections of Effects, so no locking is needed. Frames are decoded synchronously in
 * the socket's `data` callback; a request's Effect is resumed straight from there.
 * The driver fiber (`runDriver`, driver.ts) owns the link lifecycle.
 */
import { type Clock, Deferred, Effect, Exit, FiberId } from "effect"
import {
  type ConnectResponse,
  readConnectResponse,
  readWatcherEvent,
  type Request,
  type SetWatchesRequest,
  writeConnectRequest,
  writeRequest
} from "../../wire/ClientRecords.js"
import { Op, WatcherType, Xid } from "../../wire/Codes.js"
import { JuteReader, JuteWriter } from "../../wire/Jute.js"
import type { Socket } from "../../net/Transport.js"
import { type Server, toClientPath, toServerPath } from "../ConnectString.js"
import { ConnectionLoss, KeeperError, SessionExpired, type ZkError } from "../ZooKeeperError.js"
import { WatchTables } from "./watches.js"

export type { EventTypeName, Subscriber, WatchedEvent, WatchError } from "./watches.js"

/** Observable session state (KeeperState as the Java client reports it to watchers). */
export type SessionState = "Connected" | "ConnectedReadOnly" | "Disconnected" | "Expired" | "AuthFailed" | "Closed"

/** Turns a reply (ReplyHeader.err and the body reader) into the request's result. Runs synchronously. */
export type Reply<A, E> = (err: number, r: JuteReader, zxid: number, xid: number) => Exit.Exit<A, E>

interface Entry {
  xid: number
  readonly type: number
  readonly body: Request | Uint8Array | null
  readonly reply: Reply<unknown, unknown>
  /** null once the caller is gone (interrupted) or has been answered. */
  resume: ((exit: Exit.Exit<unknown, unknown>) => void) | null
  /** Run `reply` even if the caller is gone (auth packets must be recorded either way). */
  readonly always: boolean
  /** Holds one of the `maxPendingRequests` slots (released when answered or abandoned). */
  slot: boolean
}

/** A request started with `Connection.start`; pass it to `Connection.cancel` to abandon it. */
export type Pending = Entry

/** Everything the engine needs to know, already defaulted. */
export interface Config {
  readonly servers: ReadonlyArray<Server>
  readonly chroot: string
  readonly sessionTimeoutMs: number
  readonly readOnly: boolean
  readonly attemptTimeoutMs: number
  readonly reconnectDelayMs: number
  readonly maxPendingRequests: number
  readonly maxFrameBytes: number
  readonly watchBufferSize: number
  readonly sessionId: bigint
  readonly passwd: Uint8Array
}

/** One TCP connection to one server; replaced on every reconnect. */
class Link {
  connectResponse: ConnectResponse | null = null
  dead = false
  reason = "connection closed by server"
  chunks: Array<Uint8Array> = []
  buffered = 0
  /** Bytes needed before it is worth parsing again (a length prefix, or a whole frame). */
  want = 4
  lastRecvAt: number
  constructor(
    readonly socket: Socket,
    readonly server: Server,
    readonly handshake: Deferred.Deferred<ConnectResponse, ConnectionLoss>,
    readonly closed: Deferred.Deferred<string>,
    now: number
  ) {
    this.lastRecvAt = now
  }
}

/** Above this many bytes the shared out buffer is dropped after a flush rather than kept. */
const outBufferKeepBytes = 1 << 20

/** Above this many bytes of paths, setWatches is split into several packets (Java client: 128 KiB). */
const setWatchesBytesMax = 128 * 1024

const pingFrame = new Uint8Array([0, 0, 0, 8, 0xff, 0xff, 0xff, 0xfe, 0, 0, 0, Op.ping])

/** The session and its current link. See the module comment. */
export class Connection extends WatchTables {
  sessionId: bigint
  passwd: Uint8Array
  negotiatedTimeoutMs = 0
  lastZxid = 0
  link: Link | null = null
  /** Handshake done and primed: requests go straight to the socket. */
  connected = false
  /** close() started: the driver must not reconnect. */
  closing = false
  /** Set once the session is over; every request fails with it. */
  terminal: SessionExpired | KeeperError | null = null
  lastSendAt = 0

  private xid = 0
  private pending: Array<Entry | undefined> = []
  private head = 0
  private authPending: Array<Entry> = []
  private queued: Array<Entry> = []
  /** Auth packets that succeeded; replayed on every new link (auth is per connection). */
  readonly auths: Array<{ readonly scheme: string; readonly auth: Uint8Array }> = []


  /** Requests holding a slot, and those waiting for one (beyond `maxPendingRequests`). */
  private inFlight = 0
  private waiting: Array<Entry> = []
  private admitting = false

  private readonly writer = new JuteWriter(4096)
  /**
   * Frames encoded during the current synchronous stretch for `outLink`, sent as one socket
   * write when it ends (see `write`).
   */
  private out = new JuteWriter(64 * 1024)
  private outLink: Link | null = null

  constructor(readonly config: Config, private readonly clock: Clock.Clock) {
    super()
    this.sessionId = config.sessionId
    this.passwd = config.passwd
  }

  protected get watchBufferSize(): number {
    return this.config.watchBufferSize
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

  // -------------------------------------------------------------------------------------------
  // Requests

  /**
   * Sends a request and waits for its reply. At most `maxPendingRequests` are in flight; while
   * the client is reconnecting the request waits in `queued` and goes out after the handshake.
   */
  submit<A, E>(type: number, body: Request | Uint8Array | null, reply: Reply<A, E>, always = false): Effect.Effect<A, E | ZkError> {
    return Effect.async<A, E | ZkError>((resume) => {
      const entry = this.start(type, body, reply, resume as Entry["resume"] & {}, always)
      return Effect.sync(() => this.cancel(entry))
    })
  }

  /**
   * `submit` without an Effect: `resume` is called once with the outcome, from the read loop (or
   * synchronously if the session is over). The Promise facade uses this to skip a fiber per call.
   */
  start<A, E>(
    type: number,
    body: Request | Uint8Array | null,
    reply: Reply<A, E>,
    resume: (exit: Exit.Exit<A, E | ZkError>) => void,
    always = false
  ): Pending {
    const entry: Entry = {
      xid: 0,
      type,
      body,
      reply: reply as Reply<unknown, unknown>,
      resume: resume as Entry["resume"],
      always,
      slot: false
    }
    if (this.inFlight < this.config.maxPendingRequests && this.waiting.length === 0) {
      this.inFlight++
      entry.slot = true
      this.enqueue(entry)
    } else this.waiting.push(entry)
    return entry
  }

  /** The caller is gone: its reply (if any) is dropped, and a queued request is not sent. */
  cancel(entry: Pending): void {
    entry.resume = null
    this.release(entry)
  }

  private release(entry: Entry): void {
    if (!entry.slot) return
    entry.slot = false
    this.inFlight--
    if (this.admitting) return
    this.admitting = true
    try {
      while (this.inFlight < this.config.maxPendingRequests && this.waiting.length > 0) {
        const next = this.waiting.shift()!
        if (next.resume === null) continue
        this.inFlight++
        next.slot = true
        this.enqueue(next)
      }
    } finally {
      this.admitting = false
    }
  }

  /** Sends a request whose reply nobody waits for (cleanup on the way out). Dropped when offline. */
  fireAndForget(type: number, body: Request): void {
    if (this.connected && this.terminal === null) {
      this.send({ xid: 0, type, body, reply: () => Exit.void, resume: null, always: false, slot: false })
    }
  }

  private enqueue(entry: Entry): void {
    if (this.terminal !== null) return this.finish(entry, Exit.fail(this.terminal))
    if (this.connected) this.send(entry)
    else this.queued.push(entry)
  }

  private finish(entry: Entry, exit: Exit.Exit<unknown, unknown>): void {
    const resume = entry.resume
    entry.resume = null
    this.release(entry)
    if (resume !== null) resume(exit)
  }

  private send(entry: Entry): void {
    if (entry.type === Op.auth) {
      entry.xid = Xid.auth
      this.authPending.push(entry)
    } else {
      // The Java client wraps from Integer.MAX_VALUE back to 1.
      this.xid = this.xid >= 0x7fffffff ? 1 : this.xid + 1
      entry.xid = this.xid
      this.pending.push(entry)
    }
    const link = this.link
    if (link === null || link.dead) return
    const w = this.outFor(link)
    const mark = w.mark()
    w.int(entry.xid).int(entry.type)
    if (entry.body instanceof Uint8Array) w.raw(entry.body)
    else if (entry.body !== null) writeRequest(w, entry.body)
    w.patch(mark)
  }

  /**
   * The shared out buffer, bound to `link`. Frames encoded in one synchronous stretch (a burst
   * of pipelined requests) go out as one socket write at the end of it: one copy and one syscall
   * for the burst instead of one per request.
   */
  private outFor(link: Link): JuteWriter {
    if (this.outLink !== link) {
      this.out.reset()
      this.outLink = link
      queueMicrotask(() => this.flush(link))
    }
    this.lastSendAt = this.clock.unsafeCurrentTimeMillis()
    return this.out
  }

  private flush(link: Link): void {
    if (this.outLink !== link) return
    this.outLink = null
    const out = this.out
    if (!link.dead && out.pos > 0) link.socket.write(out.copy())
    if (out.bytes.length > outBufferKeepBytes) this.out = new JuteWriter(64 * 1024)
    else out.reset()
  }

  private write(frame: Uint8Array): void {
    const link = this.link
    if (link === null || link.dead) return
    this.outFor(link).raw(frame)
  }

  private shiftPending(): Entry | undefined {
    if (this.head >= this.pending.length) return undefined
    const entry = this.pending[this.head]
    this.pending[this.head++] = undefined
    if (this.head === this.pending.length) {
      this.pending = []
      this.head = 0
    } else if (this.head > 1024 && this.head * 2 > this.pending.length) {
      this.pending = this.pending.slice(this.head)
      this.head = 0
    }
    return entry
  }

  /** Fails the requests already sent on the current link (their replies will never come). */
  private failPending(error: ZkError): void {
    const sent = this.pending
    const head = this.head
    this.pending = []
    this.head = 0
    for (let i = head; i < sent.length; i++) {
      const entry = sent[i]
      if (entry !== undefined) this.finish(entry, Exit.fail(error))
    }
    const auths = this.authPending
    this.authPending = []
    for (const entry of auths) this.finish(entry, Exit.fail(error))
  }

  /** Fails the requests that wait for a link (ClientCnxn: cleanup after a failed attempt). */
  failQueued(error: ZkError): void {
    const queued = this.queued
    this.queued = []
    for (const entry of queued) this.finish(entry, Exit.fail(error))
  }

  // -------------------------------------------------------------------------------------------
  // Links

  /** Adopts a socket connected to `server` and sends the ConnectRequest. */
  open(socket: Socket, server: Server): Link {
    const now = this.clock.unsafeCurrentTimeMillis()
    const link = new Link(socket, server, Deferred.unsafeMake(FiberId.none), Deferred.unsafeMake(FiberId.none), now)
    this.link = link
    this.connected = false
    socket.setHandlers({
      data: (chunk) => this.onData(link, chunk),
      error: (e) => {
        if (!link.dead) link.reason = e.message
      },
      close: () => this.detach(link, link.reason)
    })
    const w = this.writer.reset()
    const mark = w.mark()
    writeConnectRequest(w, {
      protocolVersion: 0,
      lastZxidSeen: this.lastZxid,
      timeOut: this.config.sessionTimeoutMs,
      sessionId: this.sessionId,
      passwd: this.passwd,
      readOnly: this.config.readOnly
    })
    w.patch(mark)
    socket.write(w.copy())
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
      this.send({
        xid: 0,
        type: Op.auth,
        body: { type: Op.auth, authType: 0, scheme, auth },
        reply: () => Exit.void,
        resume: null,
        always: false,
        slot: false
      })
    }
    this.sendSetWatches()
    const queued = this.queued
    this.queued = []
    for (const entry of queued) {
      if (entry.resume !== null || entry.always) this.send(entry)
    }
    return true
  }

  private sendSetWatches(): void {
    const lists = [
      [...this.dataWatches.keys()],
      [...this.existWatches.keys()],
      [...this.childWatches.keys()],
      [...this.persistent.keys()],
      [...this.recursive.keys()]
    ] as const
    if (lists.every((l) => l.length === 0)) return
    const type = lists[3].length > 0 || lists[4].length > 0 ? Op.setWatches2 : Op.setWatches
    let batch: Array<Array<string>> = [[], [], [], [], []]
    let bytes = 0
    const flush = () => {
      const body: SetWatchesRequest = {
        type,
        relativeZxid: this.lastZxid,
        dataWatches: batch[0]!,
        existWatches: batch[1]!,
        childWatches: batch[2]!,
        persistentWatches: batch[3]!,
        persistentRecursiveWatches: batch[4]!
      }
      this.send({ xid: 0, type, body, reply: () => Exit.void, resume: null, always: false, slot: false })
      batch = [[], [], [], [], []]
      bytes = 0
    }
    lists.forEach((list, i) => {
      for (const path of list) {
        if (bytes + path.length > setWatchesBytesMax && bytes > 0) flush()
        batch[i]!.push(path)
        bytes += path.length
      }
    })
    if (bytes > 0) flush()
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
      if (entry !== undefined) this.finish(entry, Exit.fail(new ConnectionLoss({ reason: "xid out of order" })))
      // ClientCnxn does the same: a reply we cannot match means the stream is unusable.
      throw new Error(`reply xid ${xid}, expected ${entry?.xid ?? "none"}`)
    }
    if (zxid > 0) this.lastZxid = zxid
    if (entry.resume === null && !entry.always) return
    this.runReply(entry, err, r, zxid, xid)
  }

  private runReply(entry: Entry, err: number, r: JuteReader, zxid: number, xid: number): void {
    let exit: Exit.Exit<unknown, unknown>
    try {
      exit = entry.reply(err, r, zxid, xid)
    } catch (e) {
      this.finish(entry, Exit.fail(new ConnectionLoss({ reason: "undecodable reply" })))
      throw e
    }
    this.finish(entry, exit)
  }

  private onAuthReply(link: Link, err: number, r: JuteReader): void {
    const entry = this.authPending.shift()
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
    this.failPending(error)
    this.failQueued(error)
    const waiting = this.waiting
    this.waiting = []
    for (const entry of waiting) this.finish(entry, Exit.fail(error))
    this.failWatches(error)
  }
}
