/**
 * Transactions as they are logged and replicated (storage.md §2.3): TxnHeader, one record per
 * txn type, the optional TxnDigest, and the MultiTxn envelope.
 */
import { Op } from "./Codes.js"
import { type ACL, readACLs, writeACLs } from "./ClientRecords.js"
import { JuteReader, type JuteWriter } from "./Jute.js"
import { WireError } from "./WireError.js"

export interface TxnHeader {
  /** Session id of the client that caused the txn (0 for server-internal ones). */
  readonly clientId: bigint
  readonly cxid: number
  readonly zxid: number
  /** Leader wall clock, ms since the epoch. */
  readonly time: number
  readonly type: number
}

export type Txn =
  | { readonly type: typeof Op.createSession; readonly timeOut: number }
  /** paths null = an old log without the paths2Delete body. */
  | { readonly type: typeof Op.closeSession; readonly paths: ReadonlyArray<string> | null }
  | {
      readonly type: typeof Op.create | typeof Op.create2
      readonly path: string
      readonly data: Uint8Array | null
      readonly acl: ReadonlyArray<ACL>
      readonly ephemeral: boolean
      /** -1 for the legacy CreateTxnV0 record. */
      readonly parentCVersion: number
    }
  | {
      readonly type: typeof Op.createContainer
      readonly path: string
      readonly data: Uint8Array | null
      readonly acl: ReadonlyArray<ACL>
      readonly parentCVersion: number
    }
  | {
      readonly type: typeof Op.createTTL
      readonly path: string
      readonly data: Uint8Array | null
      readonly acl: ReadonlyArray<ACL>
      readonly parentCVersion: number
      readonly ttl: number
    }
  | { readonly type: typeof Op.delete | typeof Op.deleteContainer; readonly path: string }
  | { readonly type: typeof Op.setData | typeof Op.reconfig; readonly path: string; readonly data: Uint8Array | null; readonly version: number }
  | { readonly type: typeof Op.setACL; readonly path: string; readonly acl: ReadonlyArray<ACL>; readonly version: number }
  | { readonly type: typeof Op.check; readonly path: string; readonly version: number }
  /**
   * `rest`: in ZooKeeper's log a failed multi's sub-txns before the failing one have type error but keep
   * their original record (e.g. a SetDataTxn); ZooKeeper reads only the leading int. Kept to re-encode exactly.
   */
  | { readonly type: typeof Op.error; readonly err: number; readonly rest?: Uint8Array }
  | { readonly type: typeof Op.multi; readonly txns: ReadonlyArray<Txn> }

const EMPTY = new Uint8Array(0)

export type TxnOf<T extends Txn["type"]> = Extract<Txn, { readonly type: T }>

/** Tree digest after a txn (storage.md §4): a 64-bit wrapping sum, kept as two 32-bit halves. */
export interface TxnDigest {
  readonly version: number
  readonly hi: number
  readonly lo: number
}

export const readTxnHeader = (r: JuteReader): TxnHeader => ({
  clientId: r.bigLong(),
  cxid: r.int(),
  zxid: r.long(),
  time: r.long(),
  type: r.int()
})

export const writeTxnHeader = (w: JuteWriter, h: TxnHeader): void => {
  w.bigLong(h.clientId).int(h.cxid).long(h.zxid).long(h.time).int(h.type)
}

/** Reads the record of a txn of the given type; the reader must stop at the record's end. */
export const readTxn = (r: JuteReader, type: number): Txn => {
  switch (type) {
    case Op.createSession:
      return { type, timeOut: r.int() }
    case Op.closeSession:
      return { type, paths: r.remaining > 0 ? (r.vector((x) => x.string()) ?? []) : null }
    case Op.create:
    case Op.create2: {
      const path = r.string()
      const data = r.buffer()
      const acl = readACLs(r)
      const ephemeral = r.bool()
      // CreateTxnV0 has no parentCVersion; an EOF here means the legacy record.
      const parentCVersion = r.remaining >= 4 ? r.int() : -1
      return { type, path, data, acl, ephemeral, parentCVersion }
    }
    case Op.createContainer:
      return { type, path: r.string(), data: r.buffer(), acl: readACLs(r), parentCVersion: r.int() }
    case Op.createTTL:
      return { type, path: r.string(), data: r.buffer(), acl: readACLs(r), parentCVersion: r.int(), ttl: r.long() }
    case Op.delete:
    case Op.deleteContainer:
      return { type, path: r.string() }
    case Op.setData:
    case Op.reconfig:
      return { type, path: r.string(), data: r.buffer(), version: r.int() }
    case Op.setACL:
      return { type, path: r.string(), acl: readACLs(r), version: r.int() }
    case Op.check:
      return { type, path: r.string(), version: r.int() }
    case Op.error: {
      const err = r.int()
      if (r.remaining === 0) return { type, err }
      const rest = r.bytes.slice(r.pos, r.end)
      r.pos = r.end
      return { type, err, rest }
    }
    case Op.multi: {
      const txns =
        r.vector((x) => {
          const subType = x.int()
          // A view, not a copy: the sub-reader is done with it before this function returns.
          const body = x.bufferView() ?? EMPTY
          if (subType === Op.multi) throw new WireError({ reason: "BadRecord", detail: "nested multi txn" })
          const sub = new JuteReader(body)
          const txn = readTxn(sub, subType)
          sub.done()
          return txn
        }) ?? []
      return { type, txns }
    }
    default:
      throw new WireError({ reason: "BadRecord", detail: `unknown txn type ${type}` })
  }
}

/** Writes the record of a txn (no header, no digest). */
export const writeTxn = (w: JuteWriter, t: Txn): void => {
  switch (t.type) {
    case Op.createSession:
      w.int(t.timeOut)
      return
    case Op.closeSession:
      if (t.paths !== null) w.vector(t.paths, (x, s) => x.ustring(s))
      return
    case Op.create:
    case Op.create2:
      w.ustring(t.path).buffer(t.data)
      writeACLs(w, t.acl)
      w.bool(t.ephemeral)
      if (t.parentCVersion !== -1) w.int(t.parentCVersion)
      return
    case Op.createContainer:
      w.ustring(t.path).buffer(t.data)
      writeACLs(w, t.acl)
      w.int(t.parentCVersion)
      return
    case Op.createTTL:
      w.ustring(t.path).buffer(t.data)
      writeACLs(w, t.acl)
      w.int(t.parentCVersion).long(t.ttl)
      return
    case Op.delete:
    case Op.deleteContainer:
      w.ustring(t.path)
      return
    case Op.setData:
    case Op.reconfig:
      w.ustring(t.path).buffer(t.data).int(t.version)
      return
    case Op.setACL:
      w.ustring(t.path)
      writeACLs(w, t.acl)
      w.int(t.version)
      return
    case Op.check:
      w.ustring(t.path).int(t.version)
      return
    case Op.error:
      w.int(t.err)
      if (t.rest !== undefined) w.raw(t.rest)
      return
    case Op.multi:
      w.int(t.txns.length)
      for (const sub of t.txns) {
        w.int(sub.type)
        const mark = w.mark()
        writeTxn(w, sub)
        w.patch(mark)
      }
      return
  }
}

export const readTxnDigest = (r: JuteReader): TxnDigest => ({ version: r.int(), hi: r.int() >>> 0, lo: r.int() >>> 0 })
export const writeTxnDigest = (w: JuteWriter, d: TxnDigest): void => {
  w.int(d.version).int(d.hi | 0).int(d.lo | 0)
}

/** One logged txn: header, record and (except for error txns) the digest after applying it. */
export interface TxnEntry {
  readonly header: TxnHeader
  readonly txn: Txn
  readonly digest: TxnDigest | null
}

/** Digest version written by ZooKeeper 3.6+ (storage.md §2.3, §4); the only one we recognise. */
export const DIGEST_VERSION = 2

/**
 * Reads a txnEntry buffer (storage.md §2.2): the digest is optional (EOF = none).
 * The record has no length of its own, so it ends where a 12-byte digest starts, if any: when
 * the tail starts with digest version 2 and the record parses exactly up to it, the tail is the
 * digest; otherwise the record must use every byte. Error txns never carry a digest.
 * Only variable-shape records could parse both ways, and the one real case (a closeSession whose
 * whole body is `00000002 00000000 00000000`, i.e. two empty paths) cannot be written by a server.
 */
export const readTxnEntry = (bytes: Uint8Array): TxnEntry => {
  const r = new JuteReader(bytes)
  const header = readTxnHeader(r)
  const tail = bytes.length - 12
  if (header.type !== Op.error && tail >= r.pos && r.view.getInt32(tail) === DIGEST_VERSION) {
    const txn = tryReadTxn(bytes, r.pos, tail, header.type)
    if (txn !== undefined) return { header, txn, digest: readTxnDigest(new JuteReader(bytes, tail)) }
  }
  const body = new JuteReader(bytes, r.pos)
  const txn = readTxn(body, header.type)
  body.done()
  return { header, txn, digest: null }
}

/** The record in bytes[start, end) if it parses exactly; undefined if it does not. */
const tryReadTxn = (bytes: Uint8Array, start: number, end: number, type: number): Txn | undefined => {
  try {
    const body = new JuteReader(bytes, start, end)
    const txn = readTxn(body, type)
    return body.remaining === 0 ? txn : undefined
  } catch (e) {
    if (e instanceof WireError) return undefined
    throw e
  }
}

/** Writes a txnEntry buffer (no length, checksum or 0x42 marker: those belong to the log file). */
export const writeTxnEntry = (w: JuteWriter, e: TxnEntry): void => {
  writeTxnHeader(w, e.header)
  writeTxn(w, e.txn)
  if (e.digest !== null) writeTxnDigest(w, e.digest)
}
