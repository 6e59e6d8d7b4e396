/**
 * Storage micro-benchmarks on the real file system (node disk, real fdatasync):
 *  - group commit: appends/s for several batch sizes (one write + one fdatasync per batch);
 *  - a 1M-node snapshot: fuzzy write time and the longest stall it causes to other fibers,
 *    file size, and the cold load time (read + decode + digest) that recovery pays.
 *
 *   npx vite-node bench/storage.ts [nodes=1000000] [dir=os.tmpdir()]
 */
import { Effect, Fiber } from "effect"
import { mkdtempSync, rmSync } from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { Disk, layerNode } from "../src/disk/Disk.js"
import * as Snapshot from "../src/storage/Snapshot.js"
import * as SnapshotWriter from "../src/storage/SnapshotWriter.js"
import * as TxnLog from "../src/storage/TxnLog.js"
import { DataTree } from "../src/tree/DataTree.js"
import { Op } from "../src/wire/Codes.js"
import { JuteWriter } from "../src/wire/Jute.js"
import { writeTxn, writeTxnHeader, type Txn } from "../src/wire/TxnRecords.js"

const nodes = Number(process.argv[2] ?? 1_000_000)
const root = mkdtempSync(path.join(process.argv[3] ?? os.tmpdir(), "ezk-bench-storage-"))
const dir = path.join(root, "version-2")
const options = { extendedTypes: false, digestEnabled: true }
const ms = (t0: number) => (performance.now() - t0).toFixed(0)

const groupCommit = Effect.gen(function* () {
  const disk = yield* Disk
  yield* disk.mkdirp(dir)
  const entry = new JuteWriter(256)
  const data = new TextEncoder().encode("0123456789abcdef")
  let zxid = 0
  const w = new TxnLog.TxnLogWriter(disk, { dir })
  const encode = (): Uint8Array => {
    zxid++
    entry.reset()
    writeTxnHeader(entry, { clientId: 0x1000000000000n, cxid: zxid, zxid, time: 1_795_000_000_000 + zxid, type: Op.setData })
    writeTxn(entry, { type: Op.setData, path: "/bench/node-000042", data, version: zxid })
    entry.int(2).int(0x12345).int(zxid)
    return entry.bytes.subarray(0, entry.pos)
  }
  // Append cost alone: time only the append loops (batches of 1000, synced in between, untimed).
  let appendMs = 0
  let encodeMs = 0
  const rounds = 300
  for (let b = 0; b < rounds; b++) {
    const entries: Array<Uint8Array> = []
    let t0 = performance.now()
    for (let i = 0; i < 1000; i++) entries.push(encode().slice())
    encodeMs += performance.now() - t0
    t0 = performance.now()
    for (let i = 0; i < 1000; i++) w.append(zxid - 999 + i, entries[i]!)
    appendMs += performance.now() - t0
    yield* w.sync
  }
  console.log(`append into the batch: ${((appendMs * 1e6) / (rounds * 1000)).toFixed(0)} ns/txn (checksum + copy, ${13 + encode().length} bytes); encoding the entry: ${((encodeMs * 1e6) / (rounds * 1000)).toFixed(0)} ns`)
  zxid-- // the size probe above took a zxid without appending it
  let t0 = performance.now()
  for (const batch of [1, 10, 100, 1000]) {
    const total = Math.min(200_000, batch * 2000)
    t0 = performance.now()
    for (let done = 0; done < total; done += batch) {
      for (let i = 0; i < batch; i++) w.append(zxid + 1, encode())
      yield* w.sync
    }
    const s = (performance.now() - t0) / 1000
    console.log(`group commit batch ${String(batch).padStart(4)}: ${(total / s).toFixed(0).padStart(8)} txns/s, ${((s * 1e6) / (total / batch)).toFixed(0)} µs per sync`)
  }
  yield* w.close
})

const buildTree = (n: number): DataTree => {
  const tree = new DataTree(options)
  const acl = [{ perms: 31, id: { scheme: "world", id: "anyone" } }]
  const data = new TextEncoder().encode("some-data-0123")
  let zxid = 0
  const apply = (txn: Txn) => {
    zxid++
    tree.processTxn({ clientId: 0n, cxid: zxid, zxid, time: 1_795_000_000_000 + zxid, type: txn.type }, txn)
  }
  const fanout = 1000
  apply({ type: Op.create, path: "/bench", data: null, acl, ephemeral: false, parentCVersion: -1 })
  for (let p = 0; p * fanout < n; p++) {
    const parent = `/bench/p${String(p).padStart(6, "0")}`
    apply({ type: Op.create, path: parent, data, acl, ephemeral: false, parentCVersion: -1 })
    for (let c = 0; c < fanout && p * fanout + c < n; c++) apply({ type: Op.create, path: `${parent}/n${String(c).padStart(6, "0")}`, data, acl, ephemeral: false, parentCVersion: -1 })
  }
  return tree
}

const snapshot = Effect.gen(function* () {
  const disk = yield* Disk
  let t0 = performance.now()
  const tree = buildTree(nodes)
  console.log(`built a tree of ${tree.nodeCount} nodes in ${ms(t0)} ms`)
  // A ticker stands in for the server's fibers: the longest gap between its turns is the stall.
  let last = performance.now()
  let worst = 0
  let running = true
  const ticker = yield* Effect.fork(
    Effect.whileLoop({
      while: () => running,
      body: () =>
        Effect.flatMap(Effect.yieldNow(), () =>
          Effect.sync(() => {
            const now = performance.now()
            worst = Math.max(worst, now - last)
            last = now
          })
        ),
      step: () => {}
    })
  )
  t0 = performance.now()
  const info = yield* SnapshotWriter.write(dir, tree, { fuzzy: true })
  const writeMs = ms(t0)
  running = false
  yield* Fiber.join(ticker)
  const size = yield* disk.size(path.join(dir, info.name))
  console.log(`fuzzy snapshot of ${info.nodes} nodes: ${writeMs} ms, ${(size / 1e6).toFixed(1)} MB, longest stall of other fibers ${worst.toFixed(1)} ms`)
  for (let i = 0; i < 3; i++) {
    t0 = performance.now()
    const bytes = yield* disk.readFile(path.join(dir, info.name))
    const tRead = performance.now() - t0
    const loaded = Snapshot.decode(bytes, info.name, info.zxid, options)
    if (loaded instanceof Snapshot.SnapshotCorrupt) throw loaded
    console.log(`load ${loaded.nodeCount} nodes: ${ms(t0)} ms (read ${tRead.toFixed(0)} ms), digest ${loaded.tree.digest.value === tree.digest.value ? "matches" : "DIFFERS"}`)
  }
})

Effect.runPromise(Effect.all([groupCommit, snapshot], { discard: true }).pipe(Effect.provide(layerNode))).finally(() => rmSync(root, { recursive: true, force: true }))
