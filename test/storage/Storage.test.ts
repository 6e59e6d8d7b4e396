/**
 * The facade as the standalone server uses it (open → append/sync → roll + background snapshot →
 * close → reopen), and autopurge.
 */
import { assert, describe, it } from "@effect/vitest"
import { Duration, Effect, Fiber, Logger, LogLevel, Scope, TestClock } from "effect"
import { Disk, makeMemory } from "../../src/disk/Disk.js"
import * as Epoch from "../../src/storage/Epoch.js"
import * as Purge from "../../src/storage/Purge.js"
import * as Snapshot from "../../src/storage/Snapshot.js"
import * as Storage from "../../src/storage/Storage.js"
import * as TxnLog from "../../src/storage/TxnLog.js"
import { assertSameTree, memoryWithFixture, rng, treeOptions, TxnDriver, vectorsDir } from "./helpers.js"

const config: Storage.StorageConfig = { dataDir: "/zk", tree: treeOptions, preAllocSizeBytes: 4096 }
const dir = "/zk/version-2"

const names = (m: ReturnType<typeof makeMemory>) =>
  [...m.control.files().keys()].filter((p) => p.startsWith(dir + "/")).map((p) => p.slice(dir.length + 1)).sort()

/** Opens the store in its own scope (closed by the caller), on the given memory disk. */
const openIn = (m: ReturnType<typeof makeMemory>) =>
  Effect.gen(function* () {
    const scope = yield* Scope.make()
    const store = yield* Storage.openStandalone(config).pipe(Scope.extend(scope), Effect.provideService(Disk, m.disk), Logger.withMinimumLogLevel(LogLevel.Error))
    return { store, close: Scope.close(scope, { _tag: "Success", value: undefined } as never) }
  })

describe("Storage facade", () => {
  it.effect("standalone lifecycle: fresh dir, group commit, background snapshot, restart with startup snapshot", () =>
    Effect.gen(function* () {
      const m = makeMemory()
      const first = yield* openIn(m)
      assert.isTrue(first.store.recovery.created)
      assert.deepStrictEqual(names(m), ["snapshot.0"])
      const driver = new TxnDriver(first.store.tree)
      const r = rng(1)
      for (let i = 0; i < 40; i++) first.store.log.appendEntry(driver.random(r))
      yield* first.store.log.sync
      assert.deepStrictEqual(names(m), ["log.1", "snapshot.0"])
      // What the server does every ~snapCount txns: roll, then snapshot in the background.
      first.store.log.roll()
      const snap = yield* Effect.fork(first.store.snapshot)
      yield* Effect.yieldNow() // let it start (and take its zxid) before more txns land
      for (let i = 0; i < 10; i++) first.store.log.appendEntry(driver.random(r))
      yield* first.store.log.sync
      const info = yield* Fiber.join(snap)
      assert.strictEqual(info.name, "snapshot.28")
      assert.deepStrictEqual(names(m), ["log.1", "log.29", "snapshot.0", "snapshot.28"])
      for (let i = 0; i < 5; i++) first.store.log.appendEntry(driver.random(r))
      yield* first.close // syncs the pending appends
      yield* m.control.crash()

      const second = yield* openIn(m)
      assert.strictEqual(second.store.recovery.lastZxid, 55)
      assertSameTree(second.store.tree, driver.tree)
      // Startup snapshot of the replayed state; the next append starts a new log.
      assert.include(names(m), "snapshot.37")
      const d2 = new TxnDriver(second.store.tree)
      second.store.log.appendEntry(d2.random(r))
      yield* second.store.log.sync
      assert.include(names(m), "log.38")
      yield* second.close

      // Nothing new since the startup snapshot: no second identical one.
      const third = yield* openIn(m)
      assert.strictEqual(third.store.recovery.snapshot?.name, "snapshot.37")
      yield* third.close
    })
  )

  it.effect("truncateLog drops txns after a zxid and later snapshots; appends continue after it", () =>
    Effect.gen(function* () {
      const m = makeMemory()
      const { store, close } = yield* openIn(m)
      const driver = new TxnDriver(store.tree)
      const r = rng(2)
      const digests: Array<bigint> = [driver.tree.digest.value]
      for (let i = 0; i < 30; i++) {
        store.log.appendEntry(driver.random(r))
        digests.push(driver.tree.digest.value)
      }
      yield* store.log.sync
      const result = yield* store.truncateLog(12)
      assert.strictEqual(result.truncated, "log.1")
      assert.deepStrictEqual((yield* store.readLog(0)).map((t) => t.zxid), Array.from({ length: 12 }, (_, i) => i + 1))
      yield* close
      const again = yield* openIn(m)
      assert.strictEqual(again.store.recovery.lastZxid, 12)
      assert.strictEqual(again.store.tree.digest.value, digests[12])
      yield* again.close
    })
  )
})

describe("Purge", () => {
  const snap = (zxid: number): Snapshot.SnapshotFile => ({ name: Snapshot.snapshotName(zxid), zxid })
  const log = (zxid: number): TxnLog.LogFile => ({ name: TxnLog.logName(zxid), zxid })

  it("keeps the newest N snapshots and the logs from the newest one at or below the oldest kept", () => {
    const snaps = [snap(0x90), snap(0x60), snap(0x40), snap(0x20), snap(0)]
    const logs = [log(1), log(0x21), log(0x35), log(0x41), log(0x61)]
    const p = Purge.plan(snaps, snaps, logs, 3)
    assert.strictEqual(p.oldestKept, 0x40)
    assert.deepStrictEqual(p.snapshots, ["snapshot.20", "snapshot.0"])
    assert.deepStrictEqual(p.logs, ["log.1", "log.21"])
    // Retain counts below 3 count as 3; nothing to do with fewer snapshots than that.
    assert.deepStrictEqual(Purge.plan(snaps, snaps, logs, 1), p)
    assert.deepStrictEqual(Purge.plan(snaps.slice(0, 2), snaps.slice(0, 2), logs, 3).logs, ["log.1", "log.21", "log.35"])
    assert.deepStrictEqual(Purge.plan([], snaps, logs, 3), { oldestKept: null, snapshots: [], logs: [] })
  })

  it.effect("the autopurge fiber runs at start and then every interval; recovery still works", () =>
    Effect.gen(function* () {
      const m = makeMemory()
      const { store, close } = yield* openIn(m)
      const driver = new TxnDriver(store.tree)
      const r = rng(3)
      for (let round = 0; round < 5; round++) {
        for (let i = 0; i < 10; i++) store.log.appendEntry(driver.random(r))
        yield* store.log.sync
        store.log.roll()
        yield* store.snapshot
      }
      const before = names(m)
      assert.strictEqual(before.filter((n) => n.startsWith("snapshot.")).length, 6)
      yield* Purge.schedule({ snapDir: dir, logDir: dir, snapRetainCount: 3, purgeIntervalHours: 1 }).pipe(Effect.provideService(Disk, m.disk))
      yield* TestClock.adjust(Duration.millis(1))
      assert.deepStrictEqual(
        names(m).filter((n) => n.startsWith("snapshot.")),
        ["snapshot.1e", "snapshot.28", "snapshot.32"]
      )
      assert.deepStrictEqual(
        names(m).filter((n) => n.startsWith("log.")),
        ["log.15", "log.1f", "log.29"]
      )
      for (let i = 0; i < 10; i++) store.log.appendEntry(driver.random(r))
      yield* store.log.sync
      store.log.roll()
      yield* store.snapshot
      yield* TestClock.adjust(Duration.hours(1))
      assert.deepStrictEqual(
        names(m).filter((n) => n.startsWith("snapshot.")),
        ["snapshot.28", "snapshot.32", "snapshot.3c"]
      )
      yield* close
      const again = yield* openIn(m)
      assertSameTree(again.store.tree, driver.tree)
      yield* again.close
    }).pipe(Effect.scoped)
  )
})



describe("Epoch files", () => {
  it.effect("acceptedEpoch/currentEpoch: decimal ASCII without newline, atomic replace, ZooKeeper's files read back", () =>
    Effect.gen(function* () {
      const m = makeMemory()
      yield* m.disk.mkdirp(dir)
      const provide = <A, E>(e: Effect.Effect<A, E, Disk>) => Effect.provideService(e, Disk, m.disk)
      assert.strictEqual(yield* provide(Epoch.read(dir, "currentEpoch")), null)
      yield* provide(Epoch.write(dir, "currentEpoch", 2))
      assert.deepStrictEqual(m.control.files().get(`${dir}/currentEpoch`), new Uint8Array([0x32]))
      assert.isFalse(m.control.files().has(`${dir}/currentEpoch.tmp`))
      yield* m.control.crash()
      assert.strictEqual(yield* provide(Epoch.read(dir, "currentEpoch")), 2)
      yield* m.disk.writeFile(`${dir}/acceptedEpoch`, new TextEncoder().encode("17\n"))
      assert.strictEqual(yield* provide(Epoch.read(dir, "acceptedEpoch")), 17)
      yield* m.disk.writeFile(`${dir}/acceptedEpoch`, new TextEncoder().encode("x"))
      assert.strictEqual((yield* Effect.flip(provide(Epoch.read(dir, "acceptedEpoch"))))._tag, "EpochFileCorrupt")
      // The fixture's files (written by ZooKeeper 3.8).
      const s1 = memoryWithFixture(`${vectorsDir}datadir-ensemble/s1/version-2`)
      assert.strictEqual(yield* s1.provide(Epoch.read(s1.dir, "acceptedEpoch")), 2)
      assert.strictEqual(yield* s1.provide(Epoch.read(s1.dir, "currentEpoch")), 2)
    })
  )
})
