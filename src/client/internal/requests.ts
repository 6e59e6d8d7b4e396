/**
 * The request side of a session: xids, the queue of requests waiting for a link, the ones sent and
 * waiting for a reply (answered in order), admission under `maxPendingRequests`, and the out buffer
 * that sends a burst of pipelined requests as one socket write. `Connection` (connection.ts) adds
 * the links and the read loop on top; both live on one object so the hot paths stay plain calls.
 */
import { type Clock, Effect, Exit } from "effect"
import { type Request, writeRequest } from "../../wire/ClientRecords.js"
import { Op, Xid } from "../../wire/Codes.js"
import { type JuteReader, JuteWriter } from "../../wire/Jute.js"
import type { Server } from "../ConnectString.js"
import { ConnectionLoss, type KeeperError, type SessionExpired, type ZkError } from "../ZooKeeperError.js"
import type { Link } from "./link.js"
import { WatchTables } from "./watches.js"

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
  /** Timeout of one connection attempt as the user set it; undefined: derived (`Connection.attemptTimeoutMs`). */
  readonly attemptTimeoutMs: number | undefined
  readonly reconnectDelayMs: number
  readonly maxPendingRequests: number
  readonly maxFrameBytes: number
  readonly watchBufferSize: number
  readonly sessionId: bigint
  readonly passwd: Uint8Array
}

/** Above this many bytes the shared out buffer is dropped after a flush rather than kept. */
const outBufferKeepBytes = 1 << 20

const ignoreReply = (): Exit.Exit<void> => Exit.void

/** See the module comment. */
export abstract class Requests extends WatchTables {
  link: Link | null = null
  /** Handshake done and primed: requests go straight to the socket. */
  connected = false
  /** Set once the session is over; every request fails with it. */
  terminal: SessionExpired | KeeperError | null = null
  lastSendAt = 0

  private xid = 0
  private pending: Array<Entry | undefined> = []
  private head = 0
  private authPending: Array<Entry> = []
  private queued: Array<Entry> = []

  /** Requests holding a slot, and those waiting for one (beyond `maxPendingRequests`). */
  private inFlight = 0
  private waiting: Array<Entry> = []
  private admitting = false

  /**
   * Frames encoded during the current synchronous stretch for `outLink`, sent as one socket
   * write when it ends (see `outFor`).
   */
  private out = new JuteWriter(64 * 1024)
  private outLink: Link | null = null

  constructor(readonly config: Config, protected readonly clock: Clock.Clock) {
    super()
  }

  protected get watchBufferSize(): number {
    return this.config.watchBufferSize
  }

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
    if (this.connected && this.terminal === null) this.sendUnanswered(type, body)
  }

  /** Sends a request on the current link whose reply is ignored (priming packets, cleanup). */
  protected sendUnanswered(type: number, body: Request): void {
    this.send({ xid: 0, type, body, reply: ignoreReply, resume: null, always: false, slot: false })
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

  /** Sends the requests that waited for a link (after the handshake and priming). */
  protected sendQueued(): void {
    const queued = this.queued
    this.queued = []
    for (const entry of queued) {
      if (entry.resume !== null || entry.always) this.send(entry)
    }
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

  /** Queues a ready-made frame on the current link. */
  protected write(frame: Uint8Array): void {
    const link = this.link
    if (link === null || link.dead) return
    this.outFor(link).raw(frame)
  }

  /** The oldest request sent on the current link (replies arrive in order). */
  protected shiftPending(): Entry | undefined {
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

  /** The oldest auth packet sent on the current link (its reply has xid -4). */
  protected shiftAuth(): Entry | undefined {
    return this.authPending.shift()
  }

  /** Runs `entry.reply` and answers the caller; a throwing decoder fails it and rethrows (the link drops). */
  protected runReply(entry: Entry, err: number, r: JuteReader, zxid: number, xid: number): void {
    let exit: Exit.Exit<unknown, unknown>
    try {
      exit = entry.reply(err, r, zxid, xid)
    } catch (e) {
      this.finish(entry, Exit.fail(new ConnectionLoss({ reason: "undecodable reply" })))
      throw e
    }
    this.finish(entry, exit)
  }

  /** Fails one request (a reply that cannot be matched to it). */
  protected fail(entry: Entry, error: ZkError): void {
    this.finish(entry, Exit.fail(error))
  }

  /** Fails the requests already sent on the current link (their replies will never come). */
  protected failPending(error: ZkError): void {
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

  /** Fails every request, sent, queued or waiting for a slot (the session is over). */
  protected failAll(error: ZkError): void {
    this.failPending(error)
    this.failQueued(error)
    const waiting = this.waiting
    this.waiting = []
    for (const entry of waiting) this.finish(entry, Exit.fail(error))
  }
}
