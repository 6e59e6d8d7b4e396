/**
 * Snapshots: round trips of random trees, the fuzzy writer racing concurrent txns (recovery must
 * rebuild the live tree exactly and the digest section must check out), fallback to an older
 * snapshot when the newest is damaged, and the fatal "logs but no snapshot" case.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Fiber, Logger, LogLevel } from "effect"
import { Disk, join, makeMemory } from "../../src/disk/Disk.js"
import { DataTree } from "../../src/tree/DataTree.js"
import * as Recovery from "../../src/storage/Recovery.js"
import * as Snapshot from "../../src/storage/Snapshot.js"
import * as SnapshotWriter from "../../src/storage/SnapshotWriter.js"
import * as SnapStream from "../../src/storage/SnapStream.js"
import * as TxnLog from "../../src/storage/TxnLog.js"
import { Op } from "../../src/wire/Codes.js"
import { readFileSync } from "node:fs"
import { assertSameTree, rng, treeOptions, TxnDriver, vectorsDir } from "./helpers.js"

const dir = "/data/version-2"

const setup = () => {
  const m = makeMemory()
  Effect.runSync(m.disk.mkdirp(dir))
  const provide = <A, E>(eff: Effect.Effect<A, E, Disk>) => Effect.provideService(eff, Disk, m.disk)
  const recover = (extra: Partial<Recovery.RecoveryOptions> = {}) =>
    provide(Recovery.recover({ snapDir: dir, logDir: dir, tree: treeOptions, ...extra })).pipe(Logger.withMinimumLogLevel(LogLevel.Error))
  return { ...m, provide, recover }
}

/** A driver whose txns are all logged (synced) on the memory disk, starting from a fresh data dir. */
const loggedDriver = (s: ReturnType<typeof setup>) =>
  Effect.gen(function* () {
    yield* s.recover()
    const driver = new TxnDriver()
    const log = new TxnLog.TxnLogWriter(s.disk, { dir, preAllocSizeBytes: 4096 })
    const step = (r: ReturnType<typeof rng>, n: number) => {
      for (let i = 0; i < n; i++) log.appendEntry(driver.random(r))
    }
    return { driver, log, step }
  })

describe("Snapshot", () => {
  it("encode/decode round-trips random trees (sessions, ACLs, ephemerals, containers, TTLs, null data)", () => {
    for (let seed = 1; seed <= 8; seed++) {
      const d = new TxnDriver()
      const r = rng(seed)
      for (let i = 0; i < 300; i++) d.random(r)
      const bytes = SnapshotWriter.encode(d.tree)
      const back = Snapshot.decode(bytes, "x", d.tree.lastProcessedZxid, treeOptions)
      assert.notInstanceOf(back, Snapshot.SnapshotCorrupt)
      const loaded = back as Snapshot.LoadedSnapshot
      assertSameTree(loaded.tree, d.tree, `seed ${seed}`)
      assert.deepStrictEqual(loaded.digest, { zxid: d.tree.lastProcessedZxid, version: 2, hi: d.tree.digest.hi, lo: d.tree.digest.lo })
      // The loaded tree keeps numbering ACL refs after the largest one loaded.
      assert.deepStrictEqual(SnapshotWriter.encode(loaded.tree), bytes)
    }
  })

  it("paths beyond ASCII round-trip (UTF-8, not one byte per character), in a file and in a SNAP stream", () => {
    const d = new TxnDriver()
    const acl = [{ perms: 31, id: { scheme: "world", id: "anyone" } }]
    // U+00E9 and U+00FF would decode to other characters byte by byte; U+FEFF must stay a character.
    for (const path of ["/caf\u00e9", "/caf\u00e9/\u00ff", "/\u65e5\u672c", "/\u65e5\u672c/\ufeffx", "/a\u0080b", "/plain"]) d.commit(0n, d.createTxn(path, "v", acl, false))
    const bytes = SnapshotWriter.encode(d.tree)
    const back = Snapshot.decode(bytes, "x", d.tree.lastProcessedZxid, treeOptions)
    assert.notInstanceOf(back, Snapshot.SnapshotCorrupt)
    assertSameTree((back as Snapshot.LoadedSnapshot).tree, d.tree, "file")
    const streamed = SnapStream.encode(d.tree)
    const decoder = new SnapStream.SnapStreamDecoder(d.tree.lastProcessedZxid, treeOptions)
    let got: SnapStream.Received | null = null
    // Fed a byte at a time: every path is split across chunks somewhere.
    for (let i = 0; i < streamed.length && got === null; i++) got = decoder.feed(streamed.subarray(i, i + 1))
    assert.isNotNull(got)
    assertSameTree(got!.tree, d.tree, "stream")
  })

  it.effect("a fuzzy snapshot taken while txns keep landing recovers to the exact live tree", () =>
    Effect.gen(function* () {
      for (let seed = 1; seed <= 6; seed++) {
        const s = setup()
        const { driver, log, step } = yield* loggedDriver(s)
        const r = rng(seed)
        step(r, 1500)
        yield* log.sync
        log.roll()
        const fiber = yield* Effect.fork(s.provide(SnapshotWriter.write(dir, driver.tree, { chunkNodes: 20, flushBytes: 2048 })))
        let rounds = 0
        while (fiber.unsafePoll() === null) {
          step(r, 1 + r.int(6))
          yield* log.sync
          rounds++
          yield* Effect.yieldNow()
        }
        const info = yield* Fiber.join(fiber)
        assert.isAbove(rounds, 5, "txns interleaved with the walk")
        assert.isAbove(info.digest!.zxid, info.zxid, "digest taken at the end of the walk")
        step(r, 50)
        yield* log.sync
        const rec = yield* s.recover()
        assert.strictEqual(rec.snapshot?.name, info.name)
        assert.strictEqual(rec.snapshotDigest, "match", `seed ${seed}`)
        assert.deepStrictEqual(rec.digestMismatches, [], `seed ${seed}`)
        assert.isAbove(rec.digestChecks, 0)
        assertSameTree(rec.tree, driver.tree, `seed ${seed}`)
      }
    })
  )

  it.effect("a setACL with a new list during the walk leaves an unknown ref that replay restores", () =>
    Effect.gen(function* () {
      const s = setup()
      const { driver, log, step } = yield* loggedDriver(s)
      step(rng(9), 200)
      yield* log.sync
      const enc = new SnapshotWriter.SnapshotEncoder(driver.tree)
      // Pick a node the walk has not reached yet and give it a brand-new ACL list.
      const target = [...driver.tree.paths()].filter((p) => !p.startsWith("/zookeeper")).pop()!
      const acl = [{ perms: 3, id: { scheme: "digest", id: "late:abc" } }]
      log.appendEntry(driver.commit(0n, { type: Op.setACL, path: target, acl, version: driver.tree.get(target)!.aversion + 1 }))
      yield* log.sync
      while (!enc.step(Infinity, Infinity)) {
        /* walk */
      }
      enc.finish()
      assert.strictEqual(enc.unknownAclRefs, 1)
      yield* s.disk.writeFile(join(dir, Snapshot.snapshotName(enc.zxid)), enc.out.copy())
      yield* s.disk.syncDir(dir)
      const loaded = Snapshot.decode(enc.out.copy(), "s", enc.zxid, treeOptions) as Snapshot.LoadedSnapshot
      assert.deepStrictEqual(loaded.unresolvedAcl, [target])
      assert.deepStrictEqual(loaded.tree.aclOf(loaded.tree.get(target)!), [])
      const rec = yield* s.recover()
      assert.strictEqual(rec.snapshot?.zxid, enc.zxid)
      assert.deepStrictEqual(rec.tree.aclOf(rec.tree.get(target)!), acl)
      assertSameTree(rec.tree, driver.tree)
    })
  )

  it.effect("a damaged or incomplete newest snapshot falls back to the previous one", () =>
    Effect.gen(function* () {
      const s = setup()
      const { driver, log, step } = yield* loggedDriver(s)
      const r = rng(10)
      step(r, 100)
      yield* log.sync
      log.roll()
      const first = yield* s.provide(SnapshotWriter.write(dir, driver.tree))
      step(r, 100)
      yield* log.sync
      log.roll()
      const second = yield* s.provide(SnapshotWriter.write(dir, driver.tree))
      step(r, 20)
      yield* log.sync
      const path = join(dir, second.name)
      const good = s.control.files().get(path)!
      const flipped = good.slice()
      const mid = Math.floor(good.length / 2)
      flipped[mid] = flipped[mid]! ^ 0x10
      for (const bad of [flipped, good.subarray(0, good.length - 3)]) {
        yield* s.disk.writeFile(path, bad)
        const rec = yield* s.recover()
        assert.strictEqual(rec.snapshot?.name, first.name)
        assert.strictEqual(rec.skippedSnapshots[0]?.name, second.name)
        assertSameTree(rec.tree, driver.tree)
      }
    })
  )

  it.effect("logs without any valid snapshot are fatal unless snapshot.trust.empty", () =>
    Effect.gen(function* () {
      const s = setup()
      const { driver, log, step } = yield* loggedDriver(s)
      step(rng(11), 30)
      yield* log.sync
      yield* s.disk.unlink(join(dir, "snapshot.0"))
      const err = yield* Effect.flip(s.recover())
      assert.strictEqual(err._tag, "RecoveryFailed")
      assert.include(err.message, "no valid snapshot")
      const rec = yield* s.recover({ trustEmptySnapshot: true })
      assertSameTree(rec.tree, driver.tree)
    })
  )

  it.effect("a fresh data dir gets ZooKeeper's snapshot.0; autocreate=false needs the initialize file", () =>
    Effect.gen(function* () {
      const s = setup()
      const rec = yield* s.recover()
      assert.isTrue(rec.created)
      assert.deepStrictEqual(
        s.control.files().get(join(dir, "snapshot.0")),
        new Uint8Array(readFileSync(join(vectorsDir, "datadir-standalone/version-2/snapshot.0")))
      )
      const t = setup()
      const err = yield* Effect.flip(t.recover({ autoCreateDb: false, initializeFile: "/data/initialize" }))
      assert.strictEqual((err as Recovery.RecoveryFailed).reason, "NoDatabase")
      yield* t.disk.writeFile("/data/initialize", new Uint8Array(0))
      const ok = yield* t.recover({ autoCreateDb: false, initializeFile: "/data/initialize" })
      assert.isTrue(ok.created)
      assert.isFalse(yield* t.disk.exists("/data/initialize"))
      assert.strictEqual(ok.tree.digest.value, new DataTree(treeOptions).digest.value)
    })
  )
})
