/**
 * The learner port (quorum.md §3): jute `QuorumPacket` records written back to back with no length
 * prefix, the packet type codes, and the layout of each packet's `data`. All plain functions over
 * JuteReader/JuteWriter that throw WireError; `QuorumPacketReader` splits a TCP byte stream.
 */
import { type Id, readId, writeId } from "./ClientRecords.js"
import { decodeWith, encodeWith, encodeUtf8, JuteReader, JuteWriter } from "./Jute.js"
import { readTxnEntry, type TxnEntry, writeTxnEntry } from "./TxnRecords.js"
import { WireError } from "./WireError.js"

/** Packet types (Leader.java constants), named as in ZooKeeper. */
export const PacketType = {
  REQUEST: 1,
  PROPOSAL: 2,
  ACK: 3,
  COMMIT: 4,
  PING: 5,
  REVALIDATE: 6,
  SYNC: 7,
  INFORM: 8,
  COMMITANDACTIVATE: 9,
  NEWLEADER: 10,
  FOLLOWERINFO: 11,
  UPTODATE: 12,
  DIFF: 13,
  TRUNC: 14,
  SNAP: 15,
  OBSERVERINFO: 16,
  LEADERINFO: 17,
  ACKEPOCH: 18,
  INFORMANDACTIVATE: 19
} as const

/** A packet type's ZooKeeper name. */
export type PacketTypeName = keyof typeof PacketType

const typeNames = new Map<number, PacketTypeName>(Object.entries(PacketType).map(([k, v]) => [v, k as PacketTypeName]))

/** The ZooKeeper name of a packet type ("UNKNOWN<n>" otherwise), for logs and tests. */
export const packetTypeName = (type: number): string => typeNames.get(type) ?? `UNKNOWN${type}`

/** ZAB protocol version 1.0 (`0x10000`), sent in LearnerInfo and LEADERINFO. */
export const PROTOCOL_VERSION = 0x10000

/**
 * Largest packet the reader accepts: a data buffer of jute.maxbuffer + extrasize (0x1ffffe, as
 * JuteReader's default field limit) plus the header and some authinfo.
 */
export const DEFAULT_MAX_PACKET = 0x200000

/** One QuorumPacket `{int type; long zxid; buffer data; vector<Id> authinfo}`. */
export interface QuorumPacket {
  readonly type: number
  /** A zxid, or -1 (REQUEST, UPTODATE). */
  readonly zxid: number
  readonly data: Uint8Array | null
  /** Only REQUEST carries ids (the client connection's auth); null otherwise. */
  readonly authinfo: ReadonlyArray<Id> | null
}

/** Reads one QuorumPacket record (Leader/Learner `readRecord(.., "packet")`). */
export const readQuorumPacket = (r: JuteReader): QuorumPacket => ({
  type: r.int(),
  zxid: r.long(),
  data: r.buffer(),
  authinfo: r.vector(readId)
})

/** Writes one QuorumPacket record, unframed, as ZooKeeper does. */
export const writeQuorumPacket = (w: JuteWriter, p: QuorumPacket): void => {
  w.int(p.type).long(p.zxid).buffer(p.data)
  w.vector(p.authinfo, writeId)
}

/** Decodes exactly one packet (the bytes `QuorumPacketReader` hands out). */
export const decodeQuorumPacket = (bytes: Uint8Array): QuorumPacket => decodeWith(readQuorumPacket, bytes)

/** Encodes one packet with a fresh writer (the hot path writes into a reused one instead). */
export const encodeQuorumPacket = (p: QuorumPacket): Uint8Array => encodeWith(writeQuorumPacket, p)

// ---------------------------------------------------------------------------------------------
// Packet data layouts (quorum.md §3.2). `data` is read with DataInputStream in ZooKeeper, so
// these are raw big-endian fields, not jute records with their own lengths.

/** Reads a packet's data with `read`, which must consume all of it; null data is an empty record. */
const readData = <A>(data: Uint8Array | null, read: (r: JuteReader) => A): A => decodeWith(read, data ?? new Uint8Array(0))

/**
 * LearnerInfo (FOLLOWERINFO/OBSERVERINFO data). The leader reads only what is present: 8 bytes
 * (sid), 12 (+ protocolVersion) or 20 (+ configVersion); absent fields are null.
 */
export interface LearnerInfo {
  readonly sid: number
  readonly protocolVersion: number | null
  readonly configVersion: number | null
}

/** Reads LearnerInfo in any of its three lengths; other lengths are a WireError. */
export const readLearnerInfo = (data: Uint8Array | null): LearnerInfo =>
  readData(data, (r) => {
    const sid = r.long()
    const protocolVersion = r.remaining >= 4 ? r.int() : null
    const configVersion = protocolVersion !== null && r.remaining >= 8 ? r.long() : null
    return { sid, protocolVersion, configVersion }
  })

/** Writes LearnerInfo with the fields present (20 bytes for a ZAB 1.0 learner). */
export const writeLearnerInfo = (info: LearnerInfo): Uint8Array => {
  if (info.protocolVersion === null && info.configVersion !== null) throw new Error("LearnerInfo: configVersion without protocolVersion")
  const w = new JuteWriter(20).long(info.sid)
  if (info.protocolVersion !== null) w.int(info.protocolVersion)
  if (info.configVersion !== null) w.long(info.configVersion)
  return w.copy()
}

/** A 4-byte int as the whole data (LEADERINFO protocolVersion, ACKEPOCH currentEpoch or -1). */
export const readIntData = (data: Uint8Array | null): number => readData(data, (r) => r.int())
/** The 4-byte data of LEADERINFO / ACKEPOCH. */
export const writeIntData = (v: number): Uint8Array => new JuteWriter(4).int(v).copy()

/** An 8-byte long as the whole data (COMMITANDACTIVATE's designated leader sid). */
export const readLongData = (data: Uint8Array | null): number => readData(data, (r) => r.long())
/** The 8-byte data of COMMITANDACTIVATE. */
export const writeLongData = (v: number): Uint8Array => new JuteWriter(8).long(v).copy()

/** PROPOSAL/INFORM data: exactly a txn-log entry payload (TxnHeader + txn + optional TxnDigest). */
export const readProposal = (data: Uint8Array | null): TxnEntry => {
  if (data === null) throw new WireError({ reason: "BadRecord", detail: "proposal without data" })
  return readTxnEntry(data)
}
/** PROPOSAL/INFORM data: the same bytes the txn log stores for the entry. */
export const writeProposal = (e: TxnEntry): Uint8Array => encodeWith(writeTxnEntry, e)

/** INFORMANDACTIVATE data: the designated leader sid, then the txn bytes of the reconfig. */
export interface InformAndActivate {
  readonly designatedLeader: number
  readonly entry: TxnEntry
}
/** Reads INFORMANDACTIVATE data (reconfig, not captured: layout from the 3.8 source). */
export const readInformAndActivate = (data: Uint8Array | null): InformAndActivate => {
  const r = new JuteReader(data ?? new Uint8Array(0))
  const designatedLeader = r.long()
  return { designatedLeader, entry: readTxnEntry(r.bytes.subarray(r.pos)) }
}
/** Writes INFORMANDACTIVATE data. */
export const writeInformAndActivate = (v: InformAndActivate): Uint8Array => {
  const w = new JuteWriter(128).long(v.designatedLeader)
  writeTxnEntry(w, v.entry)
  return w.copy()
}

/** One row of a learner's PING: a session its clients touched, with its timeout. */
export interface SessionTouch {
  readonly sessionId: bigint
  readonly timeout: number
}

/** Learner → leader PING data: `(long sessionId, int timeout)*`; empty (or null) = nothing touched. */
export const readSessionTouches = (data: Uint8Array | null): Array<SessionTouch> =>
  readData(data, (r) => {
    if (r.remaining % 12 !== 0) throw new WireError({ reason: "BadRecord", detail: `session-touch table of ${r.remaining} bytes` })
    const out: Array<SessionTouch> = []
    while (r.remaining > 0) out.push({ sessionId: r.bigLong(), timeout: r.int() })
    return out
  })
/** Writes a learner PING table; an empty table is an empty buffer, not null (quorum.md §3.2). */
export const writeSessionTouches = (touches: ReadonlyArray<SessionTouch>): Uint8Array => {
  const w = new JuteWriter(4 + touches.length * 12)
  for (const t of touches) w.bigLong(t.sessionId).int(t.timeout)
  return w.copy()
}

/** Learner → leader REVALIDATE data: the session a client re-attached with, and its timeout. */
export const readRevalidateRequest = (data: Uint8Array | null): SessionTouch =>
  readData(data, (r) => ({ sessionId: r.bigLong(), timeout: r.int() }))
/** Writes learner → leader REVALIDATE data. */
export const writeRevalidateRequest = (v: SessionTouch): Uint8Array => new JuteWriter(12).bigLong(v.sessionId).int(v.timeout).copy()

/** Leader → learner REVALIDATE data: whether the session is still valid. */
export interface RevalidateReply {
  readonly sessionId: bigint
  readonly valid: boolean
}
/** Reads leader → learner REVALIDATE data. */
export const readRevalidateReply = (data: Uint8Array | null): RevalidateReply =>
  readData(data, (r) => ({ sessionId: r.bigLong(), valid: r.bool() }))
/** Writes leader → learner REVALIDATE data. */
export const writeRevalidateReply = (v: RevalidateReply): Uint8Array => new JuteWriter(9).bigLong(v.sessionId).bool(v.valid).copy()

/** NEWLEADER data: the leader's last-seen quorum config text (quorum.md §1.5); null from pre-1.0 leaders. */
export const readConfigText = (data: Uint8Array | null): string | null => (data === null ? null : new TextDecoder().decode(data))
/** NEWLEADER data from the config text (UTF-8, as 3.8.5+ always encodes it). */
export const writeConfigText = (config: string): Uint8Array => encodeUtf8(config)

/**
 * REQUEST data: a client request forwarded by a learner. `body` is the client's request exactly as
 * received after its RequestHeader (for createSession: `int timeout`); the leader decodes it by `type`.
 */
export interface ForwardedRequest {
  readonly sessionId: bigint
  readonly cxid: number
  readonly type: number
  readonly body: Uint8Array
}
/** Reads REQUEST data; the body is copied so it outlives the packet. */
export const readForwardedRequest = (data: Uint8Array | null): ForwardedRequest => {
  const r = new JuteReader(data ?? new Uint8Array(0))
  return { sessionId: r.bigLong(), cxid: r.int(), type: r.int(), body: r.bytes.slice(r.pos) }
}
/** Writes REQUEST data: header fields, then the body bytes as they are. */
export const writeForwardedRequest = (q: ForwardedRequest): Uint8Array =>
  new JuteWriter(16 + q.body.length).bigLong(q.sessionId).int(q.cxid).int(q.type).raw(q.body).copy()

// ---------------------------------------------------------------------------------------------
// Stream splitting

const EMPTY = new Uint8Array(0)

/**
 * Splits a learner-port byte stream into whole QuorumPackets. TCP may split or join packets
 * anywhere, and they carry no length prefix, so the reader walks the fields to find each end.
 *
 * `feed(chunk)` returns the packets completed so far (each decoded and independent of the
 * chunk). A packet larger than `maxPacket` fails with WireError("FrameTooLarge") as soon as its
 * lengths say so, without waiting for (or buffering room for) the rest of it; malformed lengths
 * fail with BadLength. After a failure the reader stays failed: close the connection.
 *
 * A SNAP packet is followed by the raw snapshot stream (quorum.md §4.4), not by packets: the
 * reader stops after it and keeps buffering. `takeRest()` hands back the bytes after the SNAP and
 * resumes; feed the snapshot decoder with them, then feed its leftover bytes back here.
 */
export class QuorumPacketReader {
  readonly maxPacket: number
  private buf: Uint8Array = EMPTY
  private start = 0
  private end = 0
  /** Bytes (from `start`) the packet being assembled needs at least, known from its lengths so far. */
  private need = 0
  private paused = false
  private failed: WireError | null = null

  constructor(maxPacket = DEFAULT_MAX_PACKET) {
    if (!Number.isSafeInteger(maxPacket) || maxPacket < 20) throw new RangeError(`maxPacket ${maxPacket}`)
    this.maxPacket = maxPacket
  }

  /** Bytes held that are not yet part of a returned packet. */
  get buffered(): number {
    return this.end - this.start
  }

  /** True after a SNAP packet, until `takeRest()`. */
  get awaitingSnapshot(): boolean {
    return this.paused
  }

  /** The packets completed by `chunk` (none while awaiting a snapshot); see the class comment. */
  feed(chunk: Uint8Array): Array<QuorumPacket> {
    if (this.failed !== null) throw this.failed
    this.append(chunk)
    const out: Array<QuorumPacket> = []
    try {
      while (!this.paused && this.end - this.start >= this.need) {
        const size = this.scan()
        if (size < 0) break
        const packet = decodeQuorumPacket(this.buf.subarray(this.start, this.start + size))
        this.start += size
        this.need = 0
        out.push(packet)
        if (packet.type === PacketType.SNAP) this.paused = true
      }
    } catch (e) {
      if (e instanceof WireError) this.failed = e
      throw e
    }
    if (this.start === this.end) this.start = this.end = 0
    return out
  }

  /** The bytes buffered after a SNAP packet (a copy); packets are read again from the next `feed`. */
  takeRest(): Uint8Array {
    const rest = this.buf.slice(this.start, this.end)
    this.start = this.end = 0
    this.need = 0
    this.paused = false
    return rest
  }

  private append(chunk: Uint8Array): void {
    if (chunk.length === 0) return
    if (this.end + chunk.length > this.buf.length) {
      const live = this.end - this.start
      if (live + chunk.length <= this.buf.length) this.buf.copyWithin(0, this.start, this.end)
      else {
        // Only an unfinished packet (bounded by maxPacket while scanning) or a post-SNAP tail is live.
        const next = new Uint8Array(Math.max(live + chunk.length, this.buf.length * 2, 1024))
        next.set(this.buf.subarray(this.start, this.end))
        this.buf = next
      }
      this.start = 0
      this.end = live
    }
    this.buf.set(chunk, this.end)
    this.end += chunk.length
  }

  /** Size of the packet at `start` if it is complete, else -1 (with `need` raised). */
  private scan(): number {
    const b = this.buf
    const base = this.start
    const avail = this.end - base
    let at = 12
    const int = (): number => (b[base + at]! << 24) | (b[base + at + 1]! << 16) | (b[base + at + 2]! << 8) | b[base + at + 3]!
    const within = (n: number): boolean => {
      if (n > this.maxPacket) throw new WireError({ reason: "FrameTooLarge", detail: `quorum packet of at least ${n} bytes (max ${this.maxPacket})` })
      if (n > avail) {
        this.need = n
        return false
      }
      return true
    }
    if (!within(16)) return -1
    const dataLen = int()
    if (dataLen < -1) throw new WireError({ reason: "BadLength", detail: `data length ${dataLen}` })
    at += 4 + Math.max(dataLen, 0)
    if (!within(at + 4)) return -1
    const ids = int()
    at += 4
    if (ids < -1) throw new WireError({ reason: "BadLength", detail: `authinfo count ${ids}` })
    // Each Id is two length-prefixed strings.
    for (let i = 0; i < ids * 2; i++) {
      if (!within(at + 4)) return -1
      const n = int()
      if (n < -1) throw new WireError({ reason: "BadLength", detail: `string length ${n}` })
      at += 4 + Math.max(n, 0)
    }
    return within(at) ? at : -1
  }
}
