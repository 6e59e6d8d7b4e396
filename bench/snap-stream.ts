/**
 * SNAP stream micro-benchmark, in one process (no socket, no disk): a tree shaped like the
 * ensemble bench's (`/ezkrss/b<k>/n<j>`, 100-byte values), the leader's encode in send-sized
 * chunks, and the follower's incremental decode fed in 64 KiB pieces (what a loopback socket
 * hands over), with the Adler-32 the snapshot file's seal needs. Times are CPU time of this
 * process (user + system), which a busy machine disturbs far less than wall time.
 *
 *   npx vite-node bench/snap-stream.ts [nodes=1000000] [rounds=3]
 */
import * as SnapStream from "../src/storage/SnapStream.js"
import { adler32 } from "../src/tree/Crc32.js"
import { buildTree, options, PIECE } from "./lib/snapTree.js"

const nodes = Number(process.argv[2] ?? 1_000_000)
const rounds = Number(process.argv[3] ?? 3)

/** CPU ms of this process since `from` (process.cpuUsage). */
const cpuMs = (from: NodeJS.CpuUsage): number => {
  const u = process.cpuUsage(from)
  return (u.user + u.system) / 1000
}

let t0 = process.cpuUsage()
const tree = buildTree(nodes)
console.log(`tree of ${tree.nodeCount} nodes built in ${cpuMs(t0).toFixed(0)} ms`)

for (let round = 0; round < rounds; round++) {
  // Leader: the encoder in the chunks SnapStream.send hands to the socket.
  t0 = process.cpuUsage()
  const enc = SnapStream.encoder(tree)
  const chunks: Array<Uint8Array> = []
  for (;;) {
    const done = enc.step(2000, 1 << 18)
    if (done) enc.out.ustring("/").ustring(SnapStream.SIGNATURE)
    if (done || enc.out.pos >= 1 << 18) {
      chunks.push(enc.out.copy())
      enc.out.reset()
    }
    if (done) break
  }
  const encodeMs = cpuMs(t0)
  const stream = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0))
  let at = 0
  for (const c of chunks) (stream.set(c, at), (at += c.length))

  // Follower: decode in socket-sized pieces, the seal over the body as it goes.
  t0 = process.cpuUsage()
  let adler = 1
  const decoder = new SnapStream.SnapStreamDecoder(tree.lastProcessedZxid, options, undefined, (body) => {
    adler = adler32(body, adler, 0, body.length)
  })
  let received: SnapStream.Received | null = null
  for (let p = 0; p < stream.length && received === null; p += PIECE) received = decoder.feed(stream.subarray(p, Math.min(stream.length, p + PIECE)))
  const decodeMs = cpuMs(t0)
  if (received === null) throw new Error("stream not complete")
  const same = received.tree.digest.hi === tree.digest.hi && received.tree.digest.lo === tree.digest.lo
  const mb = stream.length / 1e6
  console.log(
    `round ${round}: ${mb.toFixed(1)} MB, ${received.nodeCount} nodes; encode ${encodeMs.toFixed(0)} ms (${(mb / (encodeMs / 1000)).toFixed(0)} MB/s); ` +
      `decode ${decodeMs.toFixed(0)} ms (${(mb / (decodeMs / 1000)).toFixed(0)} MB/s, ${((decodeMs * 1e6) / received.nodeCount).toFixed(0)} ns/node); digest ${same ? "matches" : "DIFFERS"}`
  )
}
