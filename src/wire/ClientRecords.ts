/**
 * Every record of the client port (client.md §3–§8), as plain data plus a reader and writer.
 * Longs that are zxids or times are JS numbers; session ids and ephemeral owners are bigints.
 */
import { Op } from "./Codes.js"
import { type JuteReader, type JuteWriter } from "./Jute.js"
import { WireError } from "./WireError.js"

// ---------------------------------------------------------------------------------------------
// Data types

export interface Id {
  readonly scheme: string
  readonly id: string
}

export interface ACL {
  readonly perms: number
  readonly id: Id
}

/** Stat as clients see it (68 bytes on the wire). */
export interface Stat {
  readonly czxid: number
  readonly mzxid: number
  readonly ctime: number
  readonly mtime: number
  readonly version: number
  readonly cversion: number
  readonly aversion: number
  readonly ephemeralOwner: bigint
  readonly dataLength: number
  readonly numChildren: number
  readonly pzxid: number
}

export const readId = (r: JuteReader): Id => ({ scheme: r.string(), id: r.string() })
export const writeId = (w: JuteWriter, id: Id): void => {
  w.ustring(id.scheme).ustring(id.id)
}

export const readACL = (r: JuteReader): ACL => ({ perms: r.int(), id: readId(r) })
export const writeACL = (w: JuteWriter, a: ACL): void => {
  w.int(a.perms)
  writeId(w, a.id)
}

export const readACLs = (r: JuteReader): Array<ACL> => r.vector(readACL) ?? []
export const writeACLs = (w: JuteWriter, acls: ReadonlyArray<ACL> | null): void => {
  w.vector(acls, writeACL)
}

export const readStat = (r: JuteReader): Stat => ({
  czxid: r.long(),
  mzxid: r.long(),
  ctime: r.long(),
  mtime: r.long(),
  version: r.int(),
  cversion: r.int(),
  aversion: r.int(),
  ephemeralOwner: r.bigLong(),
  dataLength: r.int(),
  numChildren: r.int(),
  pzxid: r.long()
})

export const writeStat = (w: JuteWriter, s: Stat): void => {
  w.long(s.czxid).long(s.mzxid).long(s.ctime).long(s.mtime)
  w.int(s.version).int(s.cversion).int(s.aversion)
  w.bigLong(s.ephemeralOwner).int(s.dataLength).int(s.numChildren).long(s.pzxid)
}

const readStrings = (r: JuteReader): Array<string> => (r.vector((x) => x.string()) ?? [])
const writeStrings = (w: JuteWriter, xs: ReadonlyArray<string> | null): void => {
  w.vector(xs, (x, s) => x.ustring(s))
}

// ---------------------------------------------------------------------------------------------
// Session establishment (client.md §3)

export interface ConnectRequest {
  readonly protocolVersion: number
  readonly lastZxidSeen: number
  readonly timeOut: number
  readonly sessionId: bigint
  readonly passwd: Uint8Array
  /** null when the client is too old to send the trailing byte. */
  readonly readOnly: boolean | null
}

/**
 * lastZxidSeen is read with `looseLong`: a client may claim any 64-bit zxid, and ZooKeeper answers
 * one ahead of the server by closing without a response (client.md §3.3) rather than by failing
 * to parse (client_edge conn 8 sends 0x7fff000000000000).
 */
export const readConnectRequest = (r: JuteReader): ConnectRequest => ({
  protocolVersion: r.int(),
  lastZxidSeen: r.looseLong(),
  timeOut: r.int(),
  sessionId: r.bigLong(),
  passwd: r.buffer() ?? new Uint8Array(0),
  readOnly: r.remaining > 0 ? r.bool() : null
})

export const writeConnectRequest = (w: JuteWriter, c: ConnectRequest): void => {
  w.int(c.protocolVersion).long(c.lastZxidSeen).int(c.timeOut).bigLong(c.sessionId).buffer(c.passwd)
  if (c.readOnly !== null) w.bool(c.readOnly)
}

export interface ConnectResponse {
  readonly protocolVersion: number
  readonly timeOut: number
  readonly sessionId: bigint
  readonly passwd: Uint8Array
  /** Present only when the request carried the readOnly byte. */
  readonly readOnly: boolean | null
}

export const readConnectResponse = (r: JuteReader): ConnectResponse => ({
  protocolVersion: r.int(),
  timeOut: r.int(),
  sessionId: r.bigLong(),
  passwd: r.buffer() ?? new Uint8Array(0),
  readOnly: r.remaining > 0 ? r.bool() : null
})

export const writeConnectResponse = (w: JuteWriter, c: ConnectResponse): void => {
  w.int(c.protocolVersion).int(c.timeOut).bigLong(c.sessionId).buffer(c.passwd)
  if (c.readOnly !== null) w.bool(c.readOnly)
}

// ---------------------------------------------------------------------------------------------
// Headers (client.md §4)

export interface RequestHeader {
  readonly xid: number
  readonly type: number
}

export interface ReplyHeader {
  readonly xid: number
  readonly zxid: number
  readonly err: number
}

export const readRequestHeader = (r: JuteReader): RequestHeader => ({ xid: r.int(), type: r.int() })
export const writeRequestHeader = (w: JuteWriter, h: RequestHeader): void => {
  w.int(h.xid).int(h.type)
}

export const readReplyHeader = (r: JuteReader): ReplyHeader => ({ xid: r.int(), zxid: r.long(), err: r.int() })
export const writeReplyHeader = (w: JuteWriter, h: ReplyHeader): void => {
  w.int(h.xid).long(h.zxid).int(h.err)
}

// ---------------------------------------------------------------------------------------------
// Requests (client.md §6.2), one union keyed by opcode

export interface CreateRequest {
  readonly type: typeof Op.create | typeof Op.create2 | typeof Op.createContainer | typeof Op.createTTL
  readonly path: string
  readonly data: Uint8Array | null
  readonly acl: ReadonlyArray<ACL>
  readonly flags: number
  /** Only for createTTL; -1 otherwise. */
  readonly ttl: number
}
export interface DeleteRequest {
  readonly type: typeof Op.delete
  readonly path: string
  readonly version: number
}
export interface WatchingReadRequest {
  readonly type: typeof Op.exists | typeof Op.getData | typeof Op.getChildren | typeof Op.getChildren2
  readonly path: string
  readonly watch: boolean
}
export interface SetDataRequest {
  readonly type: typeof Op.setData
  readonly path: string
  readonly data: Uint8Array | null
  readonly version: number
}
export interface PathRequest {
  readonly type: typeof Op.getACL | typeof Op.sync | typeof Op.getAllChildrenNumber | typeof Op.getEphemerals
  /** For getEphemerals this is the prefix, which may be null on the wire (read as ""). */
  readonly path: string
}
export interface SetACLRequest {
  readonly type: typeof Op.setACL
  readonly path: string
  readonly acl: ReadonlyArray<ACL>
  readonly version: number
}
export interface CheckVersionRequest {
  readonly type: typeof Op.check
  readonly path: string
  readonly version: number
}
export interface MultiRequest {
  readonly type: typeof Op.multi | typeof Op.multiRead
  readonly ops: ReadonlyArray<Request>
}
export interface ReconfigRequest {
  readonly type: typeof Op.reconfig
  readonly joiningServers: string | null
  readonly leavingServers: string | null
  readonly newMembers: string | null
  readonly curConfigId: number
}
export interface WatchesRequest {
  readonly type: typeof Op.checkWatches | typeof Op.removeWatches
  readonly path: string
  readonly watcherType: number
}
export interface AuthPacket {
  readonly type: typeof Op.auth
  readonly authType: number
  readonly scheme: string
  readonly auth: Uint8Array
}
export interface SetWatchesRequest {
  readonly type: typeof Op.setWatches | typeof Op.setWatches2
  readonly relativeZxid: number
  readonly dataWatches: ReadonlyArray<string>
  readonly existWatches: ReadonlyArray<string>
  readonly childWatches: ReadonlyArray<string>
  readonly persistentWatches: ReadonlyArray<string>
  readonly persistentRecursiveWatches: ReadonlyArray<string>
}
export interface SaslRequest {
  readonly type: typeof Op.sasl
  readonly token: Uint8Array | null
}
export interface AddWatchRequest {
  readonly type: typeof Op.addWatch
  readonly path: string
  readonly mode: number
}
export interface EmptyRequest {
  readonly type: typeof Op.ping | typeof Op.whoAmI | typeof Op.closeSession
}

export type Request =
  | CreateRequest
  | DeleteRequest
  | WatchingReadRequest
  | SetDataRequest
  | PathRequest
  | SetACLRequest
  | CheckVersionRequest
  | MultiRequest
  | ReconfigRequest
  | WatchesRequest
  | AuthPacket
  | SetWatchesRequest
  | SaslRequest
  | AddWatchRequest
  | EmptyRequest

/** Ops allowed inside multi (14) and multiRead (22). */
const multiOps = new Set<number>([Op.create, Op.create2, Op.createContainer, Op.createTTL, Op.delete, Op.setData, Op.check, Op.getData, Op.getChildren])

/**
 * Reads the body of a request of the given opcode; null for an opcode with no known body (the
 * server answers those with Unimplemented, client.md §5). Client-chosen longs (ttl, curConfigId,
 * relativeZxid) use `looseLong` so that out-of-range values get ZooKeeper's error reply
 * (BadArguments, ...) instead of a closed connection.
 */
export const readRequest = (r: JuteReader, type: number): Request | null => {
  switch (type) {
    case Op.create:
    case Op.create2:
    case Op.createContainer:
      return { type, path: r.string(), data: r.buffer(), acl: readACLs(r), flags: r.int(), ttl: -1 }
    case Op.createTTL:
      return { type, path: r.string(), data: r.buffer(), acl: readACLs(r), flags: r.int(), ttl: r.looseLong() }
    case Op.delete:
      return { type, path: r.string(), version: r.int() }
    case Op.exists:
    case Op.getData:
    case Op.getChildren:
    case Op.getChildren2:
      return { type, path: r.string(), watch: r.bool() }
    case Op.setData:
      return { type, path: r.string(), data: r.buffer(), version: r.int() }
    case Op.getACL:
    case Op.sync:
    case Op.getAllChildrenNumber:
    case Op.getEphemerals:
      return { type, path: r.string() }
    case Op.setACL:
      return { type, path: r.string(), acl: readACLs(r), version: r.int() }
    case Op.check:
      return { type, path: r.string(), version: r.int() }
    case Op.multi:
    case Op.multiRead:
      return { type, ops: readMultiOps(r) }
    case Op.reconfig:
      return { type, joiningServers: r.ustring(), leavingServers: r.ustring(), newMembers: r.ustring(), curConfigId: r.looseLong() }
    case Op.checkWatches:
    case Op.removeWatches:
      return { type, path: r.string(), watcherType: r.int() }
    case Op.auth:
      return { type, authType: r.int(), scheme: r.string(), auth: r.buffer() ?? new Uint8Array(0) }
    case Op.setWatches:
      return {
        type,
        relativeZxid: r.looseLong(),
        dataWatches: readStrings(r),
        existWatches: readStrings(r),
        childWatches: readStrings(r),
        persistentWatches: [],
        persistentRecursiveWatches: []
      }
    case Op.setWatches2:
      return {
        type,
        relativeZxid: r.looseLong(),
        dataWatches: readStrings(r),
        existWatches: readStrings(r),
        childWatches: readStrings(r),
        persistentWatches: readStrings(r),
        persistentRecursiveWatches: readStrings(r)
      }
    case Op.sasl:
      return { type, token: r.buffer() }
    case Op.addWatch:
      return { type, path: r.string(), mode: r.int() }
    case Op.ping:
    case Op.whoAmI:
    case Op.closeSession:
      return { type }
    default:
      return null
  }
}

const readMultiOps = (r: JuteReader): Array<Request> => {
  const ops: Array<Request> = []
  for (;;) {
    const type = r.int()
    const done = r.bool()
    r.int() // err: always -1 in requests
    if (done) return ops
    if (!multiOps.has(type)) throw new WireError({ reason: "BadRecord", detail: `op ${type} not allowed in multi` })
    ops.push(readRequest(r, type)!)
    if (ops.length > 100_000) throw new WireError({ reason: "BadRecord", detail: "too many multi ops" })
  }
}

/** Writes the body of a request (without its header). */
export const writeRequest = (w: JuteWriter, q: Request): void => {
  switch (q.type) {
    case Op.create:
    case Op.create2:
    case Op.createContainer:
    case Op.createTTL:
      w.ustring(q.path).buffer(q.data)
      writeACLs(w, q.acl)
      w.int(q.flags)
      if (q.type === Op.createTTL) w.long(q.ttl)
      return
    case Op.delete:
    case Op.check:
      w.ustring(q.path).int(q.version)
      return
    case Op.exists:
    case Op.getData:
    case Op.getChildren:
    case Op.getChildren2:
      w.ustring(q.path).bool(q.watch)
      return
    case Op.setData:
      w.ustring(q.path).buffer(q.data).int(q.version)
      return
    case Op.getACL:
    case Op.sync:
    case Op.getAllChildrenNumber:
    case Op.getEphemerals:
      w.ustring(q.path)
      return
    case Op.setACL:
      w.ustring(q.path)
      writeACLs(w, q.acl)
      w.int(q.version)
      return
    case Op.multi:
    case Op.multiRead:
      for (const op of q.ops) {
        w.int(op.type).bool(false).int(-1)
        writeRequest(w, op)
      }
      w.int(-1).bool(true).int(-1)
      return
    case Op.reconfig:
      w.ustring(q.joiningServers).ustring(q.leavingServers).ustring(q.newMembers).long(q.curConfigId)
      return
    case Op.checkWatches:
    case Op.removeWatches:
      w.ustring(q.path).int(q.watcherType)
      return
    case Op.auth:
      w.int(q.authType).ustring(q.scheme).buffer(q.auth)
      return
    case Op.setWatches:
    case Op.setWatches2:
      w.long(q.relativeZxid)
      writeStrings(w, q.dataWatches)
      writeStrings(w, q.existWatches)
      writeStrings(w, q.childWatches)
      if (q.type === Op.setWatches2) {
        writeStrings(w, q.persistentWatches)
        writeStrings(w, q.persistentRecursiveWatches)
      }
      return
    case Op.sasl:
      w.buffer(q.token)
      return
    case Op.addWatch:
      w.ustring(q.path).int(q.mode)
      return
    case Op.ping:
    case Op.whoAmI:
    case Op.closeSession:
      return
  }
}

// ---------------------------------------------------------------------------------------------
// Responses (client.md §6.3, §7.2)

export interface WatcherEvent {
  readonly type: number
  readonly state: number
  readonly path: string
}

export const readWatcherEvent = (r: JuteReader): WatcherEvent => ({ type: r.int(), state: r.int(), path: r.string() })
export const writeWatcherEvent = (w: JuteWriter, e: WatcherEvent): void => {
  w.int(e.type).int(e.state).ustring(e.path)
}

export interface ClientInfo {
  readonly authScheme: string
  readonly user: string
}

/** One result of multi/multiRead: `type` is the MultiHeader type (-1 for an error result). */
export type MultiResult =
  | { readonly type: typeof Op.create; readonly path: string }
  | { readonly type: typeof Op.create2; readonly path: string; readonly stat: Stat }
  | { readonly type: typeof Op.delete | typeof Op.check }
  | { readonly type: typeof Op.setData; readonly stat: Stat }
  | { readonly type: typeof Op.getData; readonly data: Uint8Array | null; readonly stat: Stat }
  | { readonly type: typeof Op.getChildren; readonly children: ReadonlyArray<string> }
  | { readonly type: typeof Op.error; readonly err: number }

/** Reads a MultiResponse (the sequence of results up to the terminator). */
export const readMultiResponse = (r: JuteReader): Array<MultiResult> => {
  const out: Array<MultiResult> = []
  for (;;) {
    const type = r.int()
    const done = r.bool()
    const err = r.int()
    if (done) return out
    switch (type) {
      case Op.create:
        out.push({ type, path: r.string() })
        break
      case Op.create2:
        out.push({ type, path: r.string(), stat: readStat(r) })
        break
      case Op.delete:
      case Op.check:
        out.push({ type })
        break
      case Op.setData:
        out.push({ type, stat: readStat(r) })
        break
      case Op.getData:
        out.push({ type, data: r.buffer(), stat: readStat(r) })
        break
      case Op.getChildren:
        out.push({ type, children: readStrings(r) })
        break
      case Op.error:
        r.int()
        out.push({ type, err })
        break
      default:
        throw new WireError({ reason: "BadRecord", detail: `multi result type ${type}` })
    }
  }
}

export const writeMultiResponse = (w: JuteWriter, results: ReadonlyArray<MultiResult>): void => {
  for (const res of results) {
    w.int(res.type).bool(false).int(res.type === Op.error ? res.err : 0)
    switch (res.type) {
      case Op.create:
        w.ustring(res.path)
        break
      case Op.create2:
        w.ustring(res.path)
        writeStat(w, res.stat)
        break
      case Op.setData:
        writeStat(w, res.stat)
        break
      case Op.getData:
        w.buffer(res.data)
        writeStat(w, res.stat)
        break
      case Op.getChildren:
        writeStrings(w, res.children)
        break
      case Op.error:
        w.int(res.err)
        break
      default:
        break
    }
  }
  w.int(-1).bool(true).int(-1)
}

/** The body of a successful reply, by the opcode it answers (client.md §6.3). */
export type Response =
  | { readonly type: "path"; readonly path: string }
  | { readonly type: "pathStat"; readonly path: string; readonly stat: Stat }
  | { readonly type: "stat"; readonly stat: Stat }
  | { readonly type: "data"; readonly data: Uint8Array | null; readonly stat: Stat }
  | { readonly type: "acl"; readonly acl: ReadonlyArray<ACL>; readonly stat: Stat }
  | { readonly type: "children"; readonly children: ReadonlyArray<string> }
  | { readonly type: "children2"; readonly children: ReadonlyArray<string>; readonly stat: Stat }
  | { readonly type: "number"; readonly n: number }
  | { readonly type: "strings"; readonly strings: ReadonlyArray<string> }
  | { readonly type: "multi"; readonly results: ReadonlyArray<MultiResult> }
  | { readonly type: "whoAmI"; readonly clientInfo: ReadonlyArray<ClientInfo> }
  | { readonly type: "sasl"; readonly token: Uint8Array | null }
  | { readonly type: "empty" }

/** Reads the body of a successful reply to a request of opcode `op`. */
export const readResponse = (r: JuteReader, op: number): Response => {
  switch (op) {
    case Op.create:
    case Op.sync:
      return { type: "path", path: r.string() }
    case Op.create2:
    case Op.createContainer:
    case Op.createTTL:
      return { type: "pathStat", path: r.string(), stat: readStat(r) }
    case Op.exists:
    case Op.setData:
    case Op.setACL:
      return { type: "stat", stat: readStat(r) }
    case Op.getData:
    case Op.reconfig:
      return { type: "data", data: r.buffer(), stat: readStat(r) }
    case Op.getACL:
      return { type: "acl", acl: readACLs(r), stat: readStat(r) }
    case Op.getChildren:
      return { type: "children", children: readStrings(r) }
    case Op.getChildren2:
      return { type: "children2", children: readStrings(r), stat: readStat(r) }
    case Op.getAllChildrenNumber:
    case Op.addWatch:
      return { type: "number", n: r.int() }
    case Op.getEphemerals:
      return { type: "strings", strings: readStrings(r) }
    case Op.multi:
    case Op.multiRead:
      return { type: "multi", results: readMultiResponse(r) }
    case Op.whoAmI:
      return { type: "whoAmI", clientInfo: r.vector((x) => ({ authScheme: x.string(), user: x.string() })) ?? [] }
    case Op.sasl:
      return { type: "sasl", token: r.buffer() }
    default:
      return { type: "empty" }
  }
}

export const writeResponse = (w: JuteWriter, res: Response): void => {
  switch (res.type) {
    case "path":
      w.ustring(res.path)
      return
    case "pathStat":
      w.ustring(res.path)
      writeStat(w, res.stat)
      return
    case "stat":
      writeStat(w, res.stat)
      return
    case "data":
      w.buffer(res.data)
      writeStat(w, res.stat)
      return
    case "acl":
      writeACLs(w, res.acl)
      writeStat(w, res.stat)
      return
    case "children":
      writeStrings(w, res.children)
      return
    case "children2":
      writeStrings(w, res.children)
      writeStat(w, res.stat)
      return
    case "number":
      w.int(res.n)
      return
    case "strings":
      writeStrings(w, res.strings)
      return
    case "multi":
      writeMultiResponse(w, res.results)
      return
    case "whoAmI":
      w.vector(res.clientInfo, (x, c) => x.ustring(c.authScheme).ustring(c.user))
      return
    case "sasl":
      w.buffer(res.token)
      return
    case "empty":
      return
  }
}
