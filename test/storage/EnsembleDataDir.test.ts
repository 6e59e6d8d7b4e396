/**
 * The data dirs of ZooKeeper 3.8.0's ensemble run (vectors/datadir-ensemble/s1..s4: a SNAP-synced
 * follower, the final leader, the killed-and-DIFF-synced first leader, an observer) open with
 * ezk's own storage over the real file system: each copy recovers to the last zxid and tree
 * digest its sN.json records, to the same client-visible tree, and reads both epoch files as 2.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import * as Disk from "../../src/disk/Disk.js"
import * as Epoch from "../../src/storage/Epoch.js"
import * as Storage from "../../src/storage/Storage.js"
import { nodeStat } from "../../src/tree/ZNode.js"
import * as V from "../wire/vectors.js"
import { treeOptions, vectorsDir } from "./helpers.js"

const servers = ["s1", "s2", "s3", "s4"] as const

/** The last TxnDigest of the server's logs and the zxid it belongs to. */
const lastLogged = (expected: Record<string, any>) => {
  const txns = Object.keys(expected["logs"])
    .sort()
    .flatMap((name) => expected["logs"][name]["txns"] as Array<Record<string, any>>)
  const last = txns[txns.length - 1]!
  return { zxid: last["hdr"]["zxid"] as number, digest: BigInt(last["digest"]["treeDigest"]) }
}

/** A copy of the fixture in a fresh temp dir, so recovery may cut or create files freely. */
const copyOf = (server: string) =>
  Effect.acquireRelease(
    Effect.sync(() => {
      const dir = mkdtempSync(join(tmpdir(), `ezk-ensemble-${server}-`))
      cpSync(join(vectorsDir, "datadir-ensemble", server), dir, { recursive: true })
      return dir
    }),
    (dir) => Effect.sync(() => rmSync(dir, { recursive: true, force: true }))
  )

const fileBytes = (dir: string): Record<string, string> => {
  const out: Record<string, string> = {}
  for (const name of readdirSync(dir)) out[name] = readFileSync(join(dir, name)).toString("hex")
  return out
}

describe("ZooKeeper 3.8 ensemble data dirs", () => {
  for (const server of servers) {
    it.scoped(`${server}: recovers to the recorded last zxid, digest and tree; epochs are 2`, () =>
      Effect.gen(function* () {
        const expected = V.readJson(`datadir-ensemble/${server}.json`)
        const want = lastLogged(expected)
        const fixture = join(vectorsDir, "datadir-ensemble", server, "version-2")
        const before = fileBytes(fixture)
        const dataDir = yield* copyOf(server)
        const store = yield* Storage.open({ dataDir, tree: treeOptions, preAllocSizeBytes: 16 * 1024 })
        const rec = store.recovery
        assert.strictEqual(rec.snapshot?.name, expected["recovery"]["snapshotUsed"])
        assert.strictEqual(rec.lastZxid, want.zxid)
        assert.deepStrictEqual(rec.digestMismatches, [])
        assert.isNull(rec.tornTail)
        assert.strictEqual(BigInt.asUintN(64, store.tree.digest.value), BigInt.asUintN(64, want.digest))
        assert.deepStrictEqual([...rec.recentTxns], [])

        const finalTree = expected["recovery"]["finalTree"] as Record<string, Record<string, any>>
        assert.deepStrictEqual([...store.tree.paths()].sort(), Object.keys(finalTree).sort())
        for (const [path, n] of Object.entries(finalTree)) {
          const node = store.tree.get(path)!
          const s = nodeStat(node)
          assert.strictEqual(Buffer.from(node.data ?? new Uint8Array(0)).toString("hex"), n["data_hex"], path)
          assert.deepStrictEqual({ ...s, ephemeralOwner: V.exactInt(s.ephemeralOwner) }, n["stat"], path)
          const acl = store.tree.aclOf(node).map((a) => ({ perms: a.perms, scheme: a.id.scheme, id: a.id.id }))
          assert.deepStrictEqual(acl, n["acl"], path)
        }
        assert.deepStrictEqual(Object.keys(expected["recovery"]["liveSessionsAfterReplay"]).length, store.tree.sessions.size)

        assert.strictEqual(yield* Epoch.read(store.snapDir, "acceptedEpoch"), 2)
        assert.strictEqual(yield* Epoch.read(store.snapDir, "currentEpoch"), 2)
        yield* store.close
        assert.deepStrictEqual(fileBytes(fixture), before, "the fixture itself is untouched")
      }).pipe(Effect.provide(Disk.layerNode))
    )
  }
})
