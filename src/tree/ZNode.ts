/**
 * One znode: data, ACL ref and the persisted stat (StatPersisted, storage.md §3.1). Kept as a
 * flat class so a million of them stay small; client-visible Stat values are derived on write.
 */
import type { Stat } from "../wire/ClientRecords.js"
import type { JuteWriter } from "../wire/Jute.js"

/** Stored ephemeralOwner of a container node (Long.MIN_VALUE). */
export const CONTAINER_OWNER = -0x8000000000000000n
/** Shared value for persistent nodes, so they do not each hold a bigint. */
export const NO_OWNER = 0n

/** Largest TTL in ms (40 bits). */
export const MAX_TTL = 0xff_ffff_ffff

/** TTL owner encoding: top byte 0xFF, 16 zero bits, 40-bit ttl (storage.md §3.2). */
export const ttlOwner = (ttl: number): bigint => BigInt.asIntN(64, 0xff00000000000000n | BigInt(ttl))

export type NodeKind = "persistent" | "ephemeral" | "container" | "ttl"

/** What kind of node a stored owner denotes; TTL encodings only count with extended types on. */
export const kindOfOwner = (owner: bigint, extendedTypes: boolean): NodeKind => {
  if (owner === 0n) return "persistent"
  if (owner === CONTAINER_OWNER) return "container"
  if (extendedTypes && owner < 0n && (owner >> 56n) === -1n && ((owner >> 40n) & 0xffffn) === 0n) return "ttl"
  return "ephemeral"
}

/** TTL in ms of a TTL owner encoding. */
export const ttlOfOwner = (owner: bigint): number => Number(owner & 0xff_ffff_ffffn)

/**
 * Zxids and times are above 2^31, where V8 boxes a number field in a heap object of its own: a
 * node keeps each as two small integers instead (high part, low 30 bits), which saves five
 * allocations and ~60 bytes per node (~15 % of loading a 1M-node snapshot).
 */
const LOW = 1073741824

/** Writes hi * 2^30 + lo as a big-endian 64-bit integer: the upper word is hi / 4 (rounded down), the lower the rest. */
const putSplit = (v: DataView, at: number, hi: number, lo: number): void => {
  v.setInt32(at, hi >> 2)
  v.setUint32(at + 4, ((hi & 3) * LOW + lo) >>> 0)
}

export class ZNode {
  /** Children by name, in creation order (the snapshot order); null for a leaf, to keep leaves small. */
  children: Map<string, ZNode> | null = null

  /** The data; while `sharedAt >= 0`, the shared chunk that holds it (see `shareData`). */
  private stored: Uint8Array | null
  private sharedAt = -1
  private sharedLength = 0
  // Set through the setters in the constructor. Initialising them to 0 here as well cost ~20 % of
  // loading a 1M-node snapshot (bench/snap-load.ts: 1,750 → 2,250 ms CPU).
  private czxidHi!: number
  private czxidLo!: number
  private mzxidHi!: number
  private mzxidLo!: number
  private ctimeHi!: number
  private ctimeLo!: number
  private mtimeHi!: number
  private mtimeLo!: number
  private pzxidHi!: number
  private pzxidLo!: number
  /** The CRC in two 16-bit halves (a CRC of 2^30 or more would be boxed too). */
  private digestHi = 0
  private digestLo = 0

  constructor(
    data: Uint8Array | null,
    public aclRef: number,
    czxid: number,
    mzxid: number,
    ctime: number,
    mtime: number,
    public version: number,
    /** Stored cversion: number of child creations (client.md §9). */
    public cversion: number,
    public aversion: number,
    public owner: bigint,
    pzxid: number
  ) {
    this.stored = data
    this.czxid = czxid
    this.mzxid = mzxid
    this.ctime = ctime
    this.mtime = mtime
    this.pzxid = pzxid
  }

  get czxid(): number {
    return this.czxidHi * LOW + this.czxidLo
  }

  set czxid(v: number) {
    this.czxidHi = Math.floor(v / LOW)
    this.czxidLo = v - this.czxidHi * LOW
  }

  get mzxid(): number {
    return this.mzxidHi * LOW + this.mzxidLo
  }

  set mzxid(v: number) {
    this.mzxidHi = Math.floor(v / LOW)
    this.mzxidLo = v - this.mzxidHi * LOW
  }

  get ctime(): number {
    return this.ctimeHi * LOW + this.ctimeLo
  }

  set ctime(v: number) {
    this.ctimeHi = Math.floor(v / LOW)
    this.ctimeLo = v - this.ctimeHi * LOW
  }

  get mtime(): number {
    return this.mtimeHi * LOW + this.mtimeLo
  }

  set mtime(v: number) {
    this.mtimeHi = Math.floor(v / LOW)
    this.mtimeLo = v - this.mtimeHi * LOW
  }

  get pzxid(): number {
    return this.pzxidHi * LOW + this.pzxidLo
  }

  set pzxid(v: number) {
    this.pzxidHi = Math.floor(v / LOW)
    this.pzxidLo = v - this.pzxidHi * LOW
  }

  /**
   * Writes StatPersisted (czxid, mzxid, ctime, mtime, version, cversion, aversion, ephemeralOwner,
   * pzxid: the snapshot's layout) straight from the split fields.
   */
  writePersistedStat(w: JuteWriter): void {
    w.ensure(60)
    const v = w.view
    const at = w.pos
    putSplit(v, at, this.czxidHi, this.czxidLo)
    putSplit(v, at + 8, this.mzxidHi, this.mzxidLo)
    putSplit(v, at + 16, this.ctimeHi, this.ctimeLo)
    putSplit(v, at + 24, this.mtimeHi, this.mtimeLo)
    v.setInt32(at + 32, this.version)
    v.setInt32(at + 36, this.cversion)
    v.setInt32(at + 40, this.aversion)
    if (this.owner === NO_OWNER) {
      v.setInt32(at + 44, 0)
      v.setInt32(at + 48, 0)
    } else v.setBigInt64(at + 44, this.owner)
    putSplit(v, at + 52, this.pzxidHi, this.pzxidLo)
    w.pos = at + 60
  }

  /** This node's share of the tree digest (kept by DataTree), so a change hashes only the new state. */
  get digest(): number {
    return this.digestHi * 65536 + this.digestLo
  }

  set digest(crc: number) {
    this.digestHi = crc >>> 16
    this.digestLo = crc & 0xffff
  }

  get data(): Uint8Array | null {
    if (this.sharedAt >= 0) {
      this.stored = this.stored!.subarray(this.sharedAt, this.sharedAt + this.sharedLength)
      this.sharedAt = -1
    }
    return this.stored
  }

  set data(data: Uint8Array | null) {
    this.stored = data
    this.sharedAt = -1
  }

  /** Data length without making a view of shared data. */
  get dataLength(): number {
    return this.sharedAt >= 0 ? this.sharedLength : this.stored === null ? 0 : this.stored.length
  }

  /**
   * Sets the data to `length` bytes at `at` of `chunk`, which many nodes share (snapshot loading):
   * the view is made when the data is first read, which most loaded nodes never are — a view
   * costs ~80 bytes and an allocation, more than the 3 fields this adds to every node.
   */
  shareData(chunk: Uint8Array, at: number, length: number): void {
    this.stored = chunk
    this.sharedAt = at
    this.sharedLength = length
  }

  get numChildren(): number {
    return this.children === null ? 0 : this.children.size
  }
}

/** The ephemeralOwner clients see: 0 for containers and TTL nodes (client.md §9). */
export const clientOwner = (owner: bigint): bigint => (owner < 0n && owner === CONTAINER_OWNER) || isTtlLike(owner) ? 0n : owner

const isTtlLike = (owner: bigint): boolean => owner < 0n && (owner >> 56n) === -1n && ((owner >> 40n) & 0xffffn) === 0n

/** Writes the 68-byte client Stat of a node straight from its fields (hot path: no Stat object). */
export const writeNodeStat = (w: JuteWriter, n: ZNode): void => {
  const numChildren = n.children === null ? 0 : n.children.size
  w.long(n.czxid).long(n.mzxid).long(n.ctime).long(n.mtime)
  w.int(n.version).int(n.cversion * 2 - numChildren).int(n.aversion)
  w.bigLong(n.owner === NO_OWNER ? NO_OWNER : clientOwner(n.owner))
  w.int(n.dataLength).int(numChildren).long(n.pzxid)
}

/** The client Stat of a node as a value (cold paths, multi results). */
export const nodeStat = (n: ZNode): Stat => {
  const numChildren = n.numChildren
  return {
    czxid: n.czxid,
    mzxid: n.mzxid,
    ctime: n.ctime,
    mtime: n.mtime,
    version: n.version,
    cversion: n.cversion * 2 - numChildren,
    aversion: n.aversion,
    ephemeralOwner: clientOwner(n.owner),
    dataLength: n.dataLength,
    numChildren,
    pzxid: n.pzxid
  }
}
