/**
 * The Disk port: the memory disk's durability model (what survives `crash`, torn writes replayed
 * from a seed, directory entries needing syncDir, injected ENOSPC/EIO) and the node layer's basics.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Fiber, Random, TestClock } from "effect"
import { mkdtempSync, rmSync } from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { Disk, DiskError, join, layerMemory, layerNode, makeMemory, MemoryDisk } from "../../src/disk/Disk.js"

const bytes = (...xs: Array<number>) => new Uint8Array(xs)

describe("memory disk", () => {
  it.effect("synced data and synced names survive a crash; the rest is lost", () =>
    Effect.gen(function* () {
      const { disk, control } = makeMemory()
      yield* disk.mkdirp("/d")
      const f = yield* disk.open("/d/a", "create")
      yield* f.write(bytes(1, 2, 3), 0)
      yield* f.datasync
      yield* disk.syncDir("/d")
      yield* f.write(bytes(9, 9), 3) // never synced
      const g = yield* disk.open("/d/b", "create")
      yield* g.write(bytes(7), 0)
      yield* g.datasync // data synced, but the name never was
      yield* disk.rename("/d/a", "/d/c") // rename not synced
      yield* control.crash()
      assert.deepStrictEqual([...(yield* disk.list("/d"))], ["a"])
      assert.deepStrictEqual(yield* disk.readFile("/d/a"), bytes(1, 2, 3))
      // Handles from before the crash are dead.
      assert.strictEqual((yield* Effect.flip(f.write(bytes(1), 0))).code, "EBADF")
    })
  )

  it.effect("a torn crash keeps a prefix of the unsynced writes, replayable from the seed", () =>
    Effect.gen(function* () {
      const run = (seed: number) =>
        Effect.gen(function* () {
          const { disk, control } = makeMemory()
          yield* disk.mkdirp("/d")
          const f = yield* disk.open("/d/a", "create")
          yield* f.write(new Uint8Array(8).fill(1), 0)
          yield* f.datasync
          yield* disk.syncDir("/d")
          yield* f.write(new Uint8Array(8).fill(2), 8)
          yield* f.write(new Uint8Array(8).fill(3), 16)
          yield* control.crash({ tear: true }).pipe(Effect.withRandom(Random.make(seed)))
          return yield* disk.readFile("/d/a")
        })
      const seen = new Set<string>()
      for (let seed = 0; seed < 60; seed++) {
        const a = yield* run(seed)
        assert.deepStrictEqual(yield* run(seed), a, "same seed, same crash")
        const expected = new Uint8Array(24)
        expected.fill(1, 0, 8).fill(2, 8, 16).fill(3, 16, 24)
        assert.isAtLeast(a.length, 8)
        // Every byte is either what was written there or zero padding after the tear.
        let torn = false
        for (let i = 0; i < a.length; i++) {
          if (a[i] === 0 && i >= 8) torn = true
          else assert.isTrue(!torn && a[i] === expected[i], `seed ${seed} byte ${i}`)
        }
        seen.add(`${a.length}:${a.indexOf(0)}`)
      }
      assert.isAbove(seen.size, 5, "tears land in different places")
    })
  )

  it.effect("injected faults: ENOSPC after N bytes (short write kept), failing fsync", () =>
    Effect.gen(function* () {
      const disk = yield* Disk
      const control = yield* MemoryDisk
      yield* disk.mkdirp("/d")
      const f = yield* disk.open("/d/a", "create")
      yield* control.setFaults({ writeLimitBytes: 5 })
      const e = yield* Effect.flip(f.write(bytes(1, 2, 3, 4, 5, 6, 7), 0))
      assert.instanceOf(e, DiskError)
      assert.strictEqual(e.code, "ENOSPC")
      assert.strictEqual(e.op, "write")
      assert.include(e.message, "/d/a")
      assert.strictEqual(yield* f.size, 5)
      yield* control.setFaults({ writeLimitBytes: null, failSync: true })
      assert.strictEqual((yield* Effect.flip(f.datasync)).code, "EIO")
      assert.strictEqual((yield* Effect.flip(disk.syncDir("/d"))).op, "syncDir")
      yield* control.setFaults({ failSync: false })
      yield* f.datasync
      assert.strictEqual(control.bytesWritten(), 5)
    }).pipe(Effect.provide(layerMemory()))
  )

  it.effect("a slow fsync: durable when it returns, only what was written before it began; a crash meanwhile loses it", () =>
    Effect.gen(function* () {
      const { disk, control } = makeMemory()
      yield* disk.mkdirp("/d")
      const f = yield* disk.open("/d/a", "create")
      yield* disk.syncDir("/d")
      yield* control.setFaults({ syncDelayMs: 50 })
      yield* f.write(bytes(1, 2), 0)
      const sync = yield* Effect.fork(f.datasync)
      yield* Effect.yieldNow()
      yield* TestClock.adjust("10 millis")
      yield* f.write(bytes(3), 2) // after the fsync began: not covered by it
      yield* TestClock.adjust("40 millis")
      yield* Fiber.join(sync)
      yield* control.crash()
      assert.deepStrictEqual(yield* disk.readFile("/d/a"), bytes(1, 2))

      const g = yield* disk.open("/d/a", "readWrite")
      yield* g.write(bytes(4), 2)
      const lost = yield* Effect.fork(Effect.flip(g.datasync))
      yield* Effect.yieldNow()
      yield* TestClock.adjust("20 millis")
      yield* control.crash() // power lost while the fsync was under way
      yield* TestClock.adjust("30 millis")
      assert.strictEqual((yield* Fiber.join(lost)).code, "EIO")
      assert.deepStrictEqual(yield* disk.readFile("/d/a"), bytes(1, 2))
    })
  )

  it.effect("preallocated files are sparse: a zero byte at 64 MiB costs nothing, syncs cost what was written", () =>
    Effect.gen(function* () {
      const { disk, control } = makeMemory()
      yield* disk.mkdirp("/d")
      const f = yield* disk.open("/d/log", "create")
      yield* disk.syncDir("/d")
      const mib64 = 64 * 1024 * 1024
      yield* f.write(new Uint8Array(1), mib64 - 1)
      for (let i = 0; i < 2000; i++) {
        yield* f.write(new Uint8Array(100).fill(7), i * 100)
        yield* f.datasync
      }
      assert.strictEqual(yield* f.size, mib64)
      assert.deepStrictEqual(yield* f.read(199_990, 20), new Uint8Array(20).fill(7, 0, 10))
      yield* control.crash()
      assert.strictEqual(yield* disk.size("/d/log"), mib64)
    })
  )

  it.effect("missing files and directories fail with ENOENT", () =>
    Effect.gen(function* () {
      const disk = yield* Disk
      assert.strictEqual((yield* Effect.flip(disk.readFile("/nope"))).code, "ENOENT")
      assert.strictEqual((yield* Effect.flip(disk.open("/nodir/x", "create"))).code, "ENOENT")
      assert.isFalse(yield* disk.exists("/nope"))
    }).pipe(Effect.provide(layerMemory()))
  )
})

describe("node disk", () => {
  it.live("positional writes, ranged reads, truncate, rename, list, directory fsync", () =>
    Effect.gen(function* () {
      const root = mkdtempSync(path.join(os.tmpdir(), "ezk-disk-"))
      yield* Effect.addFinalizer(() => Effect.sync(() => rmSync(root, { recursive: true, force: true })))
      const disk = yield* Disk
      const d = join(root, "a/b")
      yield* disk.mkdirp(d)
      const f = yield* disk.open(join(d, "x"), "create")
      yield* f.write(bytes(1, 2, 3), 0)
      yield* f.write(bytes(9), 9)
      yield* f.datasync
      assert.strictEqual(yield* f.size, 10)
      assert.deepStrictEqual(yield* f.read(1, 4), bytes(2, 3, 0, 0))
      assert.deepStrictEqual(yield* f.read(8, 100), bytes(0, 9))
      yield* f.truncate(2)
      yield* f.close
      assert.deepStrictEqual(yield* disk.readFile(join(d, "x")), bytes(1, 2))
      yield* disk.writeFile(join(d, "y.tmp"), bytes(5))
      yield* disk.rename(join(d, "y.tmp"), join(d, "y"))
      yield* disk.syncDir(d)
      assert.deepStrictEqual([...(yield* disk.list(d))].sort(), ["x", "y"])
      assert.strictEqual(yield* disk.size(join(d, "y")), 1)
      yield* disk.unlink(join(d, "x"))
      assert.isFalse(yield* disk.exists(join(d, "x")))
      const e = yield* Effect.flip(disk.open(join(d, "x"), "read"))
      assert.strictEqual(e.code, "ENOENT")
      assert.strictEqual(e.op, "open")
    }).pipe(Effect.provide(layerNode), Effect.scoped)
  )
})
