/**
 * Prep and Pending (src/server/pipeline) on their own: writes are validated against the state every
 * prepared-but-unapplied txn will leave, a failing multi leaves nothing behind, and preparing a
 * whole batch before applying any of it yields exactly the txns of preparing and applying one by one.
 */
import { assert, describe, it } from "@effect/vitest"
import { FastCheck as fc } from "effect"
import { Pending } from "../../src/server/pipeline/Pending.js"
import { type Caller, Prep, type Prepared } from "../../src/server/pipeline/Prep.js"
import { DataTree } from "../../src/tree/DataTree.js"
import type { ACL, Request } from "../../src/wire/ClientRecords.js"
import { CreateMode, Err, Op } from "../../src/wire/Codes.js"
import type { Txn } from "../../src/wire/TxnRecords.js"
import { treeOptions } from "../storage/helpers.js"

const open: ReadonlyArray<ACL> = [{ perms: 31, id: { scheme: "world", id: "anyone" } }]
const readOnly: ReadonlyArray<ACL> = [{ perms: 1, id: { scheme: "world", id: "anyone" } }]
const bytes = (s: string) => new TextEncoder().encode(s)
const caller = (sessionId: bigint): Caller => ({ sessionId, ids: [{ scheme: "ip", id: "127.0.0.1" }], isSuper: false })
const alice = caller(1n)

const create = (path: string, flags: number = CreateMode.PERSISTENT, ttl = -1): Request => ({
  type: flags === CreateMode.CONTAINER ? Op.createContainer : ttl > 0 ? Op.createTTL : Op.create,
  path,
  data: bytes(path),
  acl: open,
  flags,
  ttl
})
const setData = (path: string, data: string, version = -1): Request => ({ type: Op.setData, path, data: bytes(data), version })
const remove = (path: string, version = -1): Request => ({ type: Op.delete, path, version })
const check = (path: string, version: number): Request => ({ type: Op.check, path, version })
const multi = (...ops: Array<Request>): Request => ({ type: Op.multi, ops })

/** A pipeline over a fresh tree: prepare writes now, apply (commit) them later. */
const pipeline = () => {
  const tree = new DataTree(treeOptions)
  const pending = new Pending(tree)
  const prep = new Prep(pending, { extendedTypes: true, saslEnabled: false })
  let zxid = 0
  const queue: Array<Prepared> = []
  return {
    tree,
    pending,
    prep,
    /** Prepares a client write at the next zxid and queues it for commit. */
    write: (request: Request, who: Caller = alice): Txn => {
      zxid++
      const p = prep.write(who, zxid, zxid, 1_000 + zxid, request)
      queue.push(p)
      return p.txn
    },
    /** Applies every queued txn in order, as the commit stage does. */
    commit: () => {
      for (const p of queue.splice(0)) {
        tree.processTxn(p.header, p.txn)
        pending.retire(p.header.zxid)
      }
    }
  }
}

const errOf = (txn: Txn): number => (txn.type === Op.error ? txn.err : Err.Ok)

describe("Prep and Pending", () => {
  it("a later request sees an earlier uncommitted one; the tree changes only on commit", () => {
    const p = pipeline()
    assert.strictEqual(p.write(create("/a")).type, Op.create)
    assert.strictEqual(p.write(create("/a/b")).type, Op.create, "the parent exists once /a is prepared")
    assert.strictEqual(errOf(p.write(create("/a"))), Err.NodeExists)
    assert.deepStrictEqual(p.write(setData("/a", "v1", 0)), { type: Op.setData, path: "/a", data: bytes("v1"), version: 1 })
    assert.strictEqual(errOf(p.write(setData("/a", "stale", 0))), Err.BadVersion, "the version moved with the uncommitted setData")
    assert.strictEqual(errOf(p.write(remove("/a"))), Err.NotEmpty, "the uncommitted child counts")
    const seq = p.write(create("/a/s-", CreateMode.PERSISTENT_SEQUENTIAL))
    // cversion 1 after /a/b: the sequence number counts the uncommitted create.
    assert.strictEqual(seq.type === Op.create ? seq.path : null, "/a/s-0000000001")
    assert.isUndefined(p.tree.get("/a"), "nothing is applied before commit")
    assert.strictEqual(p.pending.get("/a")?.version, 1)

    p.commit()
    assert.strictEqual(p.pending.size, 0)
    assert.strictEqual(new TextDecoder().decode(p.tree.get("/a")!.data!), "v1")
    assert.deepStrictEqual([...p.tree.paths()].filter((k) => k.startsWith("/a")).sort(), ["/a", "/a/b", "/a/s-0000000001"])
    assert.strictEqual(p.pending.digest.value, p.tree.digest.value)
  })

  it("a failing multi leaves no trace: earlier uncommitted changes to its paths come back, digest and size as before", () => {
    const p = pipeline()
    p.write(create("/x"))
    p.commit()
    p.write(setData("/x", "first", 0)) // uncommitted: /x at version 1
    const size = p.pending.size
    const digest = p.pending.digest.value
    const txn = p.write(multi(create("/m"), setData("/x", "second", 1), create("/m/kid"), remove("/missing"), create("/after")))
    assert.deepStrictEqual(
      txn.type === Op.multi ? txn.txns.map((t) => `${t.type}:${errOf(t)}`) : txn,
      [`${Op.create}:0`, `${Op.setData}:0`, `${Op.create}:0`, `${Op.error}:${Err.NoNode}`, `${Op.error}:${Err.RuntimeInconsistency}`]
    )
    assert.strictEqual(p.pending.size, size)
    assert.strictEqual(p.pending.digest.value, digest)
    assert.isNull(p.pending.get("/m"))
    assert.isNull(p.pending.get("/m/kid"))
    const x = p.pending.get("/x")!
    assert.strictEqual(x.version, 1, "the earlier setData is what /x will be, not the rolled-back one")
    assert.deepStrictEqual(x.data, bytes("first"))
    assert.strictEqual(p.pending.get("/")!.numChildren, p.tree.get("/")!.numChildren, "the root did not gain /m")
    // Later writes see the state before the multi.
    assert.strictEqual(errOf(p.write(setData("/x", "third", 1))), Err.Ok)
    assert.strictEqual(p.write(create("/m")).type, Op.create)
    p.commit()
    assert.deepStrictEqual(p.tree.get("/x")!.data, bytes("third"))
    assert.isUndefined(p.tree.get("/m/kid"))
    assert.strictEqual(p.pending.digest.value, p.tree.digest.value)
  })

  it("a multi's ops see each other; a check fails on a version an earlier op in it moved", () => {
    const p = pipeline()
    const ok = p.write(multi(create("/p"), create("/p/c"), setData("/p/c", "d", 0), check("/p/c", 1)))
    assert.deepStrictEqual(ok.type === Op.multi ? ok.txns.map(errOf) : ok, [0, 0, 0, 0])
    const bad = p.write(multi(setData("/p/c", "e", 1), check("/p/c", 1)))
    assert.deepStrictEqual(bad.type === Op.multi ? bad.txns.map(errOf) : bad, [0, Err.BadVersion])
    assert.strictEqual(p.pending.get("/p/c")!.version, 1)
  })

  it("closeSession deletes the ephemerals the session will own once pending changes apply", () => {
    const p = pipeline()
    const bob = caller(2n)
    p.write(create("/e1", CreateMode.EPHEMERAL), bob)
    p.commit()
    p.write(create("/e2", CreateMode.EPHEMERAL), bob) // uncommitted: still deleted on close
    p.write(remove("/e1"), bob) // uncommitted delete: not deleted twice
    p.write(create("/other", CreateMode.EPHEMERAL), alice)
    const close = p.prep.closeSession(2n, 0, 99, 2_000)
    assert.deepStrictEqual(close.txn.type === Op.closeSession ? close.txn.paths : close.txn, ["/e2"])
    assert.isNull(p.pending.get("/e2"))
    assert.isNotNull(p.pending.get("/other"))
  })

  it("the reaper's delete fails on a node that gained an uncommitted child", () => {
    const p = pipeline()
    p.write(create("/c", CreateMode.CONTAINER))
    p.commit()
    p.write(create("/c/kid"))
    const reap = p.prep.deleteContainer("/c", 50, 2_000)
    assert.deepStrictEqual(reap.txn, { type: Op.error, err: Err.NotEmpty })
    p.write(remove("/c/kid"))
    assert.deepStrictEqual(p.prep.deleteContainer("/c", 51, 2_000).txn, { type: Op.deleteContainer, path: "/c" })
  })

  it("retire forgets only changes the tree reflects; clear drops every pending change", () => {
    const p = pipeline()
    p.write(create("/r"))
    p.write(setData("/r", "later"))
    const first = p.tree.processTxn({ clientId: 1n, cxid: 1, zxid: 1, time: 1_001, type: Op.create }, { type: Op.create, path: "/r", data: bytes("/r"), acl: open, ephemeral: false, parentCVersion: 1 })
    assert.strictEqual(first.err, 0)
    p.pending.retire(1)
    assert.strictEqual(p.pending.size, 1)
    assert.deepStrictEqual(p.pending.get("/r")!.data, bytes("later"), "the change at zxid 2 is still pending")
    p.pending.clear()
    assert.strictEqual(p.pending.size, 0)
    assert.deepStrictEqual(p.pending.get("/r")!.data, bytes("/r"), "after clear the tree is the truth")
    assert.strictEqual(p.pending.digest.value, p.tree.digest.value)
  })
})

// ---------------------------------------------------------------------------------------------
// Property: pipelining changes nothing. Random writes over a few paths, prepared either one at a
// time with each applied at once, or in batches applied later, give the same txns and tree.

const PATHS = ["/a", "/a/b", "/a/b/c", "/d"]
const path = fc.constantFrom(...PATHS)
const version = fc.constantFrom(-1, -1, 0, 1)
const simpleOp: fc.Arbitrary<Request> = fc.oneof(
  fc.tuple(path, fc.constantFrom(0, 1, 2, 3, 4, 5)).map(([p, flags]) => create(p, flags, flags === 5 ? 1000 : -1)),
  fc.tuple(path, version).map(([p, v]) => remove(p, v)),
  fc.tuple(path, fc.string({ maxLength: 3 }), version).map(([p, d, v]) => setData(p, d, v)),
  fc.tuple(path, fc.boolean(), version).map(([p, ro, v]): Request => ({ type: Op.setACL, path: p, acl: ro ? readOnly : open, version: v })),
  fc.tuple(path, version).map(([p, v]) => check(p, v))
)
type Step =
  | { readonly kind: "write"; readonly session: bigint; readonly request: Request }
  | { readonly kind: "close"; readonly session: bigint }
  | { readonly kind: "reap"; readonly path: string }
  | { readonly kind: "commit" }
const session = fc.constantFrom(1n, 2n)
const step: fc.Arbitrary<Step> = fc.oneof(
  { weight: 6, arbitrary: fc.tuple(session, simpleOp).map(([s, request]) => ({ kind: "write" as const, session: s, request })) },
  { weight: 3, arbitrary: fc.tuple(session, fc.array(simpleOp, { minLength: 1, maxLength: 4 })).map(([s, ops]) => ({ kind: "write" as const, session: s, request: multi(...ops) })) },
  { weight: 1, arbitrary: session.map((s) => ({ kind: "close" as const, session: s })) },
  { weight: 1, arbitrary: path.map((p) => ({ kind: "reap" as const, path: p })) },
  { weight: 1, arbitrary: fc.constant({ kind: "commit" as const }) }
)

/** Runs the steps; `eager` applies every txn as soon as it is prepared, else only at "commit" steps and at the end. */
const run = (steps: ReadonlyArray<Step>, eager: boolean) => {
  const tree = new DataTree(treeOptions)
  const pending = new Pending(tree)
  const prep = new Prep(pending, { extendedTypes: true, saslEnabled: false })
  const txns: Array<Prepared> = []
  let applied = 0
  const commit = () => {
    // Before applying, the prospective digest is what the tree's will be after.
    const prospective = pending.digest.value
    for (; applied < txns.length; applied++) {
      tree.processTxn(txns[applied]!.header, txns[applied]!.txn)
      pending.retire(txns[applied]!.header.zxid)
    }
    assert.strictEqual(tree.digest.value, prospective, "prospective digest")
    assert.strictEqual(pending.size, 0)
  }
  steps.forEach((s, i) => {
    const zxid = i + 1
    const time = 10_000 + zxid
    if (s.kind === "write") txns.push(prep.write(caller(s.session), zxid, zxid, time, s.request))
    else if (s.kind === "close") txns.push(prep.closeSession(s.session, zxid, zxid, time))
    else if (s.kind === "reap") txns.push(prep.deleteContainer(s.path, zxid, time))
    if (eager || s.kind === "commit") commit()
  })
  commit()
  return { txns, tree }
}

describe("Prep and Pending (property)", () => {
  it.prop(
    "preparing a batch before applying it gives the same txns and tree as applying each at once",
    [fc.array(step, { maxLength: 60 })],
    ([steps]) => {
      const eager = run(steps, true)
      const batched = run(steps, false)
      assert.deepStrictEqual(batched.txns, eager.txns)
      assert.deepStrictEqual([...batched.tree.paths()].sort(), [...eager.tree.paths()].sort())
      assert.strictEqual(batched.tree.digest.value, eager.tree.digest.value)
    },
    { fastCheck: { numRuns: 300 } }
  )
})
