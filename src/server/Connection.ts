/**
 * One client connection: frames in, replies and notifications out, in order. Owns the socket's
 * output buffer (one socket write per flush, not per reply), the connection's auth ids and the
 * queue that keeps reads behind the connection's own uncommitted writes.
 */
import { checkACL, ipIdFromRemoteAddress } from "../auth/Acl.js"
import type { DigestMd5Server } from "../auth/SaslDigestMd5.js"
import type { Watcher } from "../tree/WatchManager.js"
import type { ACL, Id, Request } from "../wire/ClientRecords.js"
import { KeeperState, Perms, Xid } from "../wire/Codes.js"
import { FrameSplitter } from "../wire/Frame.js"
import { JuteWriter } from "../wire/Jute.js"
import type { SessionEntry } from "./sessions/SessionTracker.js"
import { Summary } from "./Summary.js"

/** The socket operations a connection needs (node:net.Socket satisfies it). */
export interface ClientSocket {
  readonly remoteAddress?: string | undefined
  readonly remotePort?: number | undefined
  readonly writableLength: number
  write(data: Uint8Array): boolean
  end(): unknown
  destroy(): unknown
  pause(): unknown
  resume(): unknown
}

/** A request waiting behind an earlier write of the same connection (null entries mark the writes). */
export interface QueuedRead {
  readonly xid: number
  /** null: answer with `err` (e.g. a malformed request), in order. */
  readonly request: Request | null
  readonly err: number
}

export type ConnectionState = "new" | "connecting" | "established" | "closing" | "closed"

/** Reading paused because the client does not take its replies (until the socket drains). */
export const PAUSE_OUTPUT = 1
/** Reading paused because too many writes wait for the disk server-wide. */
export const PAUSE_THROTTLE = 2

/** Bytes of output above which the connection stops reading until the socket drains. */
const OUTPUT_HIGH_WATER = 4 * 1024 * 1024

let nextConnectionId = 1

export class Connection implements Watcher {
  readonly id = nextConnectionId++
  readonly splitter: FrameSplitter
  readonly remoteAddress: string
  readonly remotePort: number
  state: ConnectionState = "new"
  session: SessionEntry | null = null
  /** ip:<remote> first, as ZooKeeper does; digest/sasl ids are added by auth. */
  readonly ids: Array<Id>
  isSuper = false
  sasl: DigestMd5Server | null = null
  /** Whether the ConnectRequest carried the readOnly byte (then the response carries one too). */
  readOnlyByte = false
  /** In-order queue: null is one of our writes awaiting commit, else a read waiting behind it. */
  readonly queue: Array<QueuedRead | null> = []
  queueHead = 0
  /** The last commit round that answered one of this connection's writes (ServerCore.recentWriters). */
  lastCommitSeq = 0
  /** Writes received since this connection's last read. */
  writeStreak = 0
  /** Learners: xids of this connection's writes forwarded to the leader and not yet committed, in order. */
  readonly forwardedXids: Array<number> = []
  /** Frames that arrived while the session was being created. */
  readonly early: Array<Uint8Array> = []
  readonly out = new JuteWriter(4096)
  /** Why reading is paused (PAUSE_* bits); the socket reads again when none is left. */
  private pausedBy = 0

  // Statistics for cons/stat/mntr.
  readonly establishedMs: number
  /** When it opened on the monotonic clock: the sessionless timeout must not move with wall-clock steps. */
  readonly openedMonotonicMs: number
  received = 0
  sent = 0
  lastOp = "NA"
  lastCxid = -1
  lastZxid = -1
  lastResponseMs = 0
  lastLatencyMs = 0
  readonly latencyMs = new Summary()

  constructor(
    readonly socket: ClientSocket,
    maxFrame: number,
    nowMs: number,
    monotonicMs: number,
    private readonly onOutput: (c: Connection, bytes: number) => void
  ) {
    this.splitter = new FrameSplitter({ maxFrame, fourLetterWords: true })
    this.remoteAddress = normalizeAddress(socket.remoteAddress ?? "unknown")
    this.remotePort = socket.remotePort ?? 0
    this.ids = [{ scheme: "ip", id: ipIdFromRemoteAddress(this.remoteAddress) }]
    this.establishedMs = nowMs
    this.openedMonotonicMs = monotonicMs
  }

  get sessionId(): bigint {
    return this.session === null ? 0n : this.session.id
  }

  get isOpen(): boolean {
    return this.state !== "closed"
  }

  /** Requests waiting in the queue (cons "queued"). */
  get queued(): number {
    return this.queue.length - this.queueHead
  }

  // -------------------------------------------------------------------------------------------
  // Output

  /** Starts a reply frame: length placeholder + ReplyHeader; returns the mark for `endFrame`. */
  beginReply(xid: number, zxid: number, err: number): number {
    const w = this.out
    const mark = w.mark()
    w.int(xid).long(zxid).int(err)
    return mark
  }

  /** Completes a frame started with beginReply/mark and schedules a flush. */
  endFrame(mark: number): void {
    this.out.patch(mark)
    this.sent++
    this.onOutput(this, this.out.pos - mark - 4)
  }

  /** A reply with only the header (errors, and ops without a response body). */
  replyHeader(xid: number, zxid: number, err: number): void {
    this.endFrame(this.beginReply(xid, zxid, err))
  }

  /** Watch delivery: dropped unless the connection may READ the node (CVE-2024-23944 behaviour). */
  notify(type: number, path: string, acl: ReadonlyArray<ACL>): void {
    if (this.state !== "established") return
    if (!checkACL(acl, Perms.READ, this.ids, this.isSuper)) return
    const mark = this.beginReply(Xid.notification, -1, 0)
    this.out.int(type).int(KeeperState.SyncConnected).ustring(path)
    this.endFrame(mark)
  }

  /** Hands buffered output to the socket in one write. */
  flush(): void {
    const w = this.out
    if (w.pos === 0 || this.state === "closed") {
      w.reset()
      return
    }
    const ok = this.socket.write(w.copy())
    w.reset()
    if (!ok && this.socket.writableLength > OUTPUT_HIGH_WATER) this.pause(PAUSE_OUTPUT)
  }

  pause(reason: number): void {
    if (this.pausedBy === 0 && this.state !== "closed") this.socket.pause()
    this.pausedBy |= reason
  }

  resume(reason: number): void {
    if (this.pausedBy === 0) return
    this.pausedBy &= ~reason
    if (this.pausedBy === 0 && this.state !== "closed") this.socket.resume()
  }

  /** Records per-request latency for cons/mntr. */
  recordLatency(nowMs: number, receivedMs: number): void {
    const l = nowMs - receivedMs
    this.lastLatencyMs = l
    this.lastResponseMs = nowMs
    this.latencyMs.record(l)
  }

  resetStats(): void {
    this.received = 0
    this.sent = 0
    this.lastLatencyMs = 0
    this.latencyMs.reset()
    this.lastOp = "NA"
    this.lastCxid = -1
    this.lastZxid = -1
    this.lastResponseMs = 0
  }
}

/** "::ffff:127.0.0.1" → "127.0.0.1", as Java reports IPv4-mapped peers. */
const normalizeAddress = (a: string): string => (a.startsWith("::ffff:") ? a.slice(7) : a)
