/**
 * The client port's data types (client.md §6.1), shared by requests, responses and txns: Id, ACL,
 * Stat and string vectors, as plain data plus a reader and writer.
 */
import type { JuteReader, JuteWriter } from "./Jute.js"

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

/** A Jute vector of strings; null reads as empty. */
export const readStrings = (r: JuteReader): Array<string> => (r.vector((x) => x.string()) ?? [])
export const writeStrings = (w: JuteWriter, xs: ReadonlyArray<string> | null): void => {
  w.vector(xs, (x, s) => x.ustring(s))
}
