/**
 * DataTree on its own: the incremental digest never drifts from one recomputed from scratch, and a
 * snapshot round-trip (SnapshotWriter.encode → decode) gives back the same tree and digest.
 */
import { assert, describe, it } from "@effect/vitest"
import { FastCheck as fc } from "effect"
import * as Snapshot from "../../src/storage/Snapshot.js"
import * as SnapshotWriter from "../../src/storage/SnapshotWriter.js"
import { DataTree } from "../../src/tree/DataTree.js"
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
})
