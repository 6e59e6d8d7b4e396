/**
 * The tree the SNAP micro-benchmarks (snap-stream.ts, snap-load.ts) stream: shaped like the
 * ensemble bench's (`/ezkrss/b<k>/n<j>`, 1,000 children per bucket, 100-byte values), and the
 * decoder options and socket-sized pieces they feed it in.
 */
import { DataTree } from "../../src/tree/DataTree.js"
import { Op } from "../../src/wire/Codes.js"
import type { Txn } from "../../src/wire/TxnRecords.js"

export const options = { extendedTypes: false, digestEnabled: true }
/** What a loopback socket hands over per read. */
export const PIECE = 64 * 1024

/** `n` znodes created by txns from `firstZxid` on (0x100000000 and up: epoch 1, as an ensemble has them). */
export const buildTree = (n: number, firstZxid = 0): DataTree => {
  const tree = new DataTree(options)
  const acl = [{ perms: 31, id: { scheme: "world", id: "anyone" } }]
  const data = new Uint8Array(100).fill(0x61)
  let zxid = firstZxid
  const apply = (txn: Txn) => {
    zxid++
    tree.processTxn({ clientId: 0x1000000000000n, cxid: zxid, zxid, time: 1_795_000_000_000 + zxid, type: txn.type }, txn)
  }
  apply({ type: Op.create, path: "/ezkrss", data: null, acl, ephemeral: false, parentCVersion: -1 })
  for (let k = 0; k * 1000 < n; k++) apply({ type: Op.create, path: `/ezkrss/b${k}`, data: null, acl, ephemeral: false, parentCVersion: -1 })
  for (let i = 0; i < n; i++) apply({ type: Op.create, path: `/ezkrss/b${Math.floor(i / 1000)}/n${i % 1000}`, data, acl, ephemeral: false, parentCVersion: -1 })
  return tree
}
