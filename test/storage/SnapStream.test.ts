/**
 * The SNAP stream (quorum.md §4.4): the one ZooKeeper 3.8.0 sent to the wiped s1 decodes into the
 * captured 9-node tree and re-encodes to the identical 1074 bytes; our own streams round-trip
 * through the incremental decoder from any chunking and hand back exactly the bytes after them.
 * Streamed in chunks from a tree that changes between them, the stream plus the txns after its
 * zxid rebuild the live tree; the body a learner writes as it arrives is a snapshot file.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Exit, FastCheck as fc, Scope } from "effect"
import { Disk, makeMemory } from "../../src/disk/Disk.js"
import * as Snapshot from "../../src/storage/Snapshot.js"
import * as SnapStream from "../../src/storage/SnapStream.js"
import { DataTree } from "../../src/tree/DataTree.js"
import { JuteReader, JuteWriter } from "../../src/wire/Jute.js"
import { WireError } from "../../src/wire/WireError.js"
import * as V from "../wire/vectors.js"
import { assertSameTree, rng, treeOptions, TxnDriver } from "./helpers.js"

const captured = V.readJsonl("ensemble.jsonl").find((l) => l["decoded"]["record"] === "SnapshotStream")!
const capturedBytes = V.fromHex(captured["hex"])
/** The SNAP packet before it carried the leader's lastProcessedZxid. */
const SNAP_ZXID = 0x200000009

const decodeWhole = (bytes: Uint8Array, zxid = SNAP_ZXID): SnapStream.Received => {
  const out = new SnapStream.SnapStreamDecoder(zxid, treeOptions).feed(bytes)
  assert.isNotNull(out)
  return out!
}

/** Feeds `bytes` in chunks of the given sizes; the result and the chunk count it took. */
const decodeChunked = (bytes: Uint8Array, cuts: ReadonlyArray<number>, zxid: number): SnapStream.Received => {
  const d = new SnapStream.SnapStreamDecoder(zxid, treeOptions)
  for (let pos = 0, i = 0; pos < bytes.length; i++) {
    const n = cuts[i % cuts.length]!
    const out = d.feed(bytes.subarray(pos, pos + n))
    pos += n
    if (out !== null) {
      assert.strictEqual(V.toHex(out.rest), V.toHex(bytes.subarray(out.consumed, pos)), "rest = the bytes fed after the stream")
      return out
    }
  }
  throw new Error("stream never completed")
}

const cat = (...parts: ReadonlyArray<Uint8Array>): Uint8Array => Uint8Array.from(Buffer.concat(parts))

describe("SnapStream: the captured stream", () => {
  it("decodes into the 9 captured nodes, sessions and ACL lists", () => {
    const want = captured["decoded"]
    const got = decodeWhole(capturedBytes)
    assert.strictEqual(capturedBytes.length, 1074)
    assert.strictEqual(got.consumed, 1074)
    assert.strictEqual(got.rest.length, 0)
    assert.strictEqual(got.nodeCount, 9)
    const tree = got.tree
    assert.strictEqual(tree.lastProcessedZxid, SNAP_ZXID)
    assert.deepStrictEqual([...tree.sessions], want["sessions"])
    const paths = (want["nodes"] as Array<Record<string, any>>).map((n) => (n["path"] === "" ? "/" : n["path"]))
    assert.deepStrictEqual([...tree.paths()].sort(), [...paths].sort())
    for (const n of want["nodes"] as Array<Record<string, any>>) {
      const node = tree.get(n["path"] === "" ? "/" : n["path"])!
      assert.deepStrictEqual(V.buf(node.data ?? new Uint8Array(0)), V.canonical(n["data"]), n["path"])
      const s = n["stat"]
      assert.deepStrictEqual(
        [node.czxid, node.mzxid, node.ctime, node.mtime, node.version, node.cversion, node.aversion, Number(node.owner), node.pzxid],
        [s.czxid, s.mzxid, s.ctime, s.mtime, s.version, s.cversion, s.aversion, s.ephemeralOwner, s.pzxid],
        n["path"]
      )
      const acl = n["acl"] === -1 ? [] : want["acls"][String(n["acl"])]
      assert.deepStrictEqual(node.aclRef === -1 ? [] : tree.acls.get(node.aclRef), acl, n["path"])
    }
  })

  it("re-encodes to the identical bytes", () => {
    assert.strictEqual(V.toHex(SnapStream.encode(decodeWhole(capturedBytes).tree)), captured["hex"])
  })

  it.prop(
    "decodes from any chunking and hands back the packets that follow",
    [fc.array(fc.integer({ min: 1, max: 200 }), { minLength: 1, maxLength: 8 }), fc.uint8Array({ maxLength: 50 })],
    ([cuts, after]) => {
      const got = decodeChunked(cat(capturedBytes, after), cuts, SNAP_ZXID)
      assert.strictEqual(got.consumed, 1074)
      assert.strictEqual(got.nodeCount, 9)
    },
    { fastCheck: { numRuns: 100 } }
  )

  it("rejects a bad signature", () => {
    const bad = capturedBytes.slice()
    bad[bad.length - 1] = 0x21
    assert.throws(() => decodeWhole(bad), WireError, "signature")
    const none = cat(capturedBytes.subarray(0, capturedBytes.length - 14), V.fromHex("ffffffff"))
    assert.throws(() => decodeWhole(none), WireError, "signature")
  })

  it("rejects a tree Snapshot.decode refuses, and impossible lengths", () => {
    // A session count the bytes never fulfil: the decoder waits, bounded by maxBytes.
    const endless = new SnapStream.SnapStreamDecoder(SNAP_ZXID, treeOptions, 4096)
    assert.isNull(endless.feed(cat(V.fromHex("7fffffff"), new Uint8Array(3000))))
    assert.throws(() => endless.feed(new Uint8Array(2000)), WireError, "FrameTooLarge")
    const negative = cat(V.fromHex("00000000"), V.fromHex("00000000"), V.fromHex("fffffff0"))
    assert.throws(() => decodeWhole(negative), WireError, "BadLength")
    const orphan = new JuteWriter().int(0).int(0).ustring("/a/b").buffer(null).long(-1).raw(new Uint8Array(60)).ustring("/").ustring("BenWasHere").copy()
    assert.throws(() => decodeWhole(orphan), WireError)
  })

  /** A stream of bare nodes (no sessions, no ACLs) with the given paths, in that order ("" the root). */
  const streamOf = (paths: ReadonlyArray<string>): Uint8Array => {
    const w = new JuteWriter().int(0).int(0)
    paths.forEach((path, i) => {
      const stat = new JuteWriter().long(i + 1).long(i + 1).long(0).long(0).int(0).int(0).int(0).long(0).long(i + 1).copy()
      w.ustring(path).buffer(new TextEncoder().encode(path)).long(-1).raw(stat)
    })
    return w.ustring("/").ustring("BenWasHere").copy()
  }

  it("finds each parent by its path bytes, also out of pre-order, and refuses duplicates and parents that are not there", () => {
    // "/a/x" comes after "/b" (its parent left the chain), "/a/xy" has "/a/x" as a prefix but not as
    // parent, "/b/\u00e9" is not ASCII.
    const paths = ["", "/a", "/b", "/a/x", "/a/xy", "/a/x/1", "/b/\u00e9", "/b/\u00e9/2", "/ab", "/ab/c"]
    const tree = decodeWhole(streamOf(paths), 9).tree
    assert.deepStrictEqual([...tree.paths()].sort(), ["/", ...paths.slice(1)].sort())
    for (const path of paths.slice(1)) assert.strictEqual(new TextDecoder().decode(tree.get(path)!.data!), path, path)
    assert.strictEqual(tree.get("/a")!.numChildren, 2)
    assert.strictEqual(tree.get("/a/x")!.numChildren, 1)
    assert.strictEqual(tree.get("/ab")!.numChildren, 1)
    assert.strictEqual(tree.nodeCount, paths.length)
    tree.recomputeDigest()
    const loaded = decodeWhole(streamOf(paths), 9).tree
    assert.strictEqual(loaded.digest.value, tree.digest.value, "digests from the encoded bytes = digests from the nodes")
    // Pre-order needs no lookup by path; each node out of it, one.
    const loader = (paths: ReadonlyArray<string>) => {
      const l = new Snapshot.TreeLoader(treeOptions, "test")
      const r = new JuteReader(streamOf(paths), 8)
      while (l.node(r)) {
        /* every node */
      }
      return l
    }
    assert.strictEqual(loader(["", "/a", "/a/b", "/a/b/c", "/a/d", "/e", "/e/f", "/g"]).parentLookups, 0)
    assert.strictEqual(loader(paths).parentLookups, 5, "/a/x, /a/xy, /a/x/1, /b/\u00e9 and /ab (each after a node that is not its parent or sibling)")
    assert.throws(() => decodeWhole(streamOf(["", "/a", "/b", "/a"])), WireError, "duplicate node /a")
    assert.throws(() => decodeWhole(streamOf(["", "/a", "/a/b", "/ab/c"])), WireError, "parent of /ab/c missing")
    assert.throws(() => decodeWhole(streamOf(["", "/a", "/c/d"])), WireError, "parent of /c/d missing")
    assert.throws(() => decodeWhole(streamOf(["", "/a", ""])), WireError, "duplicate node /")
  })
})

describe("SnapStream: our own trees", () => {
  it.prop(
    "encode → decode (any chunking) gives the same tree, sessions and bytes",
    [fc.integer({ min: 1, max: 1 << 30 }), fc.integer({ min: 0, max: 120 }), fc.array(fc.integer({ min: 1, max: 300 }), { minLength: 1, maxLength: 6 })],
    ([seed, txns, cuts]) => {
      const driver = new TxnDriver()
      const r = rng(seed)
      for (let i = 0; i < txns; i++) driver.random(r)
      const tree = driver.tree
      const bytes = SnapStream.encode(tree)
      const got = decodeChunked(cat(bytes, V.fromHex("0000000c")), cuts, tree.lastProcessedZxid)
      assert.strictEqual(got.consumed, bytes.length)
      assertSameTree(got.tree, tree)
      assert.deepStrictEqual([...got.tree.sessions], [...tree.sessions])
      assert.strictEqual(V.toHex(SnapStream.encode(got.tree)), V.toHex(bytes))
    },
    { fastCheck: { numRuns: 30 } }
  )

  it.prop(
    "items larger than a chunk and chunks larger than items: same tree, the body handed out in order, the rest exact",
    [fc.array(fc.integer({ min: 0, max: 40000 }), { minLength: 1, maxLength: 12 }), fc.array(fc.integer({ min: 1, max: 70000 }), { minLength: 1, maxLength: 6 })],
    ([sizes, cuts]) => {
      const driver = new TxnDriver()
      const acl = [{ perms: 31, id: { scheme: "world", id: "anyone" } }]
      sizes.forEach((n, i) => driver.commit(0n, driver.createTxn(`/n${i}`, "x".repeat(n), acl, false)))
      const tree = driver.tree
      const bytes = SnapStream.encode(tree)
      const stream = cat(bytes, V.fromHex("0000000c"))
      // Kept as handed out, as the learner's queue keeps them until written: they must stay intact.
      const pieces: Array<Uint8Array> = []
      const d = new SnapStream.SnapStreamDecoder(tree.lastProcessedZxid, treeOptions, undefined, (b) => pieces.push(b))
      let got: SnapStream.Received | null = null
      for (let pos = 0, i = 0; got === null && pos < stream.length; i++) {
        const n = cuts[i % cuts.length]!
        got = d.feed(stream.subarray(pos, pos + n))
        pos += n
        if (got !== null) assert.strictEqual(V.toHex(got.rest), V.toHex(stream.subarray(bytes.length, Math.min(pos, stream.length))))
      }
      if (got === null) return assert.fail("the stream never completed")
      assert.strictEqual(got.consumed, bytes.length)
      assertSameTree(got.tree, tree)
      // The body: the stream without its signature (ustring "BenWasHere", 14 bytes).
      assert.strictEqual(V.toHex(cat(...pieces)), V.toHex(bytes.subarray(0, bytes.length - 14)))
    },
    { fastCheck: { numRuns: 40 } }
  )

  it("an empty database is the smallest stream", () => {
    const bytes = SnapStream.encode(new DataTree(treeOptions))
    assert.strictEqual(V.toHex(bytes.subarray(bytes.length - 14)), "0000000a42656e57617348657265")
    assert.strictEqual(decodeWhole(bytes, 0).nodeCount, new DataTree(treeOptions).nodeCount)
  })
})

/** `send` over `tree`, collecting the chunks; `between` runs after each chunk (the leader committing meanwhile). */
const sendAll = (tree: DataTree, options: SnapStream.SendOptions, between: () => void = () => {}) => {
  const chunks: Array<Uint8Array> = []
  const enc = SnapStream.encoder(tree)
  Effect.runSync(SnapStream.send(enc, (c) => Effect.sync(() => (chunks.push(c), between())), options))
  return { chunks, zxid: enc.zxid }
}

describe("SnapStream: streaming", () => {
  it("send hands out in chunks what encode gives at once", () => {
    const driver = new TxnDriver()
    const r = rng(7)
    for (let i = 0; i < 400; i++) driver.random(r)
    const { chunks } = sendAll(driver.tree, { chunkNodes: 5, chunkBytes: 300 })
    assert.isAbove(chunks.length, 10)
    assert.strictEqual(V.toHex(cat(...chunks)), V.toHex(SnapStream.encode(driver.tree)))
  })

  it.prop(
    "a stream taken while txns keep landing between its chunks, plus the txns after its zxid, rebuilds the live tree",
    [fc.integer({ min: 1, max: 1 << 30 })],
    ([seed]) => {
      const driver = new TxnDriver()
      const r = rng(seed)
      for (let i = 0; i < 200; i++) driver.random(r)
      const after: Array<ReturnType<TxnDriver["random"]>> = []
      const { chunks, zxid } = sendAll(driver.tree, { chunkNodes: 3, chunkBytes: 1 << 20 }, () => {
        for (let i = 0; i < 3; i++) after.push(driver.random(r))
      })
      assert.isAbove(after.length, 0)
      const got = decodeWhole(cat(...chunks), zxid)
      for (const e of after) got.tree.processTxn(e.header, e.txn)
      assertSameTree(got.tree, driver.tree, `seed ${seed}`)
      assert.deepStrictEqual([got.tree.digest.hi, got.tree.digest.lo], [driver.tree.digest.hi, driver.tree.digest.lo])
    },
    { fastCheck: { numRuns: 20 } }
  )

  it.effect("the body handed out while decoding, written by receive, is a snapshot file of the same tree; unfinished, it leaves nothing", () =>
    Effect.gen(function* () {
      const driver = new TxnDriver()
      const r = rng(11)
      for (let i = 0; i < 300; i++) driver.random(r)
      const tree = driver.tree
      const stream = cat(SnapStream.encode(tree), V.fromHex("0000000c"))
      const m = makeMemory()
      const dir = "/data/version-2"
      yield* m.disk.mkdirp(dir)
      const receiveOnce = (finish: boolean, flushBytes?: number) =>
        Effect.gen(function* () {
          const scope = yield* Scope.make()
          const sink = yield* SnapStream.receive(dir, tree.lastProcessedZxid, flushBytes).pipe(Effect.provideService(Disk, m.disk), Scope.extend(scope))
          const pieces: Array<Uint8Array> = []
          const d = new SnapStream.SnapStreamDecoder(tree.lastProcessedZxid, treeOptions, undefined, (b) => pieces.push(b.slice()))
          let out: SnapStream.Received | null = null
          for (let pos = 0; out === null; pos += 97) out = d.feed(stream.subarray(pos, pos + 97))
          for (const p of pieces) yield* sink.write(p)
          if (finish) yield* sink.finish
          yield* Scope.close(scope, Exit.void)
          return { pieces, out }
        })
      yield* receiveOnce(false)
      assert.deepStrictEqual(yield* m.disk.list(dir), [], "an unfinished snapshot leaves no file")
      // Pieces gathered into one write at the end (the default 1 MiB), and into writes of at most
      // 150 bytes, where some pieces are larger and go to the file as they are.
      for (const flushBytes of [undefined, 150]) {
        const { pieces, out } = yield* receiveOnce(true, flushBytes)
        assert.isAbove(pieces.length, 5)
        if (flushBytes !== undefined) assert.isTrue(pieces.some((p) => p.length > flushBytes) && pieces.some((p) => p.length < flushBytes / 2))
        // The body is the stream without its signature: everything up to the "/" terminator.
        assert.strictEqual(cat(...pieces).length, out!.consumed - 14)
        const loaded = yield* Snapshot.read(dir, Snapshot.snapshotName(tree.lastProcessedZxid), treeOptions).pipe(Effect.provideService(Disk, m.disk))
        assertSameTree(loaded.tree, tree)
        assert.strictEqual(loaded.nodeCount, out!.nodeCount)
        yield* m.disk.unlink(`${dir}/${Snapshot.snapshotName(tree.lastProcessedZxid)}`)
      }
    })
  )
})
