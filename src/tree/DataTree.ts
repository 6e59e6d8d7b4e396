/**
 * The in-memory database: znodes (each holding its children by name), ACL cache, ephemerals, containers, TTL nodes, the
 * sessions table and the running digest. Applying a txn (dispatched in ./ApplyTxn.ts) is
 * idempotent in the way fuzzy-snapshot recovery needs (storage.md §5) and fires watches through
 * the WatchManager.
 */
import type { ACL } from "../wire/ClientRecords.js"
import { Err, Op } from "../wire/Codes.js"
import type { Txn, TxnHeader } from "../wire/TxnRecords.js"
import { AclCache, OPEN_ACL_REF } from "./AclCache.js"
import { type ApplyResult, applyTxn, TreeError } from "./ApplyTxn.js"
import { DigestLog, nodeDigest, TreeDigest } from "./Digest.js"
import { childPath, nameOf, parentOf } from "./Paths.js"
import { WatchManager } from "./WatchManager.js"
import { kindOfOwner, NO_OWNER, ZNode } from "./ZNode.js"

export interface DataTreeOptions {
  /** zookeeper.extendedTypesEnabled: TTL nodes. */
  readonly extendedTypes: boolean
  /** zookeeper.digest.enabled: maintain the tree digest logged with every txn. */
  readonly digestEnabled: boolean
}

const WORLD_READ: ReadonlyArray<ACL> = [{ perms: 1, id: { scheme: "world", id: "anyone" } }]

export class DataTree {
  /** The root; each node holds its children by name, so there is no index of every path (a 1M-entry Map made loading a snapshot slow). */
  private root: ZNode | undefined
  private count = 0
  readonly acls = new AclCache()
  /** Paths of ephemeral nodes by owning session. */
  readonly ephemerals = new Map<bigint, Set<string>>()
  readonly containers = new Set<string>()
  readonly ttls = new Set<string>()
  /** Global sessions and their timeouts (ZKDatabase.sessionsWithTimeouts). */
  readonly sessions = new Map<bigint, number>()
  readonly watches = new WatchManager()
  readonly digest = new TreeDigest()
  /** Digests of every 128th zxid applied here (the `hash` four-letter word). */
  readonly digestLog = new DigestLog()
  lastProcessedZxid = 0
  /** Sum of path lengths and data sizes (mntr zk_approximate_data_size), kept as nodes change. */
  approximateDataSize = 0

  /** `builtIns = false` (via `DataTree.empty`) leaves out the root and system nodes, for loading a snapshot. */
  constructor(
    readonly options: DataTreeOptions,
    builtIns = true
  ) {
    if (!builtIns) return
    const root = new ZNode(new Uint8Array(0), OPEN_ACL_REF, 0, 0, 0, 0, 0, 0, 0, NO_OWNER, 0)
    this.root = root
    this.count = 1
    this.approximateDataSize = 1
    this.addSystemNode("/zookeeper", OPEN_ACL_REF, 0)
    // config before quota: the child order ZooKeeper's HashSet yields, so a fresh snapshot.0 matches its bytes.
    this.addSystemNode("/zookeeper/config", this.acls.add(WORLD_READ), -1)
    this.addSystemNode("/zookeeper/quota", OPEN_ACL_REF, 0)
    this.digest.add(this.rehash("/", root))
  }

  /** A tree with no nodes and an empty ACL cache, to be filled by `loadRoot`/`loadChild` (storage/Snapshot). */
  static empty(options: DataTreeOptions): DataTree {
    return new DataTree(options, false)
  }

  /**
   * Adds the root read from a snapshot (its digest as for loadChild). False when the tree already
   * has one; the tree is then unusable.
   */
  loadRoot(node: ZNode, digest: number): boolean {
    if (this.root !== undefined) return false
    this.root = node
    this.loaded(1, node, digest)
    return true
  }

  /**
   * Adds a node read from a snapshot under `parent` (a node of this tree): links it, takes a
   * reference on its ACL ref, indexes its owner (ephemeral/container/TTL) and adds `digest` (its
   * nodeDigest, which the loader computes from the encoded bytes) to the tree digest. `path` is
   * the node's full path, needed only for an owned node (null otherwise, to spare building it);
   * `pathLength` its length. False when the parent already has a child of that name; the tree is
   * then unusable.
   */
  loadChild(parent: ZNode, name: string, node: ZNode, digest: number, path: string | null, pathLength: number): boolean {
    let kids = parent.children
    if (kids === null) kids = parent.children = new Map()
    const size = kids.size
    kids.set(name, node)
    if (kids.size === size) return false
    if (node.owner !== NO_OWNER) {
      if (path === null) throw new Error(`loadChild: path of the owned node ${name} missing`)
      this.indexOwner(path, node.owner)
    }
    this.loaded(pathLength, node, digest)
    return true
  }

  private loaded(pathLength: number, node: ZNode, digest: number): void {
    this.count++
    this.approximateDataSize += pathLength + node.dataLength
    this.acls.retain(node.aclRef)
    if (this.options.digestEnabled) this.digest.add((node.digest = digest))
  }

  /** Recomputes the running digest from every node (a check after loading; storage.md §4). */
  recomputeDigest(): void {
    this.digest.hi = 0
    this.digest.lo = 0
    if (!this.options.digestEnabled) return
    for (const [path, node] of this.entries()) this.digest.add(this.rehash(path, node))
  }

  private addSystemNode(path: string, aclRef: number, aversion: number): void {
    const node = new ZNode(new Uint8Array(0), aclRef, 0, 0, 0, 0, 0, 0, aversion, NO_OWNER, 0)
    const parent = this.get(parentOf(path))
    if (parent === undefined) throw new Error(`parent of ${path} missing`)
    if (parent.children === null) parent.children = new Map()
    parent.children.set(nameOf(path), node)
    this.count++
    this.approximateDataSize += path.length
    this.digest.add(this.rehash(path, node))
  }

  /** The node at an absolute path ("/" the root); undefined for a missing node or a malformed path. */
  get(path: string): ZNode | undefined {
    let node = this.root
    if (node === undefined || path.charCodeAt(0) !== 47) return undefined
    if (path.length === 1) return node
    let from = 1
    for (;;) {
      const kids: Map<string, ZNode> | null = node.children
      if (kids === null) return undefined
      const slash = path.indexOf("/", from)
      node = kids.get(slash < 0 ? path.slice(from) : path.slice(from, slash))
      if (node === undefined || slash < 0) return node
      from = slash + 1
    }
  }

  /** Every node with its path, parents before children (pre-order, children in insertion order). */
  *entries(): Generator<readonly [string, ZNode]> {
    if (this.root === undefined) return
    const stack: Array<readonly [string, ZNode]> = [["/", this.root]]
    while (stack.length > 0) {
      const [path, node] = stack.pop()!
      yield [path, node]
      if (node.children === null) continue
      const kids = [...node.children].reverse()
      for (const [name, child] of kids) stack.push([childPath(path, name), child])
    }
  }

  /** Every path, parents before children. */
  *paths(): Generator<string> {
    for (const [path] of this.entries()) yield path
  }

  aclOf(node: ZNode): ReadonlyArray<ACL> {
    return this.acls.get(node.aclRef)
  }

  get nodeCount(): number {
    return this.count
  }

  /** Number of descendants of a path (getAllChildrenNumber). */
  countDescendants(path: string): number {
    if (path === "/") return this.count - 1
    const node = this.get(path)
    return node === undefined ? 0 : descendantsOf(node)
  }

  /** Ephemeral paths of a session (getEphemerals, closeSession). */
  ephemeralsOf(sessionId: bigint): ReadonlySet<string> {
    return this.ephemerals.get(sessionId) ?? new Set()
  }

  // -------------------------------------------------------------------------------------------
  // Txn application

  /** Applies a committed txn; errors a replay can hit (NoNode, NodeExists) are reported, not thrown. */
  processTxn(header: TxnHeader, txn: Txn): ApplyResult {
    const result = applyTxn(this, header, txn, false)
    // A fuzzy snapshot may already contain this create; still move the parent's cversion forward (storage.md §5).
    if (txn.type === Op.create && result.err === Err.NodeExists) this.bumpParentCVersion(parentOf(txn.path), txn.parentCVersion, header.zxid)
    if (header.zxid > this.lastProcessedZxid) this.lastProcessedZxid = header.zxid
    if (this.options.digestEnabled) this.digestLog.record(header.zxid, this.digest)
    return result
  }

  /** Computes and caches a node's digest. */
  private rehash(path: string, node: ZNode): number {
    return (node.digest = nodeDigest(path, node))
  }

  /** Moves the tree digest from a node's old share (`before`, its cached digest) to its new one. */
  private changed(path: string, node: ZNode, before: number): void {
    if (!this.options.digestEnabled) return
    this.digest.sub(before)
    this.digest.add(this.rehash(path, node))
  }

  /** Moves a parent's cversion (and pzxid) forward to what a create that found its node already there carried. */
  bumpParentCVersion(parentPath: string, parentCVersion: number, zxid: number): void {
    const parent = this.get(parentPath)
    if (parent === undefined) return
    const next = parentCVersion === -1 ? parent.cversion + 1 : parentCVersion
    if (next > parent.cversion) {
      const before = parent.digest
      parent.cversion = next
      parent.pzxid = zxid
      this.changed(parentPath, parent, before)
    }
  }

  /** Creates a node; throws TreeError(NoNode/NodeExists). */
  createNode(path: string, data: Uint8Array | null, acl: ReadonlyArray<ACL>, owner: bigint, parentCVersion: number, zxid: number, time: number): ZNode {
    const parentPath = parentOf(path)
    const parent = this.get(parentPath)
    if (parent === undefined) throw new TreeError(Err.NoNode)
    const name = nameOf(path)
    if (parent.children !== null && parent.children.has(name)) throw new TreeError(Err.NodeExists)
    const before = parent.digest
    const next = parentCVersion === -1 ? parent.cversion + 1 : parentCVersion
    if (next > parent.cversion) {
      parent.cversion = next
      parent.pzxid = zxid
    }
    const node = new ZNode(data, this.acls.add(acl), zxid, zxid, time, time, 0, 0, 0, owner, zxid)
    if (parent.children === null) parent.children = new Map()
    parent.children.set(name, node)
    this.count++
    this.approximateDataSize += path.length + node.dataLength
    this.changed(parentPath, parent, before)
    if (this.options.digestEnabled) this.digest.add(this.rehash(path, node))
    this.indexOwner(path, owner)
    this.watches.nodeCreated(path, this.acls.get(node.aclRef), this.acls.get(parent.aclRef))
    return node
  }

  private indexOwner(path: string, owner: bigint): void {
    if (owner === NO_OWNER) return
    switch (kindOfOwner(owner, this.options.extendedTypes)) {
      case "container":
        this.containers.add(path)
        return
      case "ttl":
        this.ttls.add(path)
        return
      case "ephemeral": {
        const set = this.ephemerals.get(owner)
        if (set === undefined) this.ephemerals.set(owner, new Set([path]))
        else set.add(path)
        return
      }
      default:
        return
    }
  }

  private unindexOwner(path: string, owner: bigint): void {
    if (owner === NO_OWNER) return
    this.containers.delete(path)
    this.ttls.delete(path)
    const set = this.ephemerals.get(owner)
    if (set !== undefined) {
      set.delete(path)
      if (set.size === 0) this.ephemerals.delete(owner)
    }
  }

  /** Deletes a node; throws TreeError(NoNode). The parent's cversion is unchanged (storage.md §5). */
  deleteNode(path: string, zxid: number): void {
    const parentPath = parentOf(path)
    const parent = this.get(parentPath)
    if (parent === undefined) throw new TreeError(Err.NoNode)
    const name = nameOf(path)
    const node = parent.children?.get(name)
    if (node === undefined) {
      // As ZooKeeper's DataTree.deleteNode: the child may already be gone from a fuzzy snapshot, but
      // the parent's pzxid must still move forward, or replay leaves it behind the live value.
      if (zxid > parent.pzxid) {
        const before = parent.digest
        parent.pzxid = zxid
        this.changed(parentPath, parent, before)
      }
      throw new TreeError(Err.NoNode)
    }
    const acl = this.acls.get(node.aclRef)
    this.dropSubtree(path, node)
    const before = parent.digest
    parent.children!.delete(name)
    if (parent.children!.size === 0) parent.children = null
    if (zxid > parent.pzxid) parent.pzxid = zxid
    this.changed(parentPath, parent, before)
    this.watches.nodeDeleted(path, acl, this.acls.get(parent.aclRef))
  }

  /**
   * Forgets a node being deleted and, should it have any, its descendants: a client cannot delete a
   * node with children, but replaying txns on a fuzzy snapshot can (one that holds a later
   * incarnation of the node); the replayed creates bring them back.
   */
  private dropSubtree(path: string, node: ZNode): void {
    if (node.children !== null) for (const [name, child] of node.children) this.dropSubtree(childPath(path, name), child)
    if (this.options.digestEnabled) this.digest.sub(node.digest)
    this.count--
    this.approximateDataSize -= path.length + node.dataLength
    this.acls.release(node.aclRef)
    this.unindexOwner(path, node.owner)
  }

  setData(path: string, data: Uint8Array | null, version: number, zxid: number, time: number): ZNode {
    const node = this.get(path)
    if (node === undefined) throw new TreeError(Err.NoNode)
    const before = node.digest
    this.approximateDataSize += (data === null ? 0 : data.length) - node.dataLength
    node.data = data
    node.version = version
    node.mzxid = zxid
    node.mtime = time
    this.changed(path, node, before)
    this.watches.dataChanged(path, this.acls.get(node.aclRef))
    return node
  }

  setACL(path: string, acl: ReadonlyArray<ACL>, version: number): ZNode {
    const node = this.get(path)
    if (node === undefined) throw new TreeError(Err.NoNode)
    const before = node.digest
    const old = node.aclRef
    node.aclRef = this.acls.add(acl)
    this.acls.release(old)
    node.aversion = version
    this.changed(path, node, before)
    return node
  }

  /** Removes a session and its ephemerals (the logged list if present, else all it owns). */
  killSession(sessionId: bigint, paths: ReadonlyArray<string> | null, zxid: number): void {
    this.sessions.delete(sessionId)
    const owned = paths ?? [...this.ephemeralsOf(sessionId)]
    for (const p of owned) {
      try {
        this.deleteNode(p, zxid)
      } catch (e) {
        if (!(e instanceof TreeError)) throw e
      }
    }
    this.ephemerals.delete(sessionId)
  }
}

const descendantsOf = (node: ZNode): number => {
  if (node.children === null) return 0
  let n = 0
  for (const child of node.children.values()) n += 1 + descendantsOf(child)
  return n
}
