/**
 * What the server sends (client.md §3, §4, §6.3, §7.2): the ConnectResponse, the ReplyHeader,
 * notifications and every reply body, as plain data plus a reader and writer.
 */
import { type ACL, readACLs, readStat, readStrings, type Stat, writeACLs, writeStat, writeStrings } from "./ClientData.js"
import { Op } from "./Codes.js"
import type { JuteReader, JuteWriter } from "./Jute.js"
import { WireError } from "./WireError.js"

// ---------------------------------------------------------------------------------------------
// Session establishment (client.md §3)

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
// Header (client.md §4)

export interface ReplyHeader {
  readonly xid: number
  readonly zxid: number
  readonly err: number
}

export const readReplyHeader = (r: JuteReader): ReplyHeader => ({ xid: r.int(), zxid: r.long(), err: r.int() })
export const writeReplyHeader = (w: JuteWriter, h: ReplyHeader): void => {
  w.int(h.xid).long(h.zxid).int(h.err)
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
