/**
 * DataTree on its own: the incremental digest never drifts from one recomputed from scratch, and a
 * snapshot round-trip (SnapshotWriter.encode → decode) gives back the same tree and digest.
 */
import { assert, describe, it } from "@effect/vitest"
import { FastCheck as fc } from "effect"
import * as Snapshot from "../../src/storage/Snapshot.js"
import * as SnapshotWriter from "../../src/storage/SnapshotWriter.js"
import { DataTree } from "../../src/tree/DataTree.js"
import { nodeStat, ZNode } from "../../src/tree/ZNode.js"
import { Op } from "../../src/wire/Codes.js"
import { JuteWriter } from "../../src/wire/Jute.js"
import { assertSameTree, rng, treeOptions, TxnDriver } from "../storage/helpers.js"

const recomputed = (tree: DataTree): bigint => {
  const copy = { hi: tree.digest.hi, lo: tree.digest.lo }
  tree.recomputeDigest()
  const value = tree.digest.value
  tree.digest.hi = copy.hi
  tree.digest.lo = copy.lo
  return value
}

describe("DataTree", () => {
  it.prop(
    "after any sequence of txns the incremental digest equals one recomputed from scratch",
    [fc.integer(), fc.integer({ min: 1, max: 120 })],
    ([seed, count]) => {
      const driver = new TxnDriver(new DataTree(treeOptions))
      const r = rng(seed)
      for (let i = 0; i < count; i++) {
        const entry = driver.random(r)
        assert.strictEqual(driver.tree.digest.value, recomputed(driver.tree), `after txn ${i} (type ${entry.header.type})`)
      }
    },
    { fastCheck: { numRuns: 60 } }
  )

  it.prop(
    "a snapshot round-trip gives the same tree and digest",
    [fc.integer(), fc.integer({ min: 0, max: 150 })],
    ([seed, count]) => {
      const driver = new TxnDriver(new DataTree(treeOptions))
      const r = rng(seed)
      for (let i = 0; i < count; i++) driver.random(r)
      const tree = driver.tree
      const loaded = Snapshot.decode(SnapshotWriter.encode(tree), "snapshot", tree.lastProcessedZxid, treeOptions)
      if (loaded instanceof Snapshot.SnapshotCorrupt) throw loaded
      assertSameTree(loaded.tree, tree, "round-trip")
      assert.strictEqual(recomputed(loaded.tree), tree.digest.value)
      assert.deepStrictEqual(loaded.unresolvedAcl, [])
    },
    { fastCheck: { numRuns: 40 } }
  )

  it("looks paths up through each node's children; malformed paths find nothing", () => {
    const d = new TxnDriver(new DataTree(treeOptions))
    const acl = [{ perms: 31, id: { scheme: "world", id: "anyone" } }]
    for (const path of ["/a", "/a/b", "/a/b/c"]) d.commit(0n, d.createTxn(path, path, acl, false))
    assert.strictEqual(new TextDecoder().decode(d.tree.get("/a/b/c")!.data!), "/a/b/c")
    assert.strictEqual(d.tree.get("/")!.numChildren, 2, "/zookeeper and /a")
    for (const bad of ["", "a", "a/b", "/a/", "/a//b", "//a", "/a/b/c/d", "/b"]) assert.isUndefined(d.tree.get(bad), JSON.stringify(bad))
    assert.strictEqual(d.tree.countDescendants("/a"), 2)
    assert.strictEqual(d.tree.countDescendants("/"), d.tree.nodeCount - 1)
  })

  it("a replayed delete of a node that still has children drops its whole subtree, and the replayed creates restore the tree", () => {
    // Replaying txns on a fuzzy snapshot that holds a later incarnation of /a (with a child) deletes it with the child.
    const d = new TxnDriver(new DataTree(treeOptions))
    const acl = [{ perms: 31, id: { scheme: "world", id: "anyone" } }]
    const session = 0x1234n
    d.commit(session, { type: Op.createSession, timeOut: 10000 })
    d.commit(0n, d.createTxn("/a", "a", acl, false))
    d.commit(0n, d.createTxn("/a/p", "p", acl, false))
    d.commit(session, d.createTxn("/a/p/e", "e", acl, true))
    const full = d.tree.nodeCount
    const fullDigest = d.tree.digest.value
    d.commit(0n, { type: Op.delete, path: "/a" })
    assert.isUndefined(d.tree.get("/a/p/e"))
    assert.strictEqual(d.tree.nodeCount, full - 3)
    assert.strictEqual(d.tree.countDescendants("/"), d.tree.nodeCount - 1)
    assert.deepStrictEqual([...d.tree.ephemeralsOf(session)], [])
    assert.strictEqual(d.tree.digest.value, recomputed(d.tree))
    d.commit(0n, d.createTxn("/a", "a", acl, false))
    d.commit(0n, d.createTxn("/a/p", "p", acl, false))
    d.commit(session, d.createTxn("/a/p/e", "e", acl, true))
    assert.strictEqual(d.tree.nodeCount, full)
    assert.deepStrictEqual([...d.tree.ephemeralsOf(session)], ["/a/p/e"])
    assert.strictEqual(d.tree.digest.value, recomputed(d.tree))
    assert.notStrictEqual(d.tree.digest.value, fullDigest, "the new incarnations have other zxids")
  })

  it("data shared from a chunk (snapshot loading) reads as its own bytes, and a new value replaces it", () => {
    const chunk = new TextEncoder().encode("xxhelloyy")
    const node = new ZNode(null, -1, 1, 1, 0, 0, 0, 0, 0, 0n, 1)
    node.shareData(chunk, 2, 5)
    assert.strictEqual(node.dataLength, 5)
    assert.strictEqual(nodeStat(node).dataLength, 5)
    assert.strictEqual(new TextDecoder().decode(node.data!), "hello")
    assert.strictEqual(node.data!.length, 5)
    node.data = null
    assert.isNull(node.data)
    assert.strictEqual(node.dataLength, 0)
    node.shareData(chunk, 0, 0)
    assert.strictEqual(node.data!.length, 0)
  })

  it("a node gives back every 64-bit zxid and time and every CRC it was given", () => {
    const values = [0, 1, -1, 2 ** 30 - 1, 2 ** 30, 2 ** 31, 2 ** 32 + 5, -(2 ** 40) - 3, 1_795_000_000_123, Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER]
    values.forEach((v, i) => {
      const node = new ZNode(null, -1, v, v, v, v, 0, 0, 0, 0n, v)
      assert.deepStrictEqual([node.czxid, node.mzxid, node.ctime, node.mtime, node.pzxid], [v, v, v, v, v], `constructed with ${v}`)
      const next = [1, 2, 3, 4, 5].map((k) => values[(i + k) % values.length]!) as [number, number, number, number, number]
      ;[node.czxid, node.mzxid, node.ctime, node.mtime, node.pzxid] = next
      assert.deepStrictEqual([node.czxid, node.mzxid, node.ctime, node.mtime, node.pzxid], next, `set after ${v}`)
      // StatPersisted as the snapshot writes it: the same 64-bit values.
      node.owner = BigInt(v)
      const w = new JuteWriter()
      node.writePersistedStat(w)
      const view = new DataView(w.bytes.buffer, 0, w.pos)
      const longs = [0, 8, 16, 24, 44, 52].map((at) => view.getBigInt64(at))
      assert.deepStrictEqual(longs, [...next.slice(0, 4), v, next[4]].map((x) => BigInt(x)), `StatPersisted after ${v}`)
      assert.strictEqual(w.pos, 60)
    })
    const node = new ZNode(null, -1, 0, 0, 0, 0, 0, 0, 0, 0n, 0)
    for (const crc of [0, 1, 0xffff, 0x10000, 2 ** 30, 2 ** 31, 0xffffffff]) {
      node.digest = crc
      assert.strictEqual(node.digest, crc)
    }
  })
})
