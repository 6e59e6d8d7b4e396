/**
 * The snapshot schedule (src/server/commit/Snapshots.ts): a snapshot after the randomised roll point
 * in [snapCount/2, snapCount) committed txns, the log rolled first; and a snapshot in progress when
 * its scope closes (a quorum role ending) leaves no snapshot file behind.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Exit, Logger, LogLevel, Scope } from "effect"
import { Disk, makeMemory } from "../../src/disk/Disk.js"
import * as Snapshots from "../../src/server/commit/Snapshots.js"
import * as Storage from "../../src/storage/Storage.js"
import { rng, treeOptions, TxnDriver } from "../storage/helpers.js"

const dir = "/zk/version-2"
const names = (m: ReturnType<typeof makeMemory>) =>
  [...m.control.files().keys()].filter((p) => p.startsWith(dir + "/")).map((p) => p.slice(dir.length + 1)).sort()

const openStore = (m: ReturnType<typeof makeMemory>, snapshotChunkNodes?: number) =>
  Storage.openStandalone({ dataDir: "/zk", tree: treeOptions, preAllocSizeBytes: 4096, snapshotChunkNodes }).pipe(
    Effect.provideService(Disk, m.disk),
    Logger.withMinimumLogLevel(LogLevel.Error)
  )

/** Logs and applies `n` random txns (what a commit stage does before `committed`). */
const commitTxns = (store: Storage.Store, driver: TxnDriver, n: number, seed: number) =>
  Effect.gen(function* () {
    const r = rng(seed)
    for (let i = 0; i < n; i++) store.log.appendEntry(driver.random(r))
    yield* store.log.sync
  })

/** Lets the schedule's fiber run (a few scheduler turns). */
const settle = Effect.repeatN(Effect.yieldNow(), 20)

describe("snapshot schedule", () => {
  it.scoped("snapshots once the roll point in [snapCount/2, snapCount) is passed, after rolling the log", () =>
    Effect.gen(function* () {
      const m = makeMemory()
      const store = yield* openStore(m)
      const driver = new TxnDriver(store.tree)
      const snaps = yield* Snapshots.start(store, 20)
      yield* commitTxns(store, driver, 9, 1)
      snaps.committed(9)
      yield* settle
      assert.deepStrictEqual(names(m), ["log.1", "snapshot.0"], "below snapCount/2: no snapshot")
      yield* commitTxns(store, driver, 11, 2)
      snaps.committed(11)
      yield* settle
      assert.deepStrictEqual(names(m), ["log.1", "snapshot.0", "snapshot.14"])
      // The log was rolled: the next txn starts a new file.
      yield* commitTxns(store, driver, 1, 3)
      assert.include(names(m), "log.15")
    }))

  it.scoped("a snapshot interrupted by its scope closing leaves neither a snapshot nor a temporary file", () =>
    Effect.gen(function* () {
      const m = makeMemory()
      // 100 znodes per chunk: a tree of thousands takes many scheduler turns to write.
      const store = yield* openStore(m, 100)
      const driver = new TxnDriver(store.tree)
      for (let i = 0; i < 3000; i++) store.log.appendEntry(driver.commit(1n, driver.createTxn(`/n${i}`, "x", [{ perms: 31, id: { scheme: "world", id: "anyone" } }], false)))
      yield* store.log.sync
      const role = yield* Scope.make()
      const snaps = yield* Snapshots.start(store, 2).pipe(Scope.extend(role))
      snaps.committed(3000)
      yield* Effect.repeatN(Effect.yieldNow(), 3)
      assert.isTrue(names(m).some((n) => n.endsWith(".tmp")), "the snapshot is being written")
      yield* Scope.close(role, Exit.void)
      assert.deepStrictEqual(names(m), ["log.1", "snapshot.0"])
    }))
})
