/**
 * ZooKeeper 3.8 snapshots, `snapshot.<hex zxid>` (storage.md §3): header, sessions, ACL cache,
 * nodes in pre-order (root as ""), the "/" terminator, seal 1 (Adler-32), the digest section and
 * seal 2.
 *
 * Reading and the format's facts live here; building the tree from the records in ./TreeLoader.ts;
 * writing in ./SnapshotWriter.ts. The writer is fuzzy, like ZooKeeper's: it walks the live tree in chunks, yielding to other
 * fibers between them, so the server keeps applying txns while it runs. Recovery replays every
 * txn after the snapshot's name zxid on top of it; txn application is idempotent (storage.md §5),
 * which makes the result exact. Two choices keep it exact:
 *  - nodes created after the snapshot started (czxid > name zxid) are left out with their whole
 *    subtree; their creates are in the log and recreate them;
 *  - the digest section is taken when the walk ends, as ZooKeeper does (DataTree.serializeZxidDigest):
 *    after replaying up to that zxid the tree must match it, so a fuzzy snapshot is still checked.
 */
import { Effect } from "effect"
import { adler32 } from "../tree/Crc32.js"
import type { DataTree, DataTreeOptions } from "../tree/DataTree.js"
import { JuteReader } from "../wire/Jute.js"
import { WireError } from "../wire/WireError.js"
import { Disk, type DiskError, join } from "../disk/Disk.js"
import { SnapshotCorrupt, TreeLoader } from "./TreeLoader.js"

export { NO_ACCESS, SnapshotCorrupt, TreeLoader } from "./TreeLoader.js"

/** "ZKSN". */
export const SNAP_MAGIC = 0x5a4b534e
export const SNAP_VERSION = 2
/** Snapshot header dbid (-1, unlike the log's 0). */
export const SNAP_DBID = -1
export const DIGEST_VERSION = 2

/** A snapshot's file name for the zxid it was started at. */
export const snapshotName = (zxid: number): string => `snapshot.${zxid.toString(16)}`

/** The zxid in a `snapshot.<hex>` name; null for anything else (temp files, compressed snapshots). */
export const parseSnapshotName = (name: string): number | null => {
  const m = /^snapshot\.([0-9a-fA-F]{1,16})$/.exec(name)
  if (m === null) return null
  const n = parseInt(m[1]!, 16)
  return Number.isSafeInteger(n) ? n : null
}

/** A snapshot file in a directory. */
export interface SnapshotFile {
  readonly name: string
  readonly zxid: number
}

/** The `snapshot.*` files of a directory, newest first. */
export const listSnapshots = (dir: string): Effect.Effect<ReadonlyArray<SnapshotFile>, DiskError, Disk> =>
  Effect.flatMap(Disk, (disk) =>
    Effect.map(disk.list(dir), (names) => {
      const out: Array<SnapshotFile> = []
      for (const name of names) {
        const zxid = parseSnapshotName(name)
        if (zxid !== null) out.push({ name, zxid })
      }
      return out.sort((a, b) => b.zxid - a.zxid)
    })
  )

/** The digest section: the tree digest right after txn `zxid` (storage.md §3.1 part 7). */
export interface ZxidDigest {
  readonly zxid: number
  readonly version: number
  readonly hi: number
  readonly lo: number
}

/** The 5 bytes every complete snapshot ends with: `ustring "/"`. */
const TAIL = [0, 0, 0, 1, 0x2f] as const

/** ZooKeeper's pre-check (SnapStream.isValidSnapshot): at least 10 bytes, ending in `00000001 2f`. */
export const hasValidTail = (size: number, last5: Uint8Array): boolean => {
  if (size < 10 || last5.length < 5) return false
  for (let i = 0; i < 5; i++) if (last5[last5.length - 5 + i] !== TAIL[i]) return false
  return true
}

/** Whether a snapshot file passes the pre-check, reading only its last 5 bytes. */
export const checkTail = (dir: string, name: string): Effect.Effect<boolean, DiskError, Disk> =>
  Effect.flatMap(Disk, (disk) =>
    Effect.acquireUseRelease(
      disk.open(join(dir, name), "read"),
      (h) => Effect.flatMap(h.size, (size) => (size < 10 ? Effect.succeed(false) : Effect.map(h.read(size - 5, 5), (b) => hasValidTail(size, b)))),
      (h) => Effect.ignore(h.close)
    )
  )

// ---------------------------------------------------------------------------------------------
// Reading

/** A snapshot loaded into a fresh DataTree. */
export interface LoadedSnapshot {
  /** The tree, with lastProcessedZxid = the name zxid. */
  readonly tree: DataTree
  /** The name zxid. */
  readonly zxid: number
  /** The digest section, or null when absent or empty (zxid 0). */
  readonly digest: ZxidDigest | null
  readonly nodeCount: number
  /**
   * Paths whose ACL ref was missing from the ACL section (a setACL raced a fuzzy snapshot). They get
   * an empty ACL (no access) until the setACL txn is replayed; recovery warns about any left.
   */
  readonly unresolvedAcl: ReadonlyArray<string>
}

/**
 * Decodes a complete snapshot file into a new DataTree; `zxid` is the one in its name. Checks
 * both seals, the tree shape (every parent before its children) and the record layouts.
 */
export const decode = (bytes: Uint8Array, file: string, zxid: number, options: DataTreeOptions): LoadedSnapshot | SnapshotCorrupt => {
  const bad = (reason: SnapshotCorrupt["reason"], detail: string) => new SnapshotCorrupt({ file, reason, detail })
  if (!hasValidTail(bytes.length, bytes.subarray(Math.max(0, bytes.length - 5)))) return bad("BadTail", `${bytes.length} bytes, no "/" at the end`)
  try {
    return decodeUnsafe(bytes, file, zxid, options, bad)
  } catch (e) {
    if (e instanceof SnapshotCorrupt) return e
    // RangeError: a DataView read past the end of a malformed file.
    if (e instanceof WireError || e instanceof RangeError) return bad("BadRecord", e.message)
    throw e
  }
}

const decodeUnsafe = (
  bytes: Uint8Array,
  file: string,
  zxid: number,
  options: DataTreeOptions,
  bad: (reason: SnapshotCorrupt["reason"], detail: string) => SnapshotCorrupt
): LoadedSnapshot | SnapshotCorrupt => {
  // Node data is bounded by jute.maxbuffer, but a snapshot may come from a server with a larger one.
  const r = new JuteReader(bytes, 0, bytes.length, 0x7fffffff)
  const magic = r.int()
  const version = r.int()
  r.long() // dbid: ZooKeeper writes -1 and never checks it.
  if (magic !== SNAP_MAGIC) return bad("BadMagic", `magic 0x${(magic >>> 0).toString(16)}`)
  if (version !== SNAP_VERSION) return bad("BadMagic", `version ${version}`)
  const loader = new TreeLoader(options, file)
  const sessionCount = r.int()
  for (let i = 0; i < sessionCount; i++) loader.session(r)
  const aclCount = r.int()
  for (let i = 0; i < aclCount; i++) loader.acl(r)
  while (loader.node(r)) {
    /* every node up to the "/" terminator */
  }
  const sealAt = r.pos
  const seal1 = adler32(bytes, 1, 0, sealAt)
  const stored1 = r.bigLong()
  r.ustring()
  if (stored1 !== BigInt(seal1)) return bad("Seal", `seal 1 stored ${stored1}, computed ${seal1}`)
  let digest: ZxidDigest | null = null
  // Snapshots from servers without digests end after seal 1.
  if (r.remaining > 0) {
    const dzxid = r.long()
    const dversion = r.int()
    if (dversion < 2) r.ustring() // pre-3.6.0 digests were hex strings; nothing to compare them with.
    else {
      const hi = r.int() >>> 0
      const lo = r.int() >>> 0
      if (dzxid > 0 && dversion === DIGEST_VERSION) digest = { zxid: dzxid, version: dversion, hi, lo }
    }
    const seal2At = r.pos
    const seal2 = adler32(bytes, seal1, sealAt, seal2At)
    const stored2 = r.bigLong()
    r.ustring()
    if (stored2 !== BigInt(seal2)) return bad("Seal", `seal 2 stored ${stored2}, computed ${seal2}`)
  }
  const tree = loader.finish(zxid)
  return { tree, zxid, digest, nodeCount: loader.nodeCount, unresolvedAcl: loader.unresolvedAcl }
}

/** Reads and decodes `dir/name`. */
export const read = (dir: string, name: string, options: DataTreeOptions): Effect.Effect<LoadedSnapshot, DiskError | SnapshotCorrupt, Disk> =>
  Effect.gen(function* () {
    const zxid = parseSnapshotName(name)
    if (zxid === null) return yield* new SnapshotCorrupt({ file: name, reason: "BadTail", detail: "not a snapshot.<hex zxid> name" })
    const disk = yield* Disk
    const bytes = yield* disk.readFile(join(dir, name))
    const out = decode(bytes, name, zxid, options)
    return out instanceof SnapshotCorrupt ? yield* out : out
  })
