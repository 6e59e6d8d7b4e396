/**
 * ZooKeeper's tree digest (storage.md §4, digest version 2): the 64-bit wrapping sum of a CRC-32
 * per node. Kept as two unsigned 32-bit halves so no bigint is needed on the write path.
 */
import { encodeUtf8 } from "../wire/Jute.js"
import { crc32, crc32Ascii } from "./Crc32.js"
import type { ZNode } from "./ZNode.js"

const block = new Uint8Array(60)
const blockView = new DataView(block.buffer)

const putLong = (at: number, v: number): void => {
  const hi = Math.floor(v / 4294967296)
  blockView.setInt32(at, hi)
  blockView.setUint32(at + 4, v - hi * 4294967296)
}

const isAscii = (s: string): boolean => {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) >= 0x80) return false
  return true
}

/** The node fields the digest covers (a ZNode, or a prospective state of one). */
export type DigestFields = Pick<ZNode, "data" | "czxid" | "mzxid" | "pzxid" | "ctime" | "mtime" | "version" | "cversion" | "aversion" | "owner">

/** CRC of one node; nodes under /zookeeper/ contribute 0. `path` is "/" for the root. */
export const nodeDigest = (path: string, n: DigestFields): number => {
  if (path.startsWith("/zookeeper/")) return 0
  const p = path === "/" ? "" : path
  let c = isAscii(p) ? crc32Ascii(p) : crc32(encodeUtf8(p))
  if (n.data !== null) c = crc32(n.data, c)
  putLong(0, n.czxid)
  putLong(8, n.mzxid)
  putLong(16, n.pzxid)
  putLong(24, n.ctime)
  putLong(32, n.mtime)
  blockView.setInt32(40, n.version)
  blockView.setInt32(44, n.cversion)
  blockView.setInt32(48, n.aversion)
  blockView.setBigInt64(52, n.owner)
  return crc32(block, c)
}

/** The running digest of a whole tree. */
export class TreeDigest {
  hi = 0
  lo = 0

  add(crc: number): void {
    this.lo += crc
    if (this.lo >= 4294967296) {
      this.lo -= 4294967296
      this.hi = (this.hi + 1) >>> 0
    }
  }

  sub(crc: number): void {
    this.lo -= crc
    if (this.lo < 0) {
      this.lo += 4294967296
      this.hi = (this.hi - 1) >>> 0
    }
  }

  /** As a signed 64-bit value, the way it is logged. */
  get value(): bigint {
    return BigInt.asIntN(64, (BigInt(this.hi) << 32n) | BigInt(this.lo))
  }
}

/** One `hash` line: the tree digest right after the txn `zxid`. */
export interface ZxidDigest {
  readonly zxid: number
  readonly digest: bigint
}

/** A digest every this many zxids (0x80, so entries line up across servers: DataTree.DIGEST_LOG_INTERVAL). */
export const DIGEST_LOG_INTERVAL = 128
/** The most entries kept, oldest dropped first (DataTree.DIGEST_LOG_LIMIT). */
export const DIGEST_LOG_LIMIT = 1024

/** The recent history of tree digests the `hash` command prints, for comparing servers. */
export class DigestLog {
  private readonly items: Array<ZxidDigest> = []

  /** Called after the txn `zxid` is applied (a multi counts once). */
  record(zxid: number, digest: TreeDigest): void {
    if (zxid % DIGEST_LOG_INTERVAL !== 0) return
    this.items.push({ zxid, digest: digest.value })
    if (this.items.length > DIGEST_LOG_LIMIT) this.items.shift()
  }

  entries(): ReadonlyArray<ZxidDigest> {
    return this.items
  }
}
