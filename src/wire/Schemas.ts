/**
 * Schema declarations of the wire records (STYLE §2.5): each record's *shape* as an
 * `effect/Schema`, plus `xxxFromBytes` transforms that run the very same hand-written Jute
 * readers/writers as the hot path. Use them at cold boundaries (config, admin, tests, fuzzing);
 * never per packet (STYLE §2.10).
 *
 * Representation (TEAM.md): zxids, times and other longs are JS numbers (exact within ±2^53);
 * session ids and ephemeral owners are bigints (all 64 bits). The schema types are subtypes of
 * the interfaces in ClientRecords.ts / TxnRecords.ts: they additionally pin what the codecs
 * imply (e.g. `ttl = -1` unless createTTL), so `decode(encode(x)) = x` holds for every value.
 */
import { Arbitrary, ParseResult, Schema, type SchemaAST } from "effect"
import * as C from "./ClientRecords.js"
import { Op } from "./Codes.js"
import * as E from "./Election.js"
import { decodeWith, encodeWith, type JuteReader, type JuteWriter } from "./Jute.js"
import * as Q from "./Quorum.js"
import * as T from "./TxnRecords.js"
import { WireError } from "./WireError.js"

// ---------------------------------------------------------------------------------------------
// Primitives

/** Jute `int`: a signed 32-bit integer. */
export const Int32 = Schema.Int.pipe(Schema.between(-0x80000000, 0x7fffffff)).annotations({ identifier: "Int32" })

/** Jute `long` carried as a JS number (zxids, times, ttl, versions of configs): exact within ±(2^53-1). */
export const Long = Schema.Int.pipe(Schema.between(Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER)).annotations({
  identifier: "Long",
  // Mostly zxid-shaped values (small epoch · 2^32 + counter), plus the extremes.
  arbitrary: () => (fc) =>
    fc.oneof(
      fc.integer({ min: -1, max: 1000 }),
      fc.tuple(fc.integer({ min: 0, max: 0x1fffff }), fc.nat()).map(([epoch, counter]) => epoch * 4294967296 + counter),
      fc.maxSafeInteger()
    )
})

const TWO_63 = 2 ** 63

/**
 * A client-chosen Jute `long` read with `JuteReader.looseLong` (lastZxidSeen, a request's ttl,
 * curConfigId, relativeZxid): any integer-valued number in [-2^63, 2^63]; beyond ±2^53 it is the
 * nearest double of the 64-bit value, and 2^63 stands for Long.MAX_VALUE (written saturated).
 */
export const LooseLong = Schema.Number.pipe(
  Schema.filter((n) => Number.isInteger(n) && n >= -TWO_63 && n <= TWO_63, {
    message: () => "an integer within the 64-bit range"
  })
).annotations({
  identifier: "LooseLong",
  arbitrary: () => (fc) =>
    fc.oneof(
      { arbitrary: fc.maxSafeInteger(), weight: 3 },
      { arbitrary: fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }).map(Number), weight: 1 },
      { arbitrary: fc.constantFrom(0x7fff000000000000, TWO_63, -TWO_63, -1), weight: 1 }
    )
})

/** Jute `long` carried as a bigint (session ids, ephemeral owners): all 64 bits. */
export const Int64 = Schema.BigIntFromSelf.pipe(Schema.betweenBigInt(-(2n ** 63n), 2n ** 63n - 1n)).annotations({
  identifier: "Int64"
})

/** An unsigned 32-bit half of a 64-bit digest. */
export const UInt32 = Schema.Int.pipe(Schema.between(0, 0xffffffff)).annotations({ identifier: "UInt32" })

const stringArbitrary: Arbitrary.LazyArbitrary<string> = (fc) =>
  // ASCII most of the time, sometimes any well-formed Unicode (lone surrogates cannot round-trip
  // through UTF-8, and ZooKeeper paths cannot contain them).
  fc.oneof({ arbitrary: fc.string(), weight: 3 }, { arbitrary: fc.string({ unit: "grapheme", maxLength: 6 }), weight: 1 })

/** Jute `ustring` that is never null on the wire in practice (paths, schemes, ids). */
export const JuteString = Schema.String.annotations({ identifier: "JuteString", arbitrary: () => stringArbitrary })

/** Jute `buffer` (non-null). */
export const Buffer = Schema.Uint8ArrayFromSelf
/** Jute `buffer` where `-1` (null) is meaningful, e.g. znode data. */
export const NullableBuffer = Schema.NullOr(Schema.Uint8ArrayFromSelf)

const Strings = Schema.Array(JuteString)

// ---------------------------------------------------------------------------------------------
// Data types (client.md §6.1)

/** Id: an auth scheme and an identity in it. */
export const Id = Schema.Struct({ scheme: JuteString, id: JuteString }).annotations({ identifier: "Id" })

/** ACL entry: permission bits for one Id. */
export const ACL = Schema.Struct({ perms: Int32, id: Id }).annotations({ identifier: "ACL" })

const ACLs = Schema.Array(ACL)

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
// Transactions (storage.md §2.3)

/** TxnHeader. */
export const TxnHeader = Schema.Struct({ clientId: Int64, cxid: Int32, zxid: Long, time: Long, type: Int32 }).annotations({
  identifier: "TxnHeader"
})

const createTxnFields = { path: JuteString, data: NullableBuffer, acl: ACLs }

/** Every txn record except MultiTxn (the sub-txns of a multi). */
export const SubTxn = Schema.Union(
  Schema.Struct({ type: Schema.Literal(Op.createSession), timeOut: Int32 }),
  Schema.Struct({ type: Schema.Literal(Op.closeSession), paths: Schema.NullOr(Strings) }),
  // parentCVersion -1 is written as a legacy CreateTxnV0 (no field) and read back as -1.
  Schema.Struct({ type: Schema.Literal(Op.create, Op.create2), ...createTxnFields, ephemeral: Schema.Boolean, parentCVersion: Int32 }),
  Schema.Struct({ type: Schema.Literal(Op.createContainer), ...createTxnFields, parentCVersion: Int32 }),
  Schema.Struct({ type: Schema.Literal(Op.createTTL), ...createTxnFields, parentCVersion: Int32, ttl: Long }),
  Schema.Struct({ type: Schema.Literal(Op.delete, Op.deleteContainer), path: JuteString }),
  Schema.Struct({ type: Schema.Literal(Op.setData, Op.reconfig), path: JuteString, data: NullableBuffer, version: Int32 }),
  Schema.Struct({ type: Schema.Literal(Op.setACL), path: JuteString, acl: ACLs, version: Int32 }),
  Schema.Struct({ type: Schema.Literal(Op.check), path: JuteString, version: Int32 }),
  Schema.Struct({ type: Schema.Literal(Op.error), err: Int32 })
).annotations({ identifier: "SubTxn" })

/** MultiTxn: a vector of sub-txns (never nested). */
export const MultiTxn = Schema.Struct({ type: Schema.Literal(Op.multi), txns: Schema.Array(SubTxn) })

/** Every txn record, keyed by txn type. */
export const Txn = Schema.Union(SubTxn, MultiTxn).annotations({ identifier: "Txn" })

/** TxnDigest: digest version and the 64-bit tree digest as two unsigned halves. */
export const TxnDigest = Schema.Struct({ version: Int32, hi: UInt32, lo: UInt32 }).annotations({ identifier: "TxnDigest" })

const makeArb = <A, I>(s: Schema.Schema<A, I>): Arbitrary.LazyArbitrary<A> => Arbitrary.makeLazy(s)

/** Digest version ZooKeeper 3.6+ writes; readTxnEntry only recognises a tail with this version. */
export const DIGEST_VERSION = 2

/**
 * A logged txn. Consistency is part of the shape: header.type = txn.type, error txns carry no
 * digest, and a digest has version 2 (anything else would be read back as record bytes).
 */
export const TxnEntry = Schema.Struct({ header: TxnHeader, txn: Txn, digest: Schema.NullOr(TxnDigest) })
  .pipe(
    Schema.filter(
      (e) =>
        e.header.type === e.txn.type &&
        (e.digest === null ? true : e.txn.type !== Op.error && e.digest.version === DIGEST_VERSION),
      { message: () => "TxnEntry: header.type must equal txn.type; digest (version 2) only on non-error txns" }
    )
  )
  .annotations({
    identifier: "TxnEntry",
    arbitrary: () => (fc) =>
      fc
        .record({
          header: makeArb(TxnHeader)(fc),
          txn: makeArb(Txn)(fc),
          digest: fc.option(fc.record({ hi: fc.nat({ max: 0xffffffff }), lo: fc.nat({ max: 0xffffffff }) }), { nil: null })
        })
        .map(({ digest, header, txn }) => ({
          header: { ...header, type: txn.type },
          txn,
          digest: txn.type === Op.error || digest === null ? null : { version: DIGEST_VERSION, ...digest }
        }))
  })


// ---------------------------------------------------------------------------------------------
// From bytes: the same Jute readers/writers behind a Schema transformation

/** A WireError becomes a ParseResult.Type issue; any other exception is a bug and is rethrown. */
const parse = <A>(decode: () => A, ast: SchemaAST.AST, bytes: Uint8Array) => {
  try {
    return ParseResult.succeed(decode())
  } catch (e) {
    if (e instanceof WireError) return ParseResult.fail(new ParseResult.Type(ast, bytes, e.message))
    throw e
  }
}

/**
 * `Schema.transformOrFail` from `Uint8ArrayFromSelf` to `to`, decoding with `read` (which must
 * consume every byte) and encoding with `write`. Non-strict: the decoded value is validated by
 * `to`, so a reader producing something outside the declared shape is reported, not trusted.
 */
export const fromBytes = <A, I>(
  to: Schema.Schema<A, I>,
  read: (r: JuteReader) => unknown,
  write: (w: JuteWriter, a: I) => void
): Schema.Schema<A, Uint8Array> =>
  Schema.transformOrFail(Schema.Uint8ArrayFromSelf, to, {
    strict: false,
    decode: (bytes, _, ast) => parse(() => decodeWith(read, bytes), ast, bytes),
    encode: (a) => ParseResult.succeed(encodeWith(write, a as I))
  })

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
/** TxnHeader ⇄ its 28 bytes. */
export const TxnHeaderFromBytes = fromBytes(TxnHeader, T.readTxnHeader, T.writeTxnHeader)
/** TxnDigest ⇄ its 12 bytes. */
export const TxnDigestFromBytes = fromBytes(TxnDigest, T.readTxnDigest, T.writeTxnDigest)

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

/** A txnEntry buffer (header + record + optional digest), as in a log record or a PROPOSAL. */
export const TxnEntryFromBytes: Schema.Schema<typeof TxnEntry.Type, Uint8Array> = Schema.transformOrFail(
  Schema.Uint8ArrayFromSelf,
  TxnEntry,
  {
    strict: false,
    decode: (bytes, _, ast) => parse(() => T.readTxnEntry(bytes), ast, bytes),
    encode: (e) => ParseResult.succeed(encodeWith(T.writeTxnEntry, e as T.TxnEntry))
  }
)

// ---------------------------------------------------------------------------------------------
// Compile-time checks: every schema type is assignable to the codec's interface, so a value
// produced by a schema (or its arbitrary) can be handed to the writers without casts.

type Assignable<A extends B, B> = A
/** Not for use: exported only so the compiler keeps (and checks) these assertions. */
export type _Checks = [
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
  Assignable<typeof Response.Type, C.Response>,
  Assignable<typeof TxnHeader.Type, T.TxnHeader>,
  Assignable<typeof Txn.Type, T.Txn>,
  Assignable<typeof TxnDigest.Type, T.TxnDigest>,
  Assignable<typeof TxnEntry.Type, T.TxnEntry>
]

// ---------------------------------------------------------------------------------------------
// Quorum and election records (quorum.md §1, §3)

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

/** Like `fromBytes` for records decoded from a whole payload rather than a JuteReader. */
const fromPayload = <A, I>(to: Schema.Schema<A, I>, decode: (b: Uint8Array) => unknown, encode: (a: I) => Uint8Array): Schema.Schema<A, Uint8Array> =>
  Schema.transformOrFail(Schema.Uint8ArrayFromSelf, to, {
    strict: false,
    decode: (bytes, _, ast) => parse(() => decode(bytes), ast, bytes),
    encode: (a) => ParseResult.succeed(encode(a as I))
  })

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
