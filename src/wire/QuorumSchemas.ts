/**
 * Schemas of the quorum and election records (quorum.md §1, §3): QuorumPacket, LearnerInfo, the
 * PING touch table, REQUEST, notifications and the election handshake, with `…FromBytes`
 * transforms over the same codecs as the hot path (Quorum.ts, Election.ts).
 */
import { Schema } from "effect"
import { Id } from "./ClientSchemas.js"
import * as E from "./Election.js"
import { encodeWith } from "./Jute.js"
import * as Q from "./Quorum.js"
import { type Assignable, Buffer, fromBytes, fromPayload, Int32, Int64, JuteString, Long, LooseLong, NullableBuffer } from "./SchemaPrimitives.js"

/** QuorumPacket `{int type; long zxid; buffer data; vector<Id> authinfo}`. */
export const QuorumPacket = Schema.Struct({
  type: Int32,
  zxid: Long,
  data: NullableBuffer,
  authinfo: Schema.NullOr(Schema.Array(Id))
}).annotations({ identifier: "QuorumPacket" })

/** LearnerInfo in its 8/12/20-byte forms: a configVersion needs a protocolVersion before it. */
export const LearnerInfo = Schema.Struct({ sid: Long, protocolVersion: Schema.NullOr(Int32), configVersion: Schema.NullOr(Long) })
  .pipe(Schema.filter((i) => i.protocolVersion !== null || i.configVersion === null, { message: () => "configVersion without protocolVersion" }))
  .annotations({ identifier: "LearnerInfo" })

/** One row of a learner's PING session-touch table (also REVALIDATE's learner → leader data). */
export const SessionTouch = Schema.Struct({ sessionId: Int64, timeout: Int32 }).annotations({ identifier: "SessionTouch" })

/** REQUEST data: a forwarded client request, its body kept as the client sent it. */
export const ForwardedRequest = Schema.Struct({ sessionId: Int64, cxid: Int32, type: Int32, body: Buffer }).annotations({
  identifier: "ForwardedRequest"
})

const voteFields = { state: Int32, leader: LooseLong, zxid: LooseLong, electionEpoch: LooseLong, peerEpoch: LooseLong }

/** Notification: the 40-byte form (read as version 0, no config) or version ≥ 2 with its config text. */
export const Notification = Schema.Union(
  Schema.Struct({ ...voteFields, version: Schema.Literal(0), config: Schema.Null }),
  Schema.Struct({ ...voteFields, version: Int32.pipe(Schema.greaterThanOrEqualTo(2)), config: JuteString })
).annotations({ identifier: "Notification" })

const addrBytes = (s: string) => new TextEncoder().encode(s).length

/** Election initial message: a pre-3.5 sid alone, or V1/V2 with the sender's election address(es). */
export const InitialMessage = Schema.Union(
  Schema.Struct({ protocolVersion: Schema.Null, sid: LooseLong.pipe(Schema.filter((n) => n >= 0)), addr: Schema.Null }),
  Schema.Struct({
    protocolVersion: Schema.Literal(E.PROTOCOL_V1, E.PROTOCOL_V2),
    sid: LooseLong,
    addr: JuteString.pipe(Schema.filter((s) => addrBytes(s) >= 1 && addrBytes(s) <= E.MAX_ADDRESS_BYTES))
  })
).annotations({ identifier: "InitialMessage" })

/** QuorumPacket ⇄ its bytes (one packet, no framing). */
export const QuorumPacketFromBytes = fromBytes(QuorumPacket, Q.readQuorumPacket, Q.writeQuorumPacket)
/** LearnerInfo ⇄ FOLLOWERINFO/OBSERVERINFO data. */
export const LearnerInfoFromBytes = fromPayload(LearnerInfo, Q.readLearnerInfo, Q.writeLearnerInfo)
/** Session-touch table ⇄ a learner's PING data. */
export const SessionTouchesFromBytes = fromPayload(Schema.Array(SessionTouch), Q.readSessionTouches, Q.writeSessionTouches)
/** ForwardedRequest ⇄ REQUEST data. */
export const ForwardedRequestFromBytes = fromPayload(ForwardedRequest, Q.readForwardedRequest, Q.writeForwardedRequest)
/** Notification ⇄ an election frame's payload (without its length prefix). */
export const NotificationFromBytes = fromPayload(Notification, E.decodeNotification, (n) => encodeWith(E.writeNotification, n))
/** InitialMessage ⇄ the first bytes of an election connection. */
export const InitialMessageFromBytes = fromBytes(InitialMessage, E.readInitialMessage, E.writeInitialMessage)

/** Not for use: compile-time checks that the quorum schemas fit the codecs' interfaces. */
export type _QuorumChecks = [
  Assignable<typeof QuorumPacket.Type, Q.QuorumPacket>,
  Assignable<typeof LearnerInfo.Type, Q.LearnerInfo>,
  Assignable<typeof SessionTouch.Type, Q.SessionTouch>,
  Assignable<typeof ForwardedRequest.Type, Q.ForwardedRequest>,
  Assignable<typeof Notification.Type, E.Notification>,
  Assignable<typeof InitialMessage.Type, E.InitialMessage>
]
