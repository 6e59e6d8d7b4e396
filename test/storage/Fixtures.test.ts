/**
 * The data dirs written by Apache ZooKeeper 3.8.0 (vectors/datadir-*): every snapshot and log
 * decodes with both seals and every checksum checked, replay reproduces every TxnDigest and the
 * tree a live client read after the restart, and our own bytes for the same content are identical.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { readFileSync } from "node:fs"
import { join } from "../../src/disk/Disk.js"
import { DataTree } from "../../src/tree/DataTree.js"
import * as Recovery from "../../src/storage/Recovery.js"
import * as Snapshot from "../../src/storage/Snapshot.js"
import * as SnapshotWriter from "../../src/storage/SnapshotWriter.js"
import * as TxnLog from "../../src/storage/TxnLog.js"
import { readTxnEntry } from "../../src/wire/TxnRecords.js"
import { assertSameTree, clientView, memoryWithFixture, treeOptions, vectorsDir } from "./helpers.js"

const standalone = join(vectorsDir, "datadir-standalone/version-2")
const ensemble = (s: string) => join(vectorsDir, `datadir-ensemble/${s}/version-2`)
const liveView = JSON.parse(readFileSync(join(vectorsDir, "datadir-standalone/live_client_view.json"), "utf8")) as Record<
  string,
  { acl: Array<unknown>; data_hex: string; stat: Record<string, number> }
>

const recoverFixture = (dir: string, skip: ReadonlyArray<string> = []) => {
  const m = memoryWithFixture(dir, skip)
  return m.provide(Recovery.recover({ snapDir: m.dir, logDir: m.dir, tree: treeOptions }))
}

/** The live view without the fields the JSON does not carry. */
const normalizeLive = (view: typeof liveView) => {
  const out: Record<string, unknown> = {}
  for (const [path, n] of Object.entries(view)) out[path] = { acl: n.acl, data_hex: n.data_hex, stat: n.stat }
  return out
}

describe("ZooKeeper 3.8 fixtures", () => {
  it("decodes every snapshot with both seals and the digest section", () => {
    const cases: Array<[string, string]> = [
      [standalone, "snapshot.0"],
      [standalone, "snapshot.39"],
      [ensemble("s1"), "snapshot.0"],
      [ensemble("s1"), "snapshot.200000009"],
      [ensemble("s2"), "snapshot.10000000a"]
    ]
    for (const [dir, name] of cases) {
      const bytes = new Uint8Array(readFileSync(join(dir, name)))
      const out = Snapshot.decode(bytes, name, Snapshot.parseSnapshotName(name)!, treeOptions)
      assert.notInstanceOf(out, Snapshot.SnapshotCorrupt, name)
      const loaded = out as Snapshot.LoadedSnapshot
      const fresh = new DataTree(treeOptions)
      loaded.tree.recomputeDigest()
      if (loaded.digest !== null) {
        assert.strictEqual(loaded.digest.zxid, loaded.zxid, name)
        assert.deepStrictEqual([loaded.tree.digest.hi, loaded.tree.digest.lo], [loaded.digest.hi, loaded.digest.lo], `${name} digest`)
      }
      if (name === "snapshot.0") assert.strictEqual(loaded.tree.digest.value, fresh.digest.value)
    }
  })

  it.effect("reads every log record of every fixture log (checksums, EOR, zero padding)", () =>
    Effect.gen(function* () {
      const logs: Array<[string, string, number]> = [
        [standalone, "log.1", 0x39],
        [standalone, "log.3a", 4],
        [ensemble("s1"), "log.20000000a", -1],
        [ensemble("s2"), "log.100000001", -1],
        [ensemble("s3"), "log.100000001", -1],
        [ensemble("s3"), "log.200000001", -1],
        [ensemble("s4"), "log.100000001", -1]
      ]
      for (const [dir, name, expected] of logs) {
        const m = memoryWithFixture(dir)
        let n = 0
        const scanned = yield* m.provide(
          TxnLog.scanFile(m.dir, name, 0, (r) => {
            const e = readTxnEntry(r.entry)
            assert.strictEqual(e.header.zxid, r.zxid)
            n++
          })
        )
        assert.strictEqual(scanned.reason, "zeroPadding", name)
        assert.strictEqual(scanned.records, n)
        if (expected >= 0) assert.strictEqual(n, expected, name)
      }
    })
  )

  it.effect("full replay snapshot.0 + log.1 + log.3a reproduces every TxnDigest and the live client view", () =>
    Effect.gen(function* () {
      const r = yield* recoverFixture(standalone, ["snapshot.39"])
      assert.strictEqual(r.snapshot?.name, "snapshot.0")
      assert.strictEqual(r.replayedTxns, 0x3d)
      assert.deepStrictEqual(r.digestMismatches, [])
      // Error txns carry no digest: the README counts 48 digests over log.1 and log.3a.
      assert.strictEqual(r.digestChecks, 48)
      assert.deepStrictEqual(r.gaps, [])
      assert.strictEqual(r.tornTail, null)
      assert.strictEqual(r.lastZxid, 0x3d)
      assert.deepStrictEqual(clientView(r.tree), normalizeLive(liveView))
    })
  )

  it.effect("snapshot.39 + log.3a gives the tree the restarted server showed, node for node", () =>
    Effect.gen(function* () {
      const r = yield* recoverFixture(standalone)
      assert.strictEqual(r.snapshot?.name, "snapshot.39")
      assert.strictEqual(r.snapshotDigest, "match")
      assert.strictEqual(r.replayedTxns, 4)
      assert.strictEqual(r.digestChecks, 4)
      assert.deepStrictEqual(r.digestMismatches, [])
      assert.deepStrictEqual(clientView(r.tree), normalizeLive(liveView))
      // Both routes end in the same stored state.
      const full = yield* recoverFixture(standalone, ["snapshot.39"])
      assertSameTree(r.tree, full.tree)
    })
  )

  it.effect("ensemble data dirs recover with every digest matching their recorded final tree", () =>
    Effect.gen(function* () {
      for (const s of ["s1", "s2", "s3", "s4"]) {
        const r = yield* recoverFixture(ensemble(s))
        const expected = JSON.parse(readFileSync(join(vectorsDir, `datadir-ensemble/${s}.json`), "utf8")).recovery.finalTree as Record<string, any>
        assert.deepStrictEqual(r.digestMismatches, [], s)
        assert.isAbove(r.digestChecks + (r.snapshotDigest === "match" ? 1 : 0), 0, s)
        const view = clientView(r.tree) as Record<string, any>
        assert.deepStrictEqual(Object.keys(view).sort(), Object.keys(expected).sort(), s)
        for (const [path, n] of Object.entries(expected)) {
          assert.strictEqual(view[path].data_hex, n.data_hex, `${s} ${path}`)
          assert.deepStrictEqual(view[path].stat, n.stat, `${s} ${path}`)
          assert.deepStrictEqual(
            view[path].acl,
            n.acl.map((a: any) => ({ id: a.id, perms: a.perms, scheme: a.scheme })),
            `${s} ${path}`
          )
        }
      }
    })
  )

  it("re-serializing snapshot.39 gives ZooKeeper's bytes exactly; our empty DB is ZooKeeper's snapshot.0", () => {
    for (const name of ["snapshot.39", "snapshot.0"]) {
      const bytes = new Uint8Array(readFileSync(join(standalone, name)))
      const loaded = Snapshot.decode(bytes, name, Snapshot.parseSnapshotName(name)!, treeOptions) as Snapshot.LoadedSnapshot
      const again = SnapshotWriter.encode(loaded.tree)
      const back = Snapshot.decode(again, name, loaded.zxid, treeOptions) as Snapshot.LoadedSnapshot
      assertSameTree(back.tree, loaded.tree)
      assert.strictEqual(Buffer.from(again).toString("hex"), Buffer.from(bytes).toString("hex"), name)
    }
    const fresh = SnapshotWriter.encode(new DataTree(treeOptions))
    assert.strictEqual(Buffer.from(fresh).toString("hex"), readFileSync(join(standalone, "snapshot.0")).toString("hex"))
  })

  it.effect("our writer reproduces log.1 byte for byte (16 KiB preallocation)", () =>
    Effect.gen(function* () {
      const m = memoryWithFixture(standalone)
      const entries: Array<TxnLog.RawTxn> = []
      yield* m.provide(TxnLog.scanFile(m.dir, "log.1", 0, (r) => void entries.push({ zxid: r.zxid, entry: r.entry.slice() })))
      const out = memoryWithFixture(standalone, ["log.1", "log.3a", "snapshot.0", "snapshot.39"])
      const w = new TxnLog.TxnLogWriter(out.disk, { dir: out.dir, preAllocSizeBytes: 16 * 1024 })
      for (const e of entries.slice(0, 10)) w.append(e.zxid, e.entry)
      yield* w.sync
      for (const e of entries.slice(10)) w.append(e.zxid, e.entry)
      yield* w.sync
      const ours = out.control.files().get(join(out.dir, "log.1"))!
      assert.strictEqual(Buffer.from(ours).toString("hex"), readFileSync(join(standalone, "log.1")).toString("hex"))
      // The decoded path (appendEntry) writes the same bytes as the raw one.
      const again = memoryWithFixture(standalone, ["log.1", "log.3a", "snapshot.0", "snapshot.39"])
      const w2 = new TxnLog.TxnLogWriter(again.disk, { dir: again.dir, preAllocSizeBytes: 16 * 1024 })
      for (const e of entries) w2.appendEntry(readTxnEntry(e.entry))
      yield* w2.sync
      assert.deepStrictEqual(again.control.files().get(join(again.dir, "log.1")), ours)
    })
  )
})
