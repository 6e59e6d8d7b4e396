/**
 * Outstanding changes (ZooKeeper's PrepRequestProcessor.outstandingChanges): the state each node
 * will have once every prepared-but-not-yet-applied txn is applied. Prep validates against this
 * view, so pipelined writes see each other, while the DataTree only ever holds durable state.
 */
import type { ACL } from "../../wire/ClientRecords.js"
import { nodeDigest, TreeDigest } from "../../tree/Digest.js"
import type { DataTree } from "../../tree/DataTree.js"
import type { ZNode } from "../../tree/ZNode.js"

/** The prospective state of one node (null in a Change = deleted). */
export class NodeState {
  constructor(
    public data: Uint8Array | null,
    public acl: ReadonlyArray<ACL>,
    public czxid: number,
    public mzxid: number,
    public ctime: number,
    public mtime: number,
    public version: number,
    public cversion: number,
    public aversion: number,
    public owner: bigint,
    public pzxid: number,
    public numChildren: number,
    /** Digest of this state (valid once the state is recorded or read from the tree). */
    public digest = 0
  ) {}

  static of(tree: DataTree, n: ZNode): NodeState {
    return new NodeState(n.data, tree.aclOf(n), n.czxid, n.mzxid, n.ctime, n.mtime, n.version, n.cversion, n.aversion, n.owner, n.pzxid, n.numChildren, n.digest)
  }

  copy(): NodeState {
    return new NodeState(this.data, this.acl, this.czxid, this.mzxid, this.ctime, this.mtime, this.version, this.cversion, this.aversion, this.owner, this.pzxid, this.numChildren, this.digest)
  }
}

interface Change {
  readonly zxid: number
  readonly path: string
  readonly state: NodeState | null
}

export class Pending {
  private readonly byPath = new Map<string, Change>()
  private readonly queue: Array<Change> = []
  private head = 0
  /** Digest of the tree after every prepared txn. */
  readonly digest = new TreeDigest()

  constructor(private readonly tree: DataTree) {
    this.resync()
  }

  get size(): number {
    return this.queue.length - this.head
  }

  /** The prospective state of a path: a pending change, else the tree; null = no such node. */
  get(path: string): NodeState | null {
    const c = this.byPath.get(path)
    if (c !== undefined) return c.state
    const n = this.tree.get(path)
    return n === undefined ? null : NodeState.of(this.tree, n)
  }

  /** Records a node's new state (or deletion) and moves the prospective digest. */
  set(zxid: number, path: string, before: NodeState | null, after: NodeState | null): void {
    if (this.tree.options.digestEnabled) {
      if (before !== null) this.digest.sub(before.digest)
      if (after !== null) this.digest.add((after.digest = nodeDigest(path, after)))
    }
    const c: Change = { zxid, path, state: after }
    this.byPath.set(path, c)
    this.queue.push(c)
  }

  /** Forgets changes the tree now reflects (every change with zxid <= the applied one). */
  retire(zxid: number): void {
    const q = this.queue
    while (this.head < q.length && q[this.head]!.zxid <= zxid) {
      const c = q[this.head]!
      if (this.byPath.get(c.path) === c) this.byPath.delete(c.path)
      q[this.head++] = undefined as unknown as Change
    }
    if (this.head === q.length) {
      q.length = 0
      this.head = 0
    } else if (this.head > 1024 && this.head * 2 > q.length) {
      q.splice(0, this.head)
      this.head = 0
    }
  }

  /** Marks where a multi starts, so a failing op can roll back the ones before it. */
  mark(): { readonly length: number; readonly hi: number; readonly lo: number } {
    return { length: this.queue.length, hi: this.digest.hi, lo: this.digest.lo }
  }

  /** Undoes every change made since the mark (ZooKeeper's rollbackPendingChanges). */
  rollback(mark: { readonly length: number; readonly hi: number; readonly lo: number }): void {
    const q = this.queue
    const touched = new Set<string>()
    while (q.length > mark.length) touched.add(q.pop()!.path)
    for (const path of touched) {
      this.byPath.delete(path)
      for (let i = q.length - 1; i >= this.head; i--) {
        if (q[i]!.path === path) {
          this.byPath.set(path, q[i]!)
          break
        }
      }
    }
    this.digest.hi = mark.hi
    this.digest.lo = mark.lo
  }

  /** Drops everything (after a disk failure the tree is the truth again). */
  clear(): void {
    this.byPath.clear()
    this.queue.length = 0
    this.head = 0
    this.resync()
  }

  /** Ephemerals a closing session will own once pending changes apply (closeSession's paths2Delete). */
  ephemeralsOf(sessionId: bigint): Set<string> {
    const out = new Set(this.tree.ephemeralsOf(sessionId))
    for (let i = this.head; i < this.queue.length; i++) {
      const c = this.queue[i]!
      if (c.state === null) out.delete(c.path)
      else if (c.state.owner === sessionId) out.add(c.path)
    }
    return out
  }

  private resync(): void {
    this.digest.hi = this.tree.digest.hi
    this.digest.lo = this.tree.digest.lo
  }
}
