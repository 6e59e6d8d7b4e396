/**
 * What each committed txn does to a DataTree (DataTree.processTxn is the entry point): the
 * dispatch over txn types and ZooKeeper's all-or-nothing multi. The tree's mutators throw
 * TreeError for the errors a txn may meet (a replay on a fuzzy snapshot meets NoNode and NodeExists).
 */
import { Err, Op } from "../wire/Codes.js"
import type { Stat } from "../wire/ClientRecords.js"
import type { Txn, TxnHeader } from "../wire/TxnRecords.js"
import type { DataTree } from "./DataTree.js"
import { parentOf } from "./Paths.js"
import { CONTAINER_OWNER, NO_OWNER, nodeStat, ttlOwner, type ZNode } from "./ZNode.js"

/** The outcome of applying one txn, from which the reply is built. */
export interface ApplyResult {
  readonly type: number
  readonly err: number
  /** The node's path (for create: the final path incl. sequence suffix). */
  readonly path: string
  /** The node a create/setData/setACL left behind (single ops: the reply reads its stat at once). */
  readonly node: ZNode | null
  /** For ops inside a multi: the stat right after the op, since later ops may change the node. */
  readonly stat: Stat | null
  /** Per-op results of a multi. */
  readonly multi: ReadonlyArray<ApplyResult> | null
}

/** A txn's error (a ZooKeeper code) thrown by the tree's mutators; applyTxn turns it into the result. */
export class TreeError {
  constructor(readonly code: number) {}
}

/** Applies one txn (or sub-txn of a multi) to `tree`; NoNode/NodeExists and the like become the result's err. */
export const applyTxn = (tree: DataTree, header: TxnHeader, txn: Txn, inMulti: boolean): ApplyResult => {
  const { zxid, time } = header
  const ok = (type: number, path: string, node: ZNode | null): ApplyResult => ({
    type,
    err: 0,
    path,
    node,
    stat: inMulti && node !== null ? nodeStat(node) : null,
    multi: null
  })
  try {
    switch (txn.type) {
      case Op.create:
      case Op.create2: {
        const owner = txn.ephemeral ? header.clientId : NO_OWNER
        const node = tree.createNode(txn.path, txn.data, txn.acl, owner, txn.parentCVersion, zxid, time)
        return ok(txn.type, txn.path, node)
      }
      case Op.createContainer: {
        return ok(txn.type, txn.path, tree.createNode(txn.path, txn.data, txn.acl, CONTAINER_OWNER, txn.parentCVersion, zxid, time))
      }
      case Op.createTTL: {
        return ok(txn.type, txn.path, tree.createNode(txn.path, txn.data, txn.acl, ttlOwner(txn.ttl), txn.parentCVersion, zxid, time))
      }
      case Op.delete:
      case Op.deleteContainer:
        tree.deleteNode(txn.path, zxid)
        return ok(txn.type, txn.path, null)
      case Op.setData:
      case Op.reconfig:
        return ok(txn.type, txn.path, tree.setData(txn.path, txn.data, txn.version, zxid, time))
      case Op.setACL:
        return ok(txn.type, txn.path, tree.setACL(txn.path, txn.acl, txn.version))
      case Op.check:
        return ok(txn.type, txn.path, null)
      case Op.error:
        return { type: txn.type, err: txn.err, path: "", node: null, stat: null, multi: null }
      case Op.createSession:
        tree.sessions.set(header.clientId, txn.timeOut)
        return ok(txn.type, "", null)
      case Op.closeSession:
        tree.killSession(header.clientId, txn.paths, zxid)
        return ok(txn.type, "", null)
      case Op.multi:
        return applyMulti(tree, header, txn.txns)
    }
  } catch (e) {
    if (e instanceof TreeError) return { type: txn.type, err: e.code, path: "path" in txn ? txn.path : "", node: null, stat: null, multi: null }
    throw e
  }
}

const applyMulti = (tree: DataTree, header: TxnHeader, txns: ReadonlyArray<Txn>): ApplyResult => {
  const failed = txns.some((t) => t.type === Op.error)
  const results: Array<ApplyResult> = []
  let afterFailure = false
  let err = 0
  for (const sub of txns) {
    let t = sub
    if (sub.type === Op.error) afterFailure = true
    // A failed multi applies nothing: ops before the failure report 0, after it RuntimeInconsistency.
    else if (failed) t = { type: Op.error, err: afterFailure ? Err.RuntimeInconsistency : Err.Ok }
    const r = applyTxn(tree, header, t, true)
    // ZooKeeper applies the NodeExists parent fix-up to sub-txn creates too (their header type is create).
    if (t.type === Op.create && r.err === Err.NodeExists) tree.bumpParentCVersion(parentOf(t.path), t.parentCVersion, header.zxid)
    results.push(r)
    if (r.err !== 0 && err === 0) err = r.err
  }
  return { type: Op.multi, err, path: "", node: null, stat: null, multi: results }
}
