/**
 * Helpers for the golden tests: loading the captured vectors (shared/protocol/vectors) without
 * losing 64-bit integers, and normalising our decoded values into the JSON shape of their
 * `decoded` fields so the two can be compared with one deepStrictEqual.
 */
import { readFileSync } from "node:fs"
import { fileURLToPath } from "node:url"
import * as C from "../../src/wire/ClientRecords.js"
import { errName, Op, opName } from "../../src/wire/Codes.js"
import * as T from "../../src/wire/TxnRecords.js"

/**
 * Root of the golden vectors: the repository's copy of shared/protocol/vectors
 * (test/fixtures/vectors); override with EZK_VECTORS_DIR.
 */
export const vectorsDir: string = process.env["EZK_VECTORS_DIR"] ?? fileURLToPath(new URL("../fixtures/vectors/", import.meta.url))

export const readVector = (rel: string): Buffer => readFileSync(`${vectorsDir.replace(/\/$/, "")}/${rel}`)

// ---------------------------------------------------------------------------------------------
// JSON with 64-bit integers

const BIG = "\u0000big:"

/**
 * JSON.parse that keeps integers beyond 2^53 exact (session ids are 64-bit): long digit runs
 * outside strings are quoted first, then turned back into a number when that is exact and into
 * a bigint otherwise.
 */
export const parseJsonExact = (text: string): unknown => {
  let out = ""
  let i = 0
  let inString = false
  while (i < text.length) {
    const ch = text[i]!
    if (inString) {
      out += ch
      if (ch === "\\") {
        out += text[i + 1] ?? ""
        i += 2
        continue
      }
      if (ch === '"') inString = false
      i++
      continue
    }
    if (ch === '"') {
      inString = true
      out += ch
      i++
      continue
    }
    if (ch === "-" || (ch >= "0" && ch <= "9")) {
      let j = i + 1
      while (j < text.length && /[0-9.eE+-]/.test(text[j]!)) j++
      const num = text.slice(i, j)
      out += /^-?\d{16,}$/.test(num) ? JSON.stringify(BIG + num) : num
      i = j
      continue
    }
    out += ch
    i++
  }
  return JSON.parse(out, (_k, v) => {
    if (typeof v === "string" && v.startsWith(BIG)) return exactInt(BigInt(v.slice(BIG.length)))
    return v
  })
}

/** A 64-bit integer as a number when that is exact, else as a bigint (the comparison form). */
export const exactInt = (v: bigint | number): number | bigint => {
  if (typeof v === "number") return v
  const n = Number(v)
  return Number.isSafeInteger(n) ? n : v
}

/** A long read with looseLong: beyond 2^53 it is compared as the exact integer it stands for. */
export const longJson = (v: number): number | bigint => (Number.isSafeInteger(v) ? v : BigInt(v))

export const readJsonl = (rel: string): Array<Record<string, any>> =>
  readVector(rel)
    .toString("utf8")
    .split("\n")
    .filter((l) => l.trim() !== "")
    .map((l) => parseJsonExact(l) as Record<string, any>)

export const readJson = (rel: string): Record<string, any> => parseJsonExact(readVector(rel).toString("utf8")) as Record<string, any>

// ---------------------------------------------------------------------------------------------
// Bytes

export const fromHex = (hex: string): Uint8Array => Uint8Array.from(Buffer.from(hex, "hex"))
export const toHex = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString("hex")

/** Buffers in the vectors are `{utf8}` or `{hex}`; ours are always `{hex}`. */
export const buf = (b: Uint8Array | null): { hex: string } | null => (b === null ? null : { hex: toHex(b) })

/** Rewrites every `{utf8: s}` in an expected value as `{hex}` so both sides use one form. */
export const canonical = (v: unknown): unknown => {
  if (Array.isArray(v)) return v.map(canonical)
  if (v !== null && typeof v === "object") {
    const o = v as Record<string, unknown>
    const keys = Object.keys(o)
    if (keys.length === 1 && keys[0] === "utf8" && typeof o["utf8"] === "string") {
      return { hex: Buffer.from(o["utf8"], "utf8").toString("hex") }
    }
    const out: Record<string, unknown> = {}
    for (const k of keys) out[k] = canonical(o[k])
    return out
  }
  return v
}

// ---------------------------------------------------------------------------------------------
// Normalisers: our values → the vectors' JSON shape

const acls = (a: ReadonlyArray<C.ACL>) => a.map((x) => ({ perms: x.perms, id: { scheme: x.id.scheme, id: x.id.id } }))

export const stat = (s: C.Stat) => ({
  czxid: s.czxid,
  mzxid: s.mzxid,
  ctime: s.ctime,
  mtime: s.mtime,
  version: s.version,
  cversion: s.cversion,
  aversion: s.aversion,
  ephemeralOwner: exactInt(s.ephemeralOwner),
  dataLength: s.dataLength,
  numChildren: s.numChildren,
  pzxid: s.pzxid
})

export const errNameJson = (err: number): string => (err === 0 ? "OK" : errName(err))

export const connectRequest = (c: C.ConnectRequest) => ({
  record: "ConnectRequest",
  protocolVersion: c.protocolVersion,
  lastZxidSeen: longJson(c.lastZxidSeen),
  timeOut: c.timeOut,
  sessionId: exactInt(c.sessionId),
  passwd: buf(c.passwd),
  readOnly: c.readOnly ?? "absent (old client)"
})

export const connectResponse = (c: C.ConnectResponse) => ({
  record: "ConnectResponse",
  protocolVersion: c.protocolVersion,
  timeOut: c.timeOut,
  sessionId: exactInt(c.sessionId),
  passwd: buf(c.passwd),
  readOnly: c.readOnly ?? "absent"
})

/** The `body` object of a request (not used for multi, whose ops sit beside the header). */
export const requestBody = (q: C.Request): Record<string, unknown> => {
  switch (q.type) {
    case Op.create:
    case Op.create2:
    case Op.createContainer:
      return { path: q.path, data: buf(q.data), acl: acls(q.acl), flags: q.flags }
    case Op.createTTL:
      return { path: q.path, data: buf(q.data), acl: acls(q.acl), flags: q.flags, ttl: q.ttl }
    case Op.delete:
    case Op.check:
      return { path: q.path, version: q.version }
    case Op.exists:
    case Op.getData:
    case Op.getChildren:
    case Op.getChildren2:
      return { path: q.path, watch: q.watch }
    case Op.setData:
      return { path: q.path, data: buf(q.data), version: q.version }
    case Op.getEphemerals:
      return { prefixPath: q.path }
    case Op.getACL:
    case Op.sync:
    case Op.getAllChildrenNumber:
      return { path: q.path }
    case Op.setACL:
      return { path: q.path, acl: acls(q.acl), version: q.version }
    case Op.reconfig:
      return {
        joiningServers: q.joiningServers,
        leavingServers: q.leavingServers,
        newMembers: q.newMembers,
        curConfigId: q.curConfigId
      }
    case Op.checkWatches:
    case Op.removeWatches:
      return { path: q.path, type: q.watcherType }
    case Op.auth:
      return { type: q.authType, scheme: q.scheme, auth: buf(q.auth) }
    case Op.setWatches:
      return { relativeZxid: q.relativeZxid, dataWatches: q.dataWatches, existWatches: q.existWatches, childWatches: q.childWatches }
    case Op.setWatches2:
      return {
        relativeZxid: q.relativeZxid,
        dataWatches: q.dataWatches,
        existWatches: q.existWatches,
        childWatches: q.childWatches,
        persistentWatches: q.persistentWatches,
        persistentRecursiveWatches: q.persistentRecursiveWatches
      }
    case Op.sasl:
      return { token: buf(q.token) }
    case Op.addWatch:
      return { path: q.path, mode: q.mode }
    case Op.ping:
    case Op.whoAmI:
    case Op.closeSession:
      return {}
    case Op.multi:
    case Op.multiRead:
      throw new Error("multi has no body object")
  }
}

export const request = (h: C.RequestHeader, q: C.Request) => {
  const base = { record: "RequestHeader", xid: h.xid, type: h.type, op: opName(h.type) }
  if (q.type === Op.multi || q.type === Op.multiRead) {
    return {
      ...base,
      ops: q.ops.map((op) => ({ header: { type: op.type, done: false, err: -1 }, op: opName(op.type), body: requestBody(op) }))
    }
  }
  return { ...base, body: requestBody(q) }
}

const multiResult = (r: C.MultiResult) => {
  const header = { type: r.type, done: false, err: r.type === Op.error ? r.err : 0 }
  const op = opName(r.type)
  switch (r.type) {
    case Op.create:
      return { header, op, body: { path: r.path } }
    case Op.create2:
      return { header, op, body: { path: r.path, stat: stat(r.stat) } }
    case Op.delete:
    case Op.check:
      return { header, op, body: {} }
    case Op.setData:
      return { header, op, body: { stat: stat(r.stat) } }
    case Op.getData:
      return { header, op, body: { data: buf(r.data), stat: stat(r.stat) } }
    case Op.getChildren:
      return { header, op, body: { children: r.children } }
    case Op.error:
      return { header, op, body: { err: r.err } }
  }
}

/** The fields a reply adds beside the header: `body`, `results` (multi) or nothing. */
export const responseFields = (op: number, res: C.Response): Record<string, unknown> => {
  switch (res.type) {
    case "path":
      return { body: { path: res.path } }
    case "pathStat":
      return { body: { path: res.path, stat: stat(res.stat) } }
    case "stat":
      return { body: { stat: stat(res.stat) } }
    case "data":
      return { body: { data: buf(res.data), stat: stat(res.stat) } }
    case "acl":
      return { body: { acl: acls(res.acl), stat: stat(res.stat) } }
    case "children":
      return { body: { children: res.children } }
    case "children2":
      return { body: { children: res.children, stat: stat(res.stat) } }
    case "number":
      return { body: op === Op.addWatch ? { err: res.n } : { totalNumber: res.n } }
    case "strings":
      return { body: { ephemerals: res.strings } }
    case "multi":
      return { results: res.results.map(multiResult) }
    case "whoAmI":
      return { body: { clientInfo: res.clientInfo.map((c) => ({ authScheme: c.authScheme, user: c.user })) } }
    case "sasl":
      return { body: { token: buf(res.token) } }
    case "empty":
      return {}
  }
}

export const replyHeader = (h: C.ReplyHeader) => ({
  record: "ReplyHeader",
  xid: h.xid,
  zxid: h.zxid,
  err: h.err,
  errName: errNameJson(h.err)
})

// ---------------------------------------------------------------------------------------------
// Txns (datadir-*.json)

export const txnHeader = (h: T.TxnHeader) => ({
  clientId: exactInt(h.clientId),
  cxid: h.cxid,
  zxid: h.zxid,
  time: h.time,
  type: h.type
})

export const txnRecord = (t: T.Txn, subBytes: (t: T.Txn) => Uint8Array): Record<string, unknown> => {
  switch (t.type) {
    case Op.createSession:
      return { timeOut: t.timeOut }
    case Op.closeSession:
      return t.paths === null ? {} : { paths2Delete: t.paths }
    case Op.create:
    case Op.create2:
      return { path: t.path, data: buf(t.data), acl: acls(t.acl), ephemeral: t.ephemeral, parentCVersion: t.parentCVersion }
    case Op.createContainer:
      return { path: t.path, data: buf(t.data), acl: acls(t.acl), parentCVersion: t.parentCVersion }
    case Op.createTTL:
      return { path: t.path, data: buf(t.data), acl: acls(t.acl), parentCVersion: t.parentCVersion, ttl: t.ttl }
    case Op.delete:
    case Op.deleteContainer:
      return { path: t.path }
    case Op.setData:
    case Op.reconfig:
      return { path: t.path, data: buf(t.data), version: t.version }
    case Op.setACL:
      return { path: t.path, acl: acls(t.acl), version: t.version }
    case Op.check:
      return { path: t.path, version: t.version }
    case Op.error:
      return { err: t.err }
    case Op.multi:
      return {
        txns: t.txns.map((sub) => ({
          type: sub.type,
          data: buf(subBytes(sub)),
          op: opName(sub.type),
          record: txnRecord(sub, subBytes)
        }))
      }
  }
}

export const txnDigest = (d: T.TxnDigest | null) =>
  d === null ? null : { version: d.version, treeDigest: exactInt((BigInt(d.hi) << 32n) | BigInt(d.lo)) }
