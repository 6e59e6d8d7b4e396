/**
 * What a follower does with a SNAP stream, alone in a fresh process: decode and load a 1M-node
 * stream (the ensemble bench's tree: `/ezkrss/b<k>/n<j>`, 100-byte values) fed in 64 KiB pieces
 * as a loopback socket hands them over, with the Adler-32 of the body the snapshot file's seal
 * needs. The stream is built once and cached in the temp dir, so the measured process holds no
 * other tree (as a rejoining follower). Reports CPU ms (user + system, all threads: GC included)
 * and RSS with the tree loaded.
 *
 *   npx vite-node bench/snap-load.ts [nodes=1000000] [rounds=1]
 *   node --cpu-prof node_modules/.bin/vite-node bench/snap-load.ts      # where the time goes
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import * as SnapStream from "../src/storage/SnapStream.js"
import { adler32 } from "../src/tree/Crc32.js"
import { buildTree, options, PIECE } from "./lib/snapTree.js"

const nodes = Number(process.argv[2] ?? 1_000_000)
const rounds = Number(process.argv[3] ?? 1)

/** The stream of a tree of `n` znodes and its tree's digest, from the cache or built now. */
const streamOf = (n: number): { bytes: Uint8Array; zxid: number; hi: number; lo: number } => {
  const file = join(tmpdir(), `ezk-snap-load-${n}.bin`)
  if (existsSync(file) && existsSync(`${file}.json`)) return { bytes: new Uint8Array(readFileSync(file)), ...JSON.parse(readFileSync(`${file}.json`, "utf8")) }
  const tree = buildTree(n, 0x100000000)
  const bytes = SnapStream.encode(tree)
  const meta = { zxid: tree.lastProcessedZxid, hi: tree.digest.hi, lo: tree.digest.lo }
  writeFileSync(file, bytes)
  writeFileSync(`${file}.json`, JSON.stringify(meta))
  console.log(`built and cached ${file}; run again to measure in a process without the source tree`)
  return { bytes, ...meta }
}

const cpuMs = (from: NodeJS.CpuUsage): number => {
  const u = process.cpuUsage(from)
  return (u.user + u.system) / 1000
}

const stream = streamOf(nodes)
const mb = stream.bytes.length / 1e6
const rss0 = process.memoryUsage().rss
let kept: SnapStream.Received | null = null
for (let round = 0; round < rounds; round++) {
  kept = null
  const t0 = process.cpuUsage()
  const w0 = performance.now()
  let adler = 1
  const decoder = new SnapStream.SnapStreamDecoder(stream.zxid, options, undefined, (body) => {
    adler = adler32(body, adler, 0, body.length)
  })
  let received: SnapStream.Received | null = null
  // A fresh Buffer per piece, as a socket hands them over.
  for (let p = 0; p < stream.bytes.length && received === null; p += PIECE) received = decoder.feed(Buffer.from(stream.bytes.subarray(p, Math.min(stream.bytes.length, p + PIECE))))
  const ms = cpuMs(t0)
  const wall = performance.now() - w0
  if (received === null) throw new Error("stream not complete")
  const same = received.tree.digest.hi === stream.hi && received.tree.digest.lo === stream.lo
  kept = received
  console.log(
    `round ${round}: ${mb.toFixed(1)} MB, ${received.nodeCount} nodes; decode+load ${ms.toFixed(0)} ms CPU, ${wall.toFixed(0)} ms wall ` +
      `(${((ms * 1e6) / received.nodeCount).toFixed(0)} ns/node); digest ${same ? "matches" : "DIFFERS"}`
  )
}
globalThis.gc?.()
console.log(`RSS ${(process.memoryUsage().rss / 2 ** 20).toFixed(0)} MiB with the tree loaded (${(rss0 / 2 ** 20).toFixed(0)} MiB before, incl. the ${mb.toFixed(0)} MB stream); nodes ${kept?.tree.nodeCount}`)
