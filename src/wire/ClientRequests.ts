/**
 * What a client sends (client.md §3, §4, §6.2): the ConnectRequest, the RequestHeader and every
 * request body, one union keyed by opcode, as plain data plus a reader and writer.
 */
import { type ACL, readACLs, readStrings, writeACLs, writeStrings } from "./ClientData.js"
import { Op } from "./Codes.js"
import type { JuteReader, JuteWriter } from "./Jute.js"
import { WireError } from "./WireError.js"

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

// ---------------------------------------------------------------------------------------------
// Header (client.md §4)

export interface RequestHeader {
  readonly xid: number
  readonly type: number
}

export const readRequestHeader = (r: JuteReader): RequestHeader => ({ xid: r.int(), type: r.int() })
export const writeRequestHeader = (w: JuteWriter, h: RequestHeader): void => {
  w.int(h.xid).int(h.type)
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
