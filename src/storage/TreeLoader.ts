/**
 * Builds a DataTree from the records of a snapshot body (storage.md §3.1: sessions, ACL cache,
 * nodes in pre-order) as they are read, for a whole file (Snapshot.decode) or a SNAP stream chunk
 * by chunk (SnapStream). Parents are found by comparing path bytes with the last path, so most
 * nodes cost no path string, and each node's digest is taken from its encoded bytes.
 */
import { Data } from "effect"
import { crc32 } from "../tree/Crc32.js"
import { DataTree, type DataTreeOptions } from "../tree/DataTree.js"
import { NO_OWNER, ZNode } from "../tree/ZNode.js"
import type { ACL } from "../wire/ClientRecords.js"
import { readACLs } from "../wire/ClientRecords.js"
import type { JuteReader } from "../wire/Jute.js"
import { WireError } from "../wire/WireError.js"

/** A snapshot that fails a check; recovery then falls back to an older one. */
export class SnapshotCorrupt extends Data.TaggedError("SnapshotCorrupt")<{
  readonly file: string
  readonly reason: "BadTail" | "BadMagic" | "Seal" | "BadRecord" | "BadTree"
  readonly detail: string
}> {
  override get message(): string {
    return `snapshot ${this.file} invalid (${this.reason}): ${this.detail}`
  }
}

/** The ACL given to nodes whose ref is missing: nobody but the super user may touch them. */
export const NO_ACCESS: ReadonlyArray<ACL> = []

const EMPTY_DATA = new Uint8Array(0)

// ignoreBOM: keep a leading U+FEFF as a character, as Java does.
const utf8 = new TextDecoder("utf-8", { ignoreBOM: true })

/** Node's native one-byte-per-character decoder (absent outside Node); works on any Uint8Array. */
const latin1Slice = (globalThis as { Buffer?: { prototype: { latin1Slice?: (this: Uint8Array, start: number, end: number) => string } } }).Buffer?.prototype.latin1Slice

/** Decodes bytes[start, end) as a string: ASCII (nearly all paths and names) through latin1Slice, which needs no view; else TextDecoder. */
const decodeText = (bytes: Uint8Array, start: number, end: number, ascii: boolean): string =>
  ascii && latin1Slice !== undefined ? latin1Slice.call(bytes, start, end) : utf8.decode(bytes.subarray(start, end))

/** A node's key: its path, "/" for the root (stored as ""). */
const pathString = (bytes: Uint8Array, start: number, end: number, ascii: boolean): string => (start === end ? "/" : decodeText(bytes, start, end, ascii))

/** Small node data is copied into shared chunks: a slice per node would cost an ArrayBuffer each. */
const ARENA_CHUNK_BYTES = 1 << 18
const ARENA_MAX_ITEM_BYTES = 4096

/**
 * Copies node data out of the file buffer (which must not stay referenced) into `chunk`, where
 * the node shares it (ZNode.shareData). Trade-off: a chunk lives while any node still holds its
 * original data.
 */
class DataArena {
  chunk = new Uint8Array(0)
  private at = 0
  /** Copies src[start, start + n) into `chunk` (a fresh one if it is full); returns where. */
  copy(src: Uint8Array, start: number, n: number): number {
    if (this.at + n > this.chunk.length) {
      this.chunk = new Uint8Array(ARENA_CHUNK_BYTES)
      this.at = 0
    }
    const at = this.at
    const chunk = this.chunk
    chunk.set(src.subarray(start, start + n), at)
    this.at = at + n
    return at
  }
}

const SYSTEM_PREFIX = [0x2f, 0x7a, 0x6f, 0x6f, 0x6b, 0x65, 0x65, 0x70, 0x65, 0x72, 0x2f] // "/zookeeper/"

/** Whether the path bytes[start, end) lies under /zookeeper/ (such nodes add nothing to the digest). */
const isSystemPath = (bytes: Uint8Array, start: number, end: number): boolean => {
  if (end - start < SYSTEM_PREFIX.length) return false
  for (let i = 0; i < SYSTEM_PREFIX.length; i++) if (bytes[start + i] !== SYSTEM_PREFIX[i]) return false
  return true
}

/**
 * nodeDigest (storage.md §4) over the encoded node: path bytes, data bytes, then the stat fields
 * in digest order (czxid, mzxid, pzxid, ctime, mtime, versions, owner) taken from StatPersisted's
 * order (czxid, mzxid, ctime, mtime, versions, owner, pzxid).
 */
const rawNodeDigest = (b: Uint8Array, pathStart: number, pathEnd: number, dataStart: number, dataLength: number, stat: number): number => {
  let c = crc32(b, 0, pathStart, pathEnd)
  if (dataLength > 0) c = crc32(b, c, dataStart, dataStart + dataLength)
  c = crc32(b, c, stat, stat + 16)
  c = crc32(b, c, stat + 52, stat + 60)
  return crc32(b, c, stat + 16, stat + 52)
}

/**
 * Builds a DataTree from the records of a snapshot body (sessions, ACL cache, nodes in pre-order)
 * as they are read: a whole file at once, or a SNAP stream chunk by chunk as it arrives. Each
 * call reads one complete record; a record that breaks the tree throws SnapshotCorrupt.
 */
export class TreeLoader {
  readonly tree: DataTree
  nodeCount = 0
  /** Parents found by path rather than on the chain (0 for a file in pre-order). */
  parentLookups = 0
  /** See LoadedSnapshot.unresolvedAcl. */
  readonly unresolvedAcl: Array<string> = []
  private readonly refs = new Set<number>()
  private placeholder: number | null = null
  // The ancestors of the last node loaded (in pre-order every parent is among them): their path
  // lengths, the nodes, and the last path's bytes, of which each of them is a prefix. Parents are
  // found by comparing bytes, so no path string is built for most nodes.
  private readonly chainLengths: Array<number> = []
  private readonly chainNodes: Array<ZNode> = []
  private chainDepth = 0
  private lastPath = new Uint8Array(256)
  private readonly arena = new DataArena()

  constructor(
    readonly options: DataTreeOptions,
    /** Names the source in errors. */
    readonly file: string
  ) {
    this.tree = DataTree.empty(options)
  }

  private bad(reason: SnapshotCorrupt["reason"], detail: string): SnapshotCorrupt {
    return new SnapshotCorrupt({ file: this.file, reason, detail })
  }

  /** One `(long sessionId, int timeout)`. */
  session(r: JuteReader): void {
    this.tree.sessions.set(r.bigLong(), r.int())
  }

  /** One ACL-cache entry `(long ref, vector<ACL>)`. */
  acl(r: JuteReader): void {
    const ref = r.long()
    this.tree.acls.load(ref, readACLs(r))
    this.refs.add(ref)
  }

  /** One node record; false (and nothing loaded) at the "/" terminator. */
  node(r: JuteReader): boolean {
    const { tree, chainLengths, chainNodes } = this
    const bytes = r.bytes
    const pathLength = r.int()
    const pathStart = r.pos
    if (pathLength < 0) {
      if (pathLength === -1) throw this.bad("BadTree", `null path after ${this.nodeCount} nodes`)
      throw new WireError({ reason: "BadLength", detail: `path length ${pathLength} at ${pathStart - 4}` })
    }
    if (pathLength > r.remaining) throw new WireError({ reason: "Truncated", detail: `path of ${pathLength} bytes at ${pathStart}` })
    const pathEnd = pathStart + pathLength
    r.pos = pathEnd
    if (pathLength === 1 && bytes[pathStart] === 0x2f) return false
    const isRoot = pathLength === 0
    if (!isRoot && bytes[pathStart] !== 0x2f) throw this.bad("BadTree", `path ${JSON.stringify(decodeText(bytes, pathStart, pathEnd, false))}`)
    const dataLength = r.int()
    const dataStart = r.pos
    if (dataLength < -1 || dataLength > r.remaining) throw this.bad("BadRecord", `data length ${dataLength} at ${dataStart - 4}`)
    const data = dataLength === -1 ? null : dataLength === 0 ? EMPTY_DATA : dataLength > ARENA_MAX_ITEM_BYTES ? bytes.slice(dataStart, dataStart + dataLength) : null
    const shareAt = data === null && dataLength > 0 ? this.arena.copy(bytes, dataStart, dataLength) : -1
    if (dataLength > 0) r.pos += dataLength
    let aclRef = r.long()
    const statStart = r.pos
    const czxid = r.long()
    const mzxid = r.long()
    const ctime = r.long()
    const mtime = r.long()
    const version = r.int()
    const cversion = r.int()
    const aversion = r.int()
    // Most nodes are persistent: share one 0n instead of allocating a bigint each.
    const view = r.view
    const owner = r.remaining >= 8 && view.getInt32(r.pos) === 0 && view.getInt32(r.pos + 4) === 0 ? ((r.pos += 8), NO_OWNER) : r.bigLong()
    const pzxid = r.long()

    // One pass over the path: whether it is ASCII, whether its parent's part equals the last
    // path's (then the parent is on the chain), and it becomes the last path.
    let slash = pathEnd - 1
    if (!isRoot) while (bytes[slash] !== 0x2f) slash--
    const parentLength = isRoot ? 0 : Math.max(1, slash - pathStart)
    if (pathLength > this.lastPath.length) {
      const grown = new Uint8Array(Math.max(pathLength, this.lastPath.length * 2))
      grown.set(this.lastPath)
      this.lastPath = grown
    }
    const last = this.lastPath
    let ascii = 0
    let sameParent = true
    for (let i = 0; i < pathLength; i++) {
      const b = bytes[pathStart + i]!
      ascii |= b
      if (i < parentLength && b !== last[i]) sameParent = false
      last[i] = b
    }
    // The root's key is "/", the prefix of every path.
    if (isRoot) last[0] = 0x2f
    // The full path as a string only where it is needed: owned nodes, non-ASCII paths (whose
    // length in UTF-16 units differs), errors.
    let path = owner !== NO_OWNER || ascii >= 0x80 ? pathString(bytes, pathStart, pathEnd, ascii < 0x80) : null
    if (aclRef !== -1 && !this.refs.has(aclRef)) {
      if (this.placeholder === null) this.placeholder = tree.acls.add(NO_ACCESS)
      aclRef = this.placeholder
      this.unresolvedAcl.push((path ??= pathString(bytes, pathStart, pathEnd, ascii < 0x80)))
    }
    // The node's digest straight from the encoded bytes (same value as nodeDigest, without re-encoding).
    const crc = !this.options.digestEnabled || isSystemPath(bytes, pathStart, pathEnd) ? 0 : rawNodeDigest(bytes, pathStart, pathEnd, dataStart, dataLength, statStart)
    const node = new ZNode(data, aclRef, czxid, mzxid, ctime, mtime, version, cversion, aversion, owner, pzxid)
    if (shareAt >= 0) node.shareData(this.arena.chunk, shareAt, dataLength)
    // The chain's length of this node's key ("/" for the root, so "/a" finds the root as its parent).
    const keyLength = isRoot ? 1 : pathLength
    let depth = 0
    if (isRoot) {
      if (!tree.loadRoot(node, crc)) throw this.bad("BadTree", "duplicate node /")
    } else {
      depth = this.chainDepth
      while (depth > 0 && chainLengths[depth - 1]! !== parentLength) depth--
      let parent: ZNode | undefined
      if (depth > 0 && sameParent) parent = chainNodes[depth - 1]!
      else {
        // Not on the chain (a file not in pre-order): look the parent up by path.
        const full = (path ??= pathString(bytes, pathStart, pathEnd, ascii < 0x80))
        parent = tree.get(full.slice(0, Math.max(1, full.lastIndexOf("/"))))
        if (parent === undefined) throw this.bad("BadTree", `parent of ${full} missing`)
        this.parentLookups++
        depth = 0
      }
      const name = decodeText(bytes, slash + 1, pathEnd, ascii < 0x80)
      if (!tree.loadChild(parent, name, node, crc, path, path === null ? pathLength : path.length)) throw this.bad("BadTree", `duplicate node ${pathString(bytes, pathStart, pathEnd, ascii < 0x80)}`)
    }
    chainLengths[depth] = keyLength
    chainNodes[depth] = node
    this.chainDepth = depth + 1
    this.nodeCount++
    return true
  }

  /** After the terminator: the finished tree, at `zxid`. */
  finish(zxid: number): DataTree {
    const tree = this.tree
    if (tree.get("/") === undefined) throw this.bad("BadTree", "no root node")
    if (this.placeholder !== null) tree.acls.release(this.placeholder)
    tree.acls.purgeUnused()
    tree.lastProcessedZxid = zxid
    return tree
  }
}
