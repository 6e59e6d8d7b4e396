/**
 * Prep and Pending on their own (ZooKeeper's PrepRequestProcessor and outstandingChanges): a write
 * is validated against the state every earlier prepared write will leave, the tree only changes
 * when a txn is applied, and a failing multi leaves no trace in the prospective state.
 */
import { assert, describe, it } from "@effect/vitest"
import { FastCheck as fc } from "effect"
import { Pending } from "../../src/server/pipeline/Pending.js"
import { type Caller, Prep, type Prepared } from "../../src/server/pipeline/Prep.js"
import { OPEN_ACL_UNSAFE } from "../../src/tree/AclCache.js"
import { DataTree } from "../../src/tree/DataTree.js"
import type { Request } from "../../src/wire/ClientRecords.js"
import { CreateMode, Err, Op } from "../../src/wire/Codes.js"

const caller: Caller = { sessionId: 0x10n, ids: [{ scheme: "world", id: "anyone" }], isSuper: false }

const setup = () => {
  const tree = new DataTree({ extendedTypes: true, digestEnabled: true })
  const pending = new Pending(tree)
  const prep = new Prep(pending, { extendedTypes: true, saslEnabled: false })
  let zxid = 0
  /** Prepares `q` under the next zxid. */
  const write = (q: Request, who: Caller = caller): Prepared => prep.write(who, ++zxid, ++zxid * 10, zxid, q)
  /** Applies a prepared txn to the tree and retires it from Pending, as a commit does. */
  const apply = (p: Prepared): void => {
    tree.processTxn(p.header, p.txn)
    pending.retire(p.header.zxid)
  }
  return { tree, pending, prep, write, apply }
}

const create = (path: string, flags: number = CreateMode.PERSISTENT): Request => ({ type: Op.create, path, data: new Uint8Array([1]), acl: OPEN_ACL_UNSAFE, flags, ttl: -1 })
const setData = (path: string, version: number): Request => ({ type: Op.setData, path, data: new Uint8Array([2]), version })
const del = (path: string, version = -1): Request => ({ type: Op.delete, path, version })
const multi = (...ops: Array<Request>): Request => ({ type: Op.multi, ops })

const errOf = (p: Prepared): number | null => (p.txn.type === Op.error ? p.txn.err : null)

describe("Prep with Pending", () => {
  it("a later request sees an earlier one that is prepared but not applied; the tree does not", () => {
    const { tree, pending, write } = setup()
    assert.strictEqual(errOf(write(create("/a"))), null)
    assert.isUndefined(tree.get("/a"), "nothing is applied before commit")
    assert.strictEqual(pending.get("/a")?.version, 0)
    assert.strictEqual(errOf(write(create("/a"))), Err.NodeExists)
    assert.strictEqual(errOf(write(setData("/a", 0))), null, "version 0 is the pending create's")
    assert.strictEqual(errOf(write(setData("/a", 0))), Err.BadVersion, "the pending setData moved it to 1")
    assert.strictEqual(errOf(write(create("/a/b"))), null, "the pending parent exists")
    assert.strictEqual(errOf(write(del("/a"))), Err.NotEmpty, "the pending child counts")
    assert.strictEqual(pending.size, 5, "create /a (node + parent), setData, create /a/b (node + parent)")
  })

  it("a failing multi leaves no trace: later requests and the prospective digest are as before it", () => {
    const { pending, write } = setup()
    write(create("/keep"))
    const digest = pending.digest.value
    const size = pending.size
    const rootChildren = pending.get("/")!.numChildren
    const p = write(multi(create("/m"), create("/m/x"), setData("/keep", 7)))
    assert.strictEqual(p.txn.type, Op.multi)
    const subs = (p.txn as { readonly txns: ReadonlyArray<{ readonly type: number; readonly err?: number }> }).txns
    assert.strictEqual(subs.length, 3)
    assert.deepStrictEqual(subs[2], { type: Op.error, err: Err.BadVersion }, "the failing op carries its error")
    assert.isNull(pending.get("/m"), "the multi's create is rolled back")
    assert.strictEqual(pending.get("/keep")?.version, 0, "the multi's setData never happened")
    assert.strictEqual(pending.get("/")?.numChildren, rootChildren)
    assert.strictEqual(pending.digest.value, digest)
    assert.strictEqual(pending.size, size)
    assert.strictEqual(errOf(write(create("/m"))), null, "the path is free again")
  })

  it("retiring an applied txn hands its paths back to the tree", () => {
    const { tree, pending, write, apply } = setup()
    const a = write(create("/a"))
    const b = write(setData("/a", 0))
    apply(a)
    assert.strictEqual(tree.get("/a")?.version, 0)
    assert.strictEqual(pending.get("/a")?.version, 1, "the later setData is still pending")
    apply(b)
    assert.strictEqual(pending.size, 0)
    assert.strictEqual(pending.get("/a")?.version, 1, "read from the tree now")
  })

  it("closeSession deletes the ephemerals the session will own, including pending ones", () => {
    const { tree, write, apply, prep } = setup()
    apply(write(create("/e1", CreateMode.EPHEMERAL)))
    write(create("/e2", CreateMode.EPHEMERAL))
    write(create("/p"))
    const close = prep.closeSession(caller.sessionId, 0, 1000, 1000)
    assert.deepStrictEqual([...(close.txn as { readonly paths: ReadonlyArray<string> }).paths].sort(), ["/e1", "/e2"])
    assert.isDefined(tree.get("/e1"), "the tree keeps it until the closeSession is applied")
  })

  it.prop(
    "after any sequence of prepared writes is applied, the tree's digest is the one Prep predicted",
    [fc.array(fc.tuple(fc.integer({ min: 0, max: 4 }), fc.constantFrom("/a", "/b", "/a/c", "/b/d"), fc.integer({ min: -1, max: 2 })), { maxLength: 40 })],
    ([ops]) => {
      const { tree, pending, write, apply } = setup()
      for (const [kind, path, version] of ops) {
        const q =
          kind === 0
            ? create(path)
            : kind === 1
              ? create(path, CreateMode.EPHEMERAL)
              : kind === 2
                ? setData(path, version)
                : kind === 3
                  ? del(path, version)
                  : multi(create(`${path}x`), setData(path, version))
        const p = write(q)
        const predicted = pending.digest.value
        apply(p)
        assert.strictEqual(tree.digest.value, predicted, `after ${JSON.stringify(q.type)} ${path}`)
      }
      assert.strictEqual(pending.size, 0)
    },
    { fastCheck: { numRuns: 200 } }
  )
})
