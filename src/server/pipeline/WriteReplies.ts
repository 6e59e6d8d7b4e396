/**
 * The reply to a committed write, encoded from what applying its txn did to the tree (client.md
 * §6.3, §7.2). Pure: buffers the frame on the connection; the caller flushes.
 */
import type { DataTree } from "../../tree/DataTree.js"
import { writeNodeStat } from "../../tree/ZNode.js"
import { type MultiResult, writeMultiResponse } from "../../wire/ClientRecords.js"
import { Op } from "../../wire/Codes.js"
import type { PendingWrite } from "../commit/CommitStage.js"
import type { Connection } from "../Connection.js"

/** What `DataTree.processTxn` reports for one txn. */
export type TxnResult = ReturnType<DataTree["processTxn"]>

/** Buffers the reply to write `w`, whose txn gave `res` when applied to `tree`. */
export const replyToWrite = (tree: DataTree, conn: Connection, w: PendingWrite, res: TxnResult): void => {
  const zxid = w.header.zxid
  if (res.err !== 0 && w.txn.type !== Op.multi) return conn.replyHeader(w.xid, zxid, res.err)
  const out = conn.out
  const mark = conn.beginReply(w.xid, zxid, 0)
  switch (w.txn.type) {
    case Op.create:
      out.ustring(res.path)
      break
    case Op.create2:
    case Op.createContainer:
    case Op.createTTL:
      out.ustring(res.path)
      writeNodeStat(out, res.node!)
      break
    case Op.setData:
    case Op.setACL:
      writeNodeStat(out, res.node!)
      break
    case Op.check: {
      const node = tree.get(res.path)
      if (node !== undefined) writeNodeStat(out, node)
      break
    }
    case Op.multi:
      writeMultiResponse(out, multiResults(res))
      break
    default:
      break
  }
  conn.endFrame(mark)
}

/** Multi results from the applied sub-txns: all errors once one failed (client.md §7.2). */
export const multiResults = (res: TxnResult): Array<MultiResult> => {
  const subs = res.multi ?? []
  const failed = subs.some((r) => r.type === Op.error)
  return subs.map((r): MultiResult => {
    if (failed) return { type: Op.error, err: r.err }
    switch (r.type) {
      case Op.create:
        return { type: Op.create, path: r.path }
      case Op.create2:
      case Op.createContainer:
      case Op.createTTL:
        return { type: Op.create2, path: r.path, stat: r.stat! }
      case Op.setData:
        return { type: Op.setData, stat: r.stat! }
      case Op.delete:
        return { type: Op.delete }
      default:
        return { type: Op.check }
    }
  })
}
