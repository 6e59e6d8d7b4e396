/**
 * Apache ZooKeeper 3.8 reads what we write: a data dir produced by our writer (snapshot.0, logs
 * with preallocation growth and rolls, a fuzzy snapshot taken while txns landed) is loaded by
 * ZooKeeper's own recovery (ZkLoad.java over FileTxnSnapLog/ZKDatabase: seals, checksums and every
 * TxnDigest checked) and must give our tree; SnapshotFormatter and TxnLogToolkit accept every file;
 * and the snapshot ZooKeeper then writes loads back into the same tree on our side.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Fiber, Logger, LogLevel } from "effect"
import { execFile } from "node:child_process"
import { existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { Disk, layerNode } from "../../src/disk/Disk.js"
import * as Recovery from "../../src/storage/Recovery.js"
import * as Snapshot from "../../src/storage/Snapshot.js"
import * as SnapshotWriter from "../../src/storage/SnapshotWriter.js"
import * as TxnLog from "../../src/storage/TxnLog.js"
import { assertSameTree, clientView, rng, treeOptions, TxnDriver } from "./helpers.js"
import { missingTool } from "../support/requireTool.js"

const jar = "/usr/share/java/zookeeper.jar"
const classpath = `${jar}:/usr/share/java/slf4j-nop.jar`
const missing = missingTool("zookeeper.jar and slf4j-nop.jar", existsSync(jar) && existsSync("/usr/share/java/slf4j-nop.jar"), "apt-get install zookeeper libslf4j-java")
const harness = new URL("./ZkLoad.java", import.meta.url).pathname

const java = (args: ReadonlyArray<string>): Effect.Effect<{ code: number; stdout: string; stderr: string }> =>
  Effect.async((resume) => {
    execFile("java", ["-Dzookeeper.extendedTypesEnabled=true", "-cp", classpath, ...args], { maxBuffer: 64 << 20 }, (err, stdout, stderr) =>
      resume(Effect.succeed({ code: err === null ? 0 : typeof err.code === "number" ? err.code : 1, stdout, stderr }))
    )
  })

describe.skipIf(missing)("Apache ZooKeeper 3.8 reads our data dir", () => {
  it.live(
    "ZooKeeper's recovery, SnapshotFormatter and TxnLogToolkit accept our files; we load ZooKeeper's snapshot of them",
    () =>
      Effect.gen(function* () {
        const root = mkdtempSync(path.join(os.tmpdir(), "ezk-storage-interop-"))
        yield* Effect.addFinalizer(() => Effect.sync(() => rmSync(root, { recursive: true, force: true })))
        const dir = path.join(root, "version-2")
        const rec = yield* Recovery.recover({ snapDir: dir, logDir: dir, tree: treeOptions })
        const driver = new TxnDriver(rec.tree)
        const disk = yield* Disk
        const log = new TxnLog.TxnLogWriter(disk, { dir, preAllocSizeBytes: 16 * 1024 })
        const r = rng(2024)
        const step = (n: number) => {
          for (let i = 0; i < n; i++) log.appendEntry(driver.random(r))
        }
        for (let i = 0; i < 15; i++) {
          step(20)
          yield* log.sync
        }
        log.roll()
        const fiber = yield* Effect.fork(SnapshotWriter.write(dir, driver.tree, { chunkNodes: 10, flushBytes: 1024 }))
        // Let the snapshot take its starting zxid before the first interleaved txns.
        yield* Effect.yieldNow()
        while (fiber.unsafePoll() === null) {
          step(3)
          yield* log.sync
          yield* Effect.yieldNow()
        }
        const info = yield* Fiber.join(fiber)
        assert.isAbove(info.digest!.zxid, info.zxid)
        step(100)
        yield* log.close

        // ZooKeeper's own recovery of our files.
        const loaded = yield* java([harness, root, "save"])
        assert.strictEqual(loaded.code, 0, loaded.stderr)
        const zk = JSON.parse(loaded.stdout) as { lastZxid: number; digest: string; mismatches: Array<number>; sessions: Record<string, number>; nodes: Record<string, any> }
        assert.strictEqual(zk.lastZxid, driver.zxid)
        assert.deepStrictEqual(zk.mismatches, [])
        assert.strictEqual(zk.digest, driver.tree.digest.value.toString())
        const ours = clientView(driver.tree) as Record<string, any>
        for (const v of Object.values(ours)) v.stat.ephemeralOwner = String(v.stat.ephemeralOwner)
        assert.deepStrictEqual(zk.nodes, ours)
        assert.deepStrictEqual(
          zk.sessions,
          Object.fromEntries([...driver.tree.sessions].map(([id, t]) => [BigInt.asUintN(64, id).toString(16), t]))
        )

        // The formatters read every file we wrote.
        const names = readdirSync(dir)
        const logs = names.filter((n) => TxnLog.parseLogName(n) !== null)
        const snaps = names.filter((n) => Snapshot.parseSnapshotName(n) !== null)
        assert.isAtLeast(logs.length, 2)
        const runs = yield* Effect.all(
          [
            ...snaps.map((n) => java(["org.apache.zookeeper.server.SnapshotFormatter", path.join(dir, n)])),
            ...logs.map((n) => java(["org.apache.zookeeper.server.persistence.TxnLogToolkit", path.join(dir, n)]))
          ],
          { concurrency: 4 }
        )
        let txns = 0
        for (const run of runs) {
          assert.strictEqual(run.code, 0, run.stderr + run.stdout.slice(-500))
          assert.notInclude(run.stdout, "CRC ERROR")
          const m = /EOF reached after (\d+) txns/.exec(run.stdout)
          if (m !== null) txns += Number(m[1])
        }
        assert.strictEqual(txns, driver.zxid)

        // ZooKeeper saved snapshot.<lastZxid> of what it loaded: it loads back into the same tree here.
        const back = yield* Recovery.recover({ snapDir: dir, logDir: dir, tree: treeOptions })
        assert.strictEqual(back.snapshot?.zxid, driver.zxid)
        assert.strictEqual(back.snapshotDigest, "match")
        assertSameTree(back.tree, driver.tree)
      }).pipe(Effect.provide(layerNode), Effect.scoped, Logger.withMinimumLogLevel(LogLevel.Error)),
    60_000
  )
})
