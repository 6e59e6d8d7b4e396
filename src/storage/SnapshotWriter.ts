/**
 * Writing ZooKeeper 3.8 snapshots (the format: ./Snapshot.ts): `SnapshotEncoder` turns a tree into
 * snapshot bytes step by step, `write` walks a live tree in chunks — fuzzy, like ZooKeeper's — and
 * writes `snapshot.<zxid>` through a temporary file, fsynced before the rename.
 */
import { Effect } from "effect"
import { adler32 } from "../tree/Crc32.js"
import type { DataTree } from "../tree/DataTree.js"
import type { ZNode } from "../tree/ZNode.js"
import type { ACL } from "../wire/ClientRecords.js"
import { writeACLs } from "../wire/ClientRecords.js"
import { JuteWriter } from "../wire/Jute.js"
import { Disk, type DiskError, join } from "../disk/Disk.js"
import { DIGEST_VERSION, SNAP_DBID, SNAP_MAGIC, SNAP_VERSION, snapshotName, type ZxidDigest } from "./Snapshot.js"

/** Tuning of the snapshot writer. */
export interface WriteOptions {
  /** Child entries visited between two yields to other fibers (default 1000, about 1–2 ms of work). */
  readonly chunkNodes?: number
  /** Encoded bytes gathered before one file write (default 256 KiB). */
  readonly flushBytes?: number
  /** Yield to other fibers between chunks (default true: a fuzzy snapshot of a serving tree). */
  readonly fuzzy?: boolean
}

/** What a written snapshot holds. */
export interface SnapshotInfo {
  readonly name: string
  /** Name zxid: tree.lastProcessedZxid when the snapshot started. */
  readonly zxid: number
  readonly nodes: number
  /** Subtrees left out because they were created after the start. */
  readonly skippedSubtrees: number
  /** Nodes written with an ACL ref that the ACL section lacks (setACL with a new list during the walk). */
  readonly unknownAclRefs: number
  readonly bytes: number
  /** The digest section written (null: digest disabled or nothing applied yet). */
  readonly digest: ZxidDigest | null
}

interface Frame {
  /** The parent's path and "/" in UTF-8: children's paths are written from it and their names, never built as strings. */
  readonly prefix: Uint8Array
  readonly node: ZNode
  /** The parent's child names when it was reached (the fuzzy walk must not trip over later creates). */
  readonly names: ReadonlyArray<string>
  i: number
}

const aclKey = (acl: ReadonlyArray<ACL>): string => {
  let k = ""
  for (const a of acl) k += `${a.perms}\u0000${a.id.scheme}\u0000${a.id.id}\u0001`
  return k
}

const ROOT_PREFIX = new Uint8Array([0x2f])
const utf8 = new TextEncoder()

/** Writes the jute string `prefix` + UTF-8 of `name` (a child's path from its parent's). */
const writePath = (w: JuteWriter, prefix: Uint8Array, name: string): void => {
  const n = name.length
  w.ensure(4 + prefix.length + n * 3)
  const bytes = w.bytes
  const start = w.pos + 4
  let at = start
  for (let i = 0; i < prefix.length; i++) bytes[at++] = prefix[i]!
  let i = 0
  // ASCII fast path; TextEncoder from the first wider character.
  for (; i < n; i++) {
    const c = name.charCodeAt(i)
    if (c >= 0x80) break
    bytes[at++] = c
  }
  if (i < n) at += utf8.encodeInto(name.slice(i), bytes.subarray(at)).written
  w.view.setInt32(w.pos, at - start)
  w.pos = at
}

/**
 * Encodes a tree into snapshot bytes step by step (pure and synchronous; `write` does the I/O and
 * the yielding). Header, sessions and ACLs are taken at construction, in one synchronous step
 * together with the name zxid.
 */
export class SnapshotEncoder {
  readonly out = new JuteWriter(1 << 16)
  readonly zxid: number
  private readonly stack: Array<Frame> = []
  private readonly writtenRefs = new Set<number>()
  private readonly refByKey = new Map<string, number>()
  /** Adler-32 of every byte already taken out of `out`. */
  private adler = 1
  /** Bytes already taken out of `out`. */
  taken = 0
  nodes = 0
  skippedSubtrees = 0
  unknownAclRefs = 0
  digest: ZxidDigest | null = null

  /** `fileHeader: false` for the SNAP stream, which is the file without its header (SnapStream). */
  constructor(
    readonly tree: DataTree,
    fileHeader = true
  ) {
    this.zxid = tree.lastProcessedZxid
    const w = this.out
    if (fileHeader) w.int(SNAP_MAGIC).int(SNAP_VERSION).long(SNAP_DBID)
    w.int(tree.sessions.size)
    for (const [id, timeout] of tree.sessions) w.bigLong(id).int(timeout)
    w.int(tree.acls.size)
    for (const [ref, { acl }] of tree.acls.entries()) {
      w.long(ref)
      writeACLs(w, acl)
      this.writtenRefs.add(ref)
      this.refByKey.set(aclKey(acl), ref)
    }
    const root = tree.get("/")
    if (root === undefined) throw new Error("tree without a root")
    this.writeNode("", root)
    if (root.children !== null && root.children.size > 0) this.stack.push({ prefix: ROOT_PREFIX, node: root, names: [...root.children.keys()], i: 0 })
  }

  /** Visits up to `maxNodes` child entries or until `maxBytes` are buffered; true when the walk is over. */
  step(maxNodes: number, maxBytes: number): boolean {
    const { stack } = this
    let n = 0
    while (stack.length > 0 && n < maxNodes && this.out.pos < maxBytes) {
      const top = stack[stack.length - 1]!
      if (top.i >= top.names.length) {
        stack.pop()
        continue
      }
      const name = top.names[top.i++]!
      n++
      // Deleted since its parent was visited: its delete is replayed anyway.
      const node = top.node.children?.get(name)
      if (node === undefined) continue
      // Created after the start (so is everything below it): the log recreates it.
      if (node.czxid > this.zxid) {
        this.skippedSubtrees++
        continue
      }
      const pathAt = this.out.pos + 4
      writePath(this.out, top.prefix, name)
      const pathEnd = this.out.pos
      this.writeRest(node)
      if (node.children !== null && node.children.size > 0) {
        const prefix = new Uint8Array(pathEnd - pathAt + 1)
        prefix.set(this.out.bytes.subarray(pathAt, pathEnd))
        prefix[prefix.length - 1] = 0x2f
        stack.push({ prefix, node, names: [...node.children.keys()], i: 0 })
      }
    }
    return stack.length === 0
  }

  private writeNode(path: string, node: ZNode): void {
    this.out.ustring(path)
    this.writeRest(node)
  }

  /** A node record after its path. */
  private writeRest(node: ZNode): void {
    const w = this.out
    w.buffer(node.data).long(this.refFor(node.aclRef))
    node.writePersistedStat(w)
    this.nodes++
  }

  /** The ref to store: refs created after the ACL section was written are mapped to an equal list's ref. */
  private refFor(ref: number): number {
    if (ref === -1 || this.writtenRefs.has(ref)) return ref
    const same = this.refByKey.get(aclKey(this.tree.acls.get(ref)))
    if (same !== undefined) return same
    // A setACL with a brand-new list raced the walk; its txn (after the name zxid) restores it on replay.
    this.unknownAclRefs++
    return ref
  }

  /** Takes the bytes encoded so far (valid until the next call), folding them into the seal. */
  take(): Uint8Array {
    const w = this.out
    const bytes = w.bytes.subarray(0, w.pos)
    this.adler = adler32(w.bytes, this.adler, 0, w.pos)
    this.taken += w.pos
    w.reset()
    return bytes
  }

  /** Ends the tree and writes seal 1, the digest section (the digest now) and seal 2. */
  finish(): void {
    const w = this.out
    const { tree } = this
    w.ustring("/")
    w.long(adler32(w.bytes, this.adler, 0, w.pos)).ustring("/")
    if (!tree.options.digestEnabled) return
    const zxid = tree.lastProcessedZxid
    this.digest = zxid === 0 ? null : { zxid, version: DIGEST_VERSION, hi: tree.digest.hi, lo: tree.digest.lo }
    w.long(zxid).int(DIGEST_VERSION)
    if (this.digest === null) w.long(0)
    else w.int(this.digest.hi | 0).int(this.digest.lo | 0)
    w.long(adler32(w.bytes, this.adler, 0, w.pos)).ustring("/")
  }
}

/** Encodes a whole tree at once (tests, small trees, a learner's SNAP reply). */
export const encode = (tree: DataTree): Uint8Array => {
  const enc = new SnapshotEncoder(tree)
  while (!enc.step(Infinity, Infinity)) {
    /* one step does it all */
  }
  enc.finish()
  return enc.out.copy()
}

/**
 * Writes `snapshot.<tree.lastProcessedZxid>` into `dir`: streams the encoded tree to
 * `<name>.tmp` in chunks (yielding between them unless `fuzzy: false`), fdatasyncs it, renames
 * it into place and fsyncs the directory. A failure removes the temp file.
 */
export const write = (dir: string, tree: DataTree, options: WriteOptions = {}): Effect.Effect<SnapshotInfo, DiskError, Disk> =>
  Effect.gen(function* () {
    const disk = yield* Disk
    const chunkNodes = options.chunkNodes ?? 1000
    const flushBytes = options.flushBytes ?? 1 << 18
    const fuzzy = options.fuzzy ?? true
    const enc = new SnapshotEncoder(tree)
    const name = snapshotName(enc.zxid)
    const tmp = join(dir, `${name}.tmp`)
    const writeAll = Effect.acquireUseRelease(
      disk.open(tmp, "create"),
      (h) =>
        Effect.gen(function* () {
          for (;;) {
            const done = enc.step(chunkNodes, flushBytes)
            if (done) enc.finish()
            if (done || enc.out.pos >= flushBytes) {
              const at = enc.taken
              yield* h.write(enc.take(), at)
            }
            if (done) break
            if (fuzzy) yield* Effect.yieldNow()
          }
          yield* h.datasync
        }),
      (h) => Effect.ignore(h.close)
    )
    yield* writeAll.pipe(Effect.onError(() => Effect.ignore(disk.unlink(tmp))))
    yield* disk.rename(tmp, join(dir, name))
    yield* disk.syncDir(dir)
    return {
      name,
      zxid: enc.zxid,
      nodes: enc.nodes,
      skippedSubtrees: enc.skippedSubtrees,
      unknownAclRefs: enc.unknownAclRefs,
      bytes: enc.taken,
      digest: enc.digest
    }
  })
