/**
 * The election port (quorum.md §1, QuorumCnxManager + FastLeaderElection): the connection's
 * initial message, the length-prefixed notification frames and the notification layouts of every
 * version a 3.8 receiver accepts. Plain functions that throw WireError.
 *
 * Sids, zxids and epochs are read with `looseLong`: an observer's LOOKING vote carries
 * Long.MIN_VALUE (-2^63, exact as a JS number) for leader, zxid and peerEpoch.
 */
import { FrameSplitter } from "./Frame.js"
import { decodeUtf8, encodeUtf8, JuteReader, JuteWriter } from "./Jute.js"
import { epochOf } from "./Zxid.js"
import { WireError } from "./WireError.js"

/** ServerState ordinals as notifications carry them (quorum.md §6). */
export const ServerState = { LOOKING: 0, FOLLOWING: 1, LEADING: 2, OBSERVING: 3 } as const
/** A ServerState's name. */
export type ServerStateName = keyof typeof ServerState

/** Initial-message protocol versions: V1 (single address) and V2 (multi-address, 3.6+). */
export const PROTOCOL_V1 = -65536
export const PROTOCOL_V2 = -65535

/** The receiver drops a connection whose address is outside 1..2048 bytes. */
export const MAX_ADDRESS_BYTES = 2048

/** Election frames must be 1..512 KiB (QuorumCnxManager.PACKETMAXSIZE), else the connection is dropped. */
export const MAX_FRAME = 524288

/** Long.MIN_VALUE: a non-voter's leader/zxid/peerEpoch in its own LOOKING notifications. */
export const NON_VOTER = -(2 ** 63)

/** The notification version 3.5+ sends (with config data). */
export const NOTIFICATION_VERSION = 2

// ---------------------------------------------------------------------------------------------
// Initial message

/**
 * What the connecting side sends first. `protocolVersion` null is a pre-3.5 peer that sends only
 * its sid (first long ≥ 0); `addr` is then null. V2 joins several `host:port` with "|".
 */
export interface InitialMessage {
  readonly protocolVersion: typeof PROTOCOL_V1 | typeof PROTOCOL_V2 | null
  readonly sid: number
  readonly addr: string | null
}

/**
 * Parses an initial message at the start of `bytes`: the message and its size, or null when more
 * bytes are needed. Throws WireError for an unknown version or an address length outside 1..2048.
 */
export const parseInitialMessage = (bytes: Uint8Array): { readonly message: InitialMessage; readonly size: number } | null => {
  if (bytes.length < 8) return null
  const r = new JuteReader(bytes)
  const first = r.looseLong()
  if (first >= 0) return { message: { protocolVersion: null, sid: first, addr: null }, size: 8 }
  if (first !== PROTOCOL_V1 && first !== PROTOCOL_V2) throw new WireError({ reason: "BadRecord", detail: `initial message version ${first}` })
  if (bytes.length < 20) return null
  const sid = r.looseLong()
  const n = r.int()
  if (n < 1 || n > MAX_ADDRESS_BYTES) throw new WireError({ reason: "BadLength", detail: `initial message address of ${n} bytes` })
  if (bytes.length < 20 + n) return null
  return { message: { protocolVersion: first, sid, addr: decodeUtf8(bytes, 20, 20 + n) }, size: 20 + n }
}

/** Reads an initial message that must be complete (cold paths and Schemas; streams use parseInitialMessage). */
export const readInitialMessage = (r: JuteReader): InitialMessage => {
  const parsed = parseInitialMessage(r.bytes.subarray(r.pos, r.end))
  if (parsed === null) throw new WireError({ reason: "Truncated", detail: `initial message of ${r.remaining} bytes` })
  r.pos += parsed.size
  return parsed.message
}

/** Writes an initial message (just the sid for a pre-3.5 form). */
export const writeInitialMessage = (w: JuteWriter, m: InitialMessage): void => {
  if (m.protocolVersion === null) {
    w.long(m.sid)
    return
  }
  const addr = encodeUtf8(m.addr ?? "")
  if (addr.length < 1 || addr.length > MAX_ADDRESS_BYTES) throw new Error(`initial message address of ${addr.length} bytes`)
  w.long(m.protocolVersion).long(m.sid).int(addr.length).raw(addr)
}

/** The addresses of an initial message (V2 carries several, joined by "|"). */
export const addresses = (m: InitialMessage): Array<string> => (m.addr === null ? [] : m.addr.split("|"))

// ---------------------------------------------------------------------------------------------
// Notification

/** One FastLeaderElection notification (a vote plus the sender's state). */
export interface Notification {
  readonly state: number
  /** Proposed or elected leader's sid. */
  readonly leader: number
  /** That leader's last logged zxid as the voter knows it. */
  readonly zxid: number
  /** The sender's logical clock (election round). */
  readonly electionEpoch: number
  /** The proposed leader's currentEpoch (from the zxid for 28-byte messages). */
  readonly peerEpoch: number
  /** 0 for the 28/40-byte forms, 2 in 3.5+. */
  readonly version: number
  /** The sender's quorum config text (version > 1), else null. */
  readonly config: string | null
}

/**
 * Decodes a notification payload the way a 3.8 receiver does, by its length (quorum.md §1.4):
 * < 28 refused; 28 = no peerEpoch; 40 = peerEpoch and 4 unread bytes; otherwise peerEpoch,
 * version and, for version > 1, the config. Bytes after what the version defines are ignored.
 */
export const decodeNotification = (payload: Uint8Array): Notification => {
  if (payload.length < 28) throw new WireError({ reason: "Truncated", detail: `notification of ${payload.length} bytes` })
  const r = new JuteReader(payload)
  const state = r.int()
  const leader = r.looseLong()
  const zxid = r.looseLong()
  const electionEpoch = r.looseLong()
  if (payload.length === 28) return { state, leader, zxid, electionEpoch, peerEpoch: epochOf(zxid), version: 0, config: null }
  const peerEpoch = r.looseLong()
  if (payload.length === 40) return { state, leader, zxid, electionEpoch, peerEpoch, version: 0, config: null }
  const version = r.int()
  if (version <= 1) return { state, leader, zxid, electionEpoch, peerEpoch, version, config: null }
  const n = r.int()
  if (n < 0 || n > payload.length) throw new WireError({ reason: "BadLength", detail: `notification config of ${n} bytes` })
  if (n > r.remaining) throw new WireError({ reason: "Truncated", detail: `notification config of ${n} bytes, ${r.remaining} left` })
  return { state, leader, zxid, electionEpoch, peerEpoch, version, config: decodeUtf8(payload, r.pos, r.pos + n) }
}

/**
 * Writes a notification payload (no length prefix) in the form its version defines: version > 1
 * with config (44 + config bytes), otherwise the 40-byte form.
 */
export const writeNotification = (w: JuteWriter, n: Notification): void => {
  w.int(n.state).long(n.leader).long(n.zxid).long(n.electionEpoch).long(n.peerEpoch).int(n.version)
  if (n.version <= 1) return
  const mark = w.mark()
  w.raw(encodeUtf8(n.config ?? ""))
  w.patch(mark)
}

/** A notification with its 4-byte length prefix, ready for the socket. */
export const encodeNotificationFrame = (n: Notification): Uint8Array => {
  const w = new JuteWriter(64 + (n.config?.length ?? 0) * 3)
  const mark = w.mark()
  writeNotification(w, n)
  w.patch(mark)
  return w.copy()
}

// ---------------------------------------------------------------------------------------------
// Stream reader

/**
 * Splits one election connection's byte stream. With `handshake` (the accepting side), the stream
 * starts with an initial message (`initial` once it has arrived); after it, and always without
 * `handshake`, come `int length` frames of 1..512 KiB. `feed` returns the payloads completed so far
 * (views valid until the next `feed`). Anything else is a WireError and the reader stays failed.
 */
export class ElectionStreamReader {
  initial: InitialMessage | null = null
  private pending: Uint8Array | null
  private readonly frames: FrameSplitter
  private failed: WireError | null = null

  constructor(options: { readonly handshake: boolean; readonly maxFrame?: number }) {
    this.pending = options.handshake ? new Uint8Array(0) : null
    this.frames = new FrameSplitter({ maxFrame: options.maxFrame ?? MAX_FRAME })
  }

  /** The notification payloads completed by `chunk`; see the class comment. */
  feed(chunk: Uint8Array): Array<Uint8Array> {
    if (this.failed !== null) throw this.failed
    try {
      let rest = chunk
      if (this.pending !== null) {
        const joined = new Uint8Array(this.pending.length + chunk.length)
        joined.set(this.pending)
        joined.set(chunk, this.pending.length)
        const parsed = parseInitialMessage(joined)
        if (parsed === null) {
          this.pending = joined
          return []
        }
        this.initial = parsed.message
        this.pending = null
        rest = joined.subarray(parsed.size)
      }
      const out = this.frames.feed(rest)
      for (const f of out) if (f.length === 0) throw new WireError({ reason: "BadLength", detail: "empty election frame" })
      return out
    } catch (e) {
      if (e instanceof WireError) this.failed = e
      throw e
    }
  }
}
