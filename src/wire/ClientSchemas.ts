/**
 * Schemas of the client port's records (client.md §3–§7): ids, ACLs, stats, the connect
 * handshake, headers, every request and response, with `…FromBytes` transforms over the same
 * codecs as the hot path (ClientRecords.ts).
 */
import { Schema } from "effect"
import * as C from "./ClientRecords.js"
import { Op } from "./Codes.js"
import type { JuteReader, JuteWriter } from "./Jute.js"
import { type Assignable, Buffer, fromBytes, Int32, Int64, JuteString, Long, LooseLong, NullableBuffer, Strings } from "./SchemaPrimitives.js"
import { WireError } from "./WireError.js"

// ---------------------------------------------------------------------------------------------
// Data types (client.md §6.1)

/** Id: an auth scheme and an identity in it. */
export const Id = Schema.Struct({ scheme: JuteString, id: JuteString }).annotations({ identifier: "Id" })

/** ACL entry: permission bits for one Id. */
export const ACL = Schema.Struct({ perms: Int32, id: Id }).annotations({ identifier: "ACL" })

/** A Jute vector of ACL entries. */
export const ACLs = Schema.Array(ACL)

/** Stat as clients see it (68 bytes). */
export const Stat = Schema.Struct({
  czxid: Long,
  mzxid: Long,
  ctime: Long,
  mtime: Long,
  version: Int32,
  cversion: Int32,
  aversion: Int32,
  ephemeralOwner: Int64,
  dataLength: Int32,
  numChildren: Int32,
  pzxid: Long
}).annotations({ identifier: "Stat" })

// ---------------------------------------------------------------------------------------------
// Session establishment and headers (client.md §3, §4)

/** ConnectRequest; readOnly null = an old client that does not send the trailing byte. */
export const ConnectRequest = Schema.Struct({
  protocolVersion: Int32,
  lastZxidSeen: LooseLong,
  timeOut: Int32,
  sessionId: Int64,
  passwd: Buffer,
  readOnly: Schema.NullOr(Schema.Boolean)
}).annotations({ identifier: "ConnectRequest" })

/** ConnectResponse; readOnly is present only if the request carried it. */
export const ConnectResponse = Schema.Struct({
  protocolVersion: Int32,
  timeOut: Int32,
  sessionId: Int64,
  passwd: Buffer,
  readOnly: Schema.NullOr(Schema.Boolean)
}).annotations({ identifier: "ConnectResponse" })

/** RequestHeader: xid and opcode. */
export const RequestHeader = Schema.Struct({ xid: Int32, type: Int32 }).annotations({ identifier: "RequestHeader" })

/** ReplyHeader: xid, the server's zxid and the error code. */
export const ReplyHeader = Schema.Struct({ xid: Int32, zxid: Long, err: Int32 }).annotations({ identifier: "ReplyHeader" })

/** WatcherEvent: the body of a notification (xid -1). */
export const WatcherEvent = Schema.Struct({ type: Int32, state: Int32, path: JuteString }).annotations({
  identifier: "WatcherEvent"
})

// ---------------------------------------------------------------------------------------------
// Requests (client.md §6.2), discriminated by `type` = opcode

const createFields = { path: JuteString, data: NullableBuffer, acl: ACLs, flags: Int32 }

/** CreateRequest (create, create2, createContainer: ttl is -1) or CreateTTLRequest. */
export const CreateRequest = Schema.Union(
  Schema.Struct({ type: Schema.Literal(Op.create, Op.create2, Op.createContainer), ...createFields, ttl: Schema.Literal(-1) }),
  Schema.Struct({ type: Schema.Literal(Op.createTTL), ...createFields, ttl: LooseLong })
).annotations({ identifier: "CreateRequest" })

/** DeleteRequest. */
export const DeleteRequest = Schema.Struct({ type: Schema.Literal(Op.delete), path: JuteString, version: Int32 })

/** exists / getData / getChildren / getChildren2. */
export const WatchingReadRequest = Schema.Struct({
  type: Schema.Literal(Op.exists, Op.getData, Op.getChildren, Op.getChildren2),
  path: JuteString,
  watch: Schema.Boolean
})

/** SetDataRequest. */
export const SetDataRequest = Schema.Struct({ type: Schema.Literal(Op.setData), path: JuteString, data: NullableBuffer, version: Int32 })

/** getACL / sync / getAllChildrenNumber / getEphemerals: just a path. */
export const PathRequest = Schema.Struct({
  type: Schema.Literal(Op.getACL, Op.sync, Op.getAllChildrenNumber, Op.getEphemerals),
  path: JuteString
})

/** SetACLRequest. */
export const SetACLRequest = Schema.Struct({ type: Schema.Literal(Op.setACL), path: JuteString, acl: ACLs, version: Int32 })

/** CheckVersionRequest. */
export const CheckVersionRequest = Schema.Struct({ type: Schema.Literal(Op.check), path: JuteString, version: Int32 })

/** The ops a MultiOperationRecord may carry (client.md §7.1). */
export const MultiOp = Schema.Union(
  CreateRequest,
  DeleteRequest,
  SetDataRequest,
  CheckVersionRequest,
  Schema.Struct({ type: Schema.Literal(Op.getData, Op.getChildren), path: JuteString, watch: Schema.Boolean })
)

/** multi (14) / multiRead (22). */
export const MultiRequest = Schema.Struct({ type: Schema.Literal(Op.multi, Op.multiRead), ops: Schema.Array(MultiOp) })

/** ReconfigRequest (nulls allowed, curConfigId -1 = any). */
export const ReconfigRequest = Schema.Struct({
  type: Schema.Literal(Op.reconfig),
  joiningServers: Schema.NullOr(JuteString),
  leavingServers: Schema.NullOr(JuteString),
  newMembers: Schema.NullOr(JuteString),
  curConfigId: LooseLong
})

/** checkWatches / removeWatches. */
export const WatchesRequest = Schema.Struct({
  type: Schema.Literal(Op.checkWatches, Op.removeWatches),
  path: JuteString,
  watcherType: Int32
})

/** AuthPacket (xid -4). */
export const AuthPacket = Schema.Struct({ type: Schema.Literal(Op.auth), authType: Int32, scheme: JuteString, auth: Buffer })

const watchLists = { relativeZxid: LooseLong, dataWatches: Strings, existWatches: Strings, childWatches: Strings }

/** SetWatches (101, no persistent lists on the wire) / SetWatches2 (105). */
export const SetWatchesRequest = Schema.Union(
  Schema.Struct({ type: Schema.Literal(Op.setWatches), ...watchLists, persistentWatches: Schema.Tuple(), persistentRecursiveWatches: Schema.Tuple() }),
  Schema.Struct({ type: Schema.Literal(Op.setWatches2), ...watchLists, persistentWatches: Strings, persistentRecursiveWatches: Strings })
)

/** GetSASLRequest. */
export const SaslRequest = Schema.Struct({ type: Schema.Literal(Op.sasl), token: NullableBuffer })

/** AddWatchRequest. */
export const AddWatchRequest = Schema.Struct({ type: Schema.Literal(Op.addWatch), path: JuteString, mode: Int32 })

/** ping / whoAmI / closeSession: no body. */
export const EmptyRequest = Schema.Struct({ type: Schema.Literal(Op.ping, Op.whoAmI, Op.closeSession) })

/** Every client request body, keyed by opcode. */
export const Request = Schema.Union(
  CreateRequest,
  DeleteRequest,
  WatchingReadRequest,
  SetDataRequest,
  PathRequest,
  SetACLRequest,
  CheckVersionRequest,
  MultiRequest,
  ReconfigRequest,
  WatchesRequest,
  AuthPacket,
  SetWatchesRequest,
  SaslRequest,
  AddWatchRequest,
  EmptyRequest
).annotations({ identifier: "Request" })

/** A whole request frame payload: RequestHeader (xid, type = request.type) + body. */
export const ClientRequest = Schema.Struct({ xid: Int32, request: Request }).annotations({ identifier: "ClientRequest" })

// ---------------------------------------------------------------------------------------------
// Responses (client.md §6.3, §7.2)

/** One result of a MultiResponse (type -1 = error result). */
export const MultiResult = Schema.Union(
  Schema.Struct({ type: Schema.Literal(Op.create), path: JuteString }),
  Schema.Struct({ type: Schema.Literal(Op.create2), path: JuteString, stat: Stat }),
  Schema.Struct({ type: Schema.Literal(Op.delete, Op.check) }),
  Schema.Struct({ type: Schema.Literal(Op.setData), stat: Stat }),
  Schema.Struct({ type: Schema.Literal(Op.getData), data: NullableBuffer, stat: Stat }),
  Schema.Struct({ type: Schema.Literal(Op.getChildren), children: Strings }),
  Schema.Struct({ type: Schema.Literal(Op.error), err: Int32 })
).annotations({ identifier: "MultiResult" })

/** ClientInfo of a whoAmI reply. */
export const ClientInfo = Schema.Struct({ authScheme: JuteString, user: JuteString })

/** The body of a successful reply, tagged by shape (which opcodes use which: `readResponse`). */
export const Response = Schema.Union(
  Schema.Struct({ type: Schema.Literal("path"), path: JuteString }),
  Schema.Struct({ type: Schema.Literal("pathStat"), path: JuteString, stat: Stat }),
  Schema.Struct({ type: Schema.Literal("stat"), stat: Stat }),
  Schema.Struct({ type: Schema.Literal("data"), data: NullableBuffer, stat: Stat }),
  Schema.Struct({ type: Schema.Literal("acl"), acl: ACLs, stat: Stat }),
  Schema.Struct({ type: Schema.Literal("children"), children: Strings }),
  Schema.Struct({ type: Schema.Literal("children2"), children: Strings, stat: Stat }),
  Schema.Struct({ type: Schema.Literal("number"), n: Int32 }),
  Schema.Struct({ type: Schema.Literal("strings"), strings: Strings }),
  Schema.Struct({ type: Schema.Literal("multi"), results: Schema.Array(MultiResult) }),
  Schema.Struct({ type: Schema.Literal("whoAmI"), clientInfo: Schema.Array(ClientInfo) }),
  Schema.Struct({ type: Schema.Literal("sasl"), token: NullableBuffer }),
  Schema.Struct({ type: Schema.Literal("empty") })
).annotations({ identifier: "Response" })

/** An opcode whose successful reply has the given Response shape (for encoding/decoding tests). */
export const opForResponse: Readonly<Record<(typeof Response.Type)["type"], number>> = {
  path: Op.create,
  pathStat: Op.create2,
  stat: Op.exists,
  data: Op.getData,
  acl: Op.getACL,
  children: Op.getChildren,
  children2: Op.getChildren2,
  number: Op.getAllChildrenNumber,
  strings: Op.getEphemerals,
  multi: Op.multi,
  whoAmI: Op.whoAmI,
  sasl: Op.sasl,
  empty: Op.delete
}

// ---------------------------------------------------------------------------------------------
// From bytes

/** Id ⇄ its Jute bytes. */
export const IdFromBytes = fromBytes(Id, C.readId, C.writeId)
/** ACL ⇄ its Jute bytes. */
export const ACLFromBytes = fromBytes(ACL, C.readACL, C.writeACL)
/** Stat ⇄ its 68 Jute bytes. */
export const StatFromBytes = fromBytes(Stat, C.readStat, C.writeStat)
/** ConnectRequest ⇄ the first client frame's payload (readOnly byte optional). */
export const ConnectRequestFromBytes = fromBytes(ConnectRequest, C.readConnectRequest, C.writeConnectRequest)
/** ConnectResponse ⇄ the first server frame's payload. */
export const ConnectResponseFromBytes = fromBytes(ConnectResponse, C.readConnectResponse, C.writeConnectResponse)
/** RequestHeader ⇄ its 8 bytes. */
export const RequestHeaderFromBytes = fromBytes(RequestHeader, C.readRequestHeader, C.writeRequestHeader)
/** ReplyHeader ⇄ its 16 bytes. */
export const ReplyHeaderFromBytes = fromBytes(ReplyHeader, C.readReplyHeader, C.writeReplyHeader)
/** WatcherEvent ⇄ its Jute bytes (a notification without its ReplyHeader). */
export const WatcherEventFromBytes = fromBytes(WatcherEvent, C.readWatcherEvent, C.writeWatcherEvent)

/** Reads a request frame payload (header + body); an unknown opcode is a WireError here. */
export const readClientRequest = (r: JuteReader): { readonly xid: number; readonly request: C.Request } => {
  const h = C.readRequestHeader(r)
  const request = C.readRequest(r, h.type)
  if (request === null) throw new WireError({ reason: "BadRecord", detail: `unknown opcode ${h.type}` })
  return { xid: h.xid, request }
}

/** Writes a request frame payload (header with type = request.type, then the body). */
export const writeClientRequest = (w: JuteWriter, q: { readonly xid: number; readonly request: C.Request }): void => {
  C.writeRequestHeader(w, { xid: q.xid, type: q.request.type })
  C.writeRequest(w, q.request)
}

/** ClientRequest ⇄ a request frame's payload; an unknown opcode is a parse error. */
export const ClientRequestFromBytes = fromBytes(ClientRequest, readClientRequest, writeClientRequest)

/** Not for use: compile-time checks that every client schema's type fits its codec's interface. */
export type _ClientChecks = [
  Assignable<typeof Id.Type, C.Id>,
  Assignable<typeof ACL.Type, C.ACL>,
  Assignable<typeof Stat.Type, C.Stat>,
  Assignable<C.Stat, typeof Stat.Type>,
  Assignable<typeof ConnectRequest.Type, C.ConnectRequest>,
  Assignable<typeof ConnectResponse.Type, C.ConnectResponse>,
  Assignable<typeof RequestHeader.Type, C.RequestHeader>,
  Assignable<typeof ReplyHeader.Type, C.ReplyHeader>,
  Assignable<typeof WatcherEvent.Type, C.WatcherEvent>,
  Assignable<typeof Request.Type, C.Request>,
  Assignable<typeof MultiResult.Type, C.MultiResult>,
  Assignable<typeof Response.Type, C.Response>
]
