/**
 * Requests answered from the applied tree without a txn (client.md §5): reads, watch
 * registration, setWatches, sync, whoAmI, multiRead. Called in the connection's order, after
 * the connection's own earlier writes have been applied.
 */
import { checkACL, redactACL } from "../auth/Acl.js"
import type { DataTree } from "../tree/DataTree.js"
import { nodeStat, writeNodeStat, type ZNode } from "../tree/ZNode.js"
import { type ACL, type MultiResult, type Request, type SetWatchesRequest, writeACLs, writeMultiResponse } from "../wire/ClientRecords.js"
import { AddWatchMode, Err, EventType, Op, Perms, Xid } from "../wire/Codes.js"
import type { Connection, QueuedRead } from "./Connection.js"

const canRead = (tree: DataTree, conn: Connection, node: ZNode): boolean =>
  checkACL(tree.aclOf(node), Perms.READ, conn.ids, conn.isSuper)

const writeChildren = (conn: Connection, node: ZNode): void => {
  const w = conn.out
  const children = node.children
  if (children === null) {
    w.int(0)
    return
  }
  w.int(children.size)
  for (const name of children.keys()) w.ustring(name)
}

/** Answers one non-txn request on `conn` (the reply is buffered; the caller flushes). */
export const executeRead = (tree: DataTree, conn: Connection, xid: number, q: Request): void => {
  const zxid = tree.lastProcessedZxid
  switch (q.type) {
    case Op.ping:
      conn.replyHeader(Xid.ping, zxid, 0)
      return
    case Op.getData: {
      const node = tree.get(q.path)
      if (node === undefined) return conn.replyHeader(xid, zxid, Err.NoNode)
      if (!canRead(tree, conn, node)) return conn.replyHeader(xid, zxid, Err.NoAuth)
      if (q.watch) tree.watches.addDataWatch(q.path, conn)
      const mark = conn.beginReply(xid, zxid, 0)
      conn.out.buffer(node.data)
      writeNodeStat(conn.out, node)
      return conn.endFrame(mark)
    }
    case Op.exists: {
      if (q.path.indexOf("\u0000") >= 0) return conn.replyHeader(xid, zxid, Err.BadArguments)
      if (q.watch) tree.watches.addDataWatch(q.path, conn)
      const node = tree.get(q.path)
      if (node === undefined) return conn.replyHeader(xid, zxid, Err.NoNode)
      const mark = conn.beginReply(xid, zxid, 0)
      writeNodeStat(conn.out, node)
      return conn.endFrame(mark)
    }
    case Op.getChildren:
    case Op.getChildren2: {
      const node = tree.get(q.path)
      if (node === undefined) return conn.replyHeader(xid, zxid, Err.NoNode)
      if (!canRead(tree, conn, node)) return conn.replyHeader(xid, zxid, Err.NoAuth)
      if (q.watch) tree.watches.addChildWatch(q.path, conn)
      const mark = conn.beginReply(xid, zxid, 0)
      writeChildren(conn, node)
      if (q.type === Op.getChildren2) writeNodeStat(conn.out, node)
      return conn.endFrame(mark)
    }
    case Op.getACL: {
      const node = tree.get(q.path)
      if (node === undefined) return conn.replyHeader(xid, zxid, Err.NoNode)
      const acl = tree.aclOf(node)
      if (!checkACL(acl, Perms.READ | Perms.ADMIN, conn.ids, conn.isSuper)) return conn.replyHeader(xid, zxid, Err.NoAuth)
      const shown: ReadonlyArray<ACL> = checkACL(acl, Perms.ADMIN, conn.ids, conn.isSuper) ? acl : redactACL(acl)
      const mark = conn.beginReply(xid, zxid, 0)
      writeACLs(conn.out, shown)
      writeNodeStat(conn.out, node)
      return conn.endFrame(mark)
    }
    case Op.getAllChildrenNumber: {
      const node = tree.get(q.path)
      if (node === undefined) return conn.replyHeader(xid, zxid, Err.NoNode)
      if (!canRead(tree, conn, node)) return conn.replyHeader(xid, zxid, Err.NoAuth)
      const mark = conn.beginReply(xid, zxid, 0)
      conn.out.int(tree.countDescendants(q.path))
      return conn.endFrame(mark)
    }
    case Op.getEphemerals: {
      const prefix = q.path === "/" ? "" : q.path
      const paths: Array<string> = []
      for (const p of tree.ephemeralsOf(conn.sessionId)) if (p.startsWith(prefix)) paths.push(p)
      const mark = conn.beginReply(xid, zxid, 0)
      conn.out.vector(paths, (w, p) => w.ustring(p))
      return conn.endFrame(mark)
    }
    case Op.sync: {
      const mark = conn.beginReply(xid, zxid, 0)
      conn.out.ustring(q.path)
      return conn.endFrame(mark)
    }
    case Op.whoAmI: {
      const mark = conn.beginReply(xid, zxid, 0)
      conn.out.vector(conn.ids, (w, id) => w.ustring(id.scheme).ustring(id.scheme === "digest" ? id.id.slice(0, id.id.indexOf(":")) : id.id))
      return conn.endFrame(mark)
    }
    case Op.setWatches:
    case Op.setWatches2:
      setWatches(tree, conn, q)
      return conn.replyHeader(xid, zxid, 0)
    case Op.addWatch: {
      if (q.mode !== AddWatchMode.PERSISTENT && q.mode !== AddWatchMode.PERSISTENT_RECURSIVE) return conn.replyHeader(xid, zxid, Err.BadArguments)
      tree.watches.addPersistentWatch(q.path, conn, q.mode === AddWatchMode.PERSISTENT_RECURSIVE)
      const mark = conn.beginReply(xid, zxid, 0)
      conn.out.int(0)
      return conn.endFrame(mark)
    }
    case Op.checkWatches:
    case Op.removeWatches: {
      const found =
        q.type === Op.checkWatches ? tree.watches.has(q.path, conn, q.watcherType) : tree.watches.remove(q.path, conn, q.watcherType)
      return conn.replyHeader(xid, zxid, found ? 0 : Err.NoWatcher)
    }
    case Op.multiRead:
      return multiRead(tree, conn, xid, zxid, q.ops)
    default:
      return conn.replyHeader(xid, zxid, Err.Unimplemented)
  }
}

/** multiRead (22): each op answers on its own, no watches, no atomicity (client.md §7.2). */
const multiRead = (tree: DataTree, conn: Connection, xid: number, zxid: number, ops: ReadonlyArray<Request>): void => {
  const results: Array<MultiResult> = []
  for (const op of ops) {
    if (op.type !== Op.getData && op.type !== Op.getChildren) return conn.replyHeader(xid, zxid, Err.MarshallingError)
    const node = tree.get(op.path)
    if (node === undefined) results.push({ type: Op.error, err: Err.NoNode })
    else if (!canRead(tree, conn, node)) results.push({ type: Op.error, err: Err.NoAuth })
    else if (op.type === Op.getData) results.push({ type: Op.getData, data: node.data, stat: nodeStat(node) })
    else results.push({ type: Op.getChildren, children: node.children === null ? [] : [...node.children.keys()] })
  }
  const mark = conn.beginReply(xid, zxid, 0)
  writeMultiResponse(conn.out, results)
  conn.endFrame(mark)
}

/**
 * Re-registers watches after a reconnect, firing at once for changes the client missed while
 * away (client.md §8.4).
 */
const setWatches = (tree: DataTree, conn: Connection, q: SetWatchesRequest): void => {
  const since = q.relativeZxid
  for (const path of q.dataWatches) {
    const node = tree.get(path)
    if (node === undefined) conn.notify(EventType.NodeDeleted, path, [])
    else if (node.mzxid > since) conn.notify(EventType.NodeDataChanged, path, tree.aclOf(node))
    else tree.watches.addDataWatch(path, conn)
  }
  for (const path of q.existWatches) {
    const node = tree.get(path)
    if (node !== undefined) conn.notify(EventType.NodeCreated, path, tree.aclOf(node))
    else tree.watches.addDataWatch(path, conn)
  }
  for (const path of q.childWatches) {
    const node = tree.get(path)
    if (node === undefined) conn.notify(EventType.NodeDeleted, path, [])
    else if (node.pzxid > since) conn.notify(EventType.NodeChildrenChanged, path, tree.aclOf(node))
    else tree.watches.addChildWatch(path, conn)
  }
  for (const path of q.persistentWatches) tree.watches.addPersistentWatch(path, conn, false)
  for (const path of q.persistentRecursiveWatches) tree.watches.addPersistentWatch(path, conn, true)
}

/** Runs the reads that waited behind a write of `conn` just answered, up to its next write. */
export const drainQueuedReads = (tree: DataTree, conn: Connection): void => {
  const q = conn.queue
  while (conn.queueHead < q.length) {
    const r = q[conn.queueHead] as QueuedRead | null
    if (r === null) break
    conn.queueHead++
    if (r.request === null) conn.replyHeader(r.xid, tree.lastProcessedZxid, r.err)
    else executeRead(tree, conn, r.xid, r.request)
  }
  if (conn.queueHead === q.length) {
    q.length = 0
    conn.queueHead = 0
  }
}
