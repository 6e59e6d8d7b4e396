/** AclCache: equal lists share one ref, refs are counted, and snapshot loads keep their refs. */
import { assert, describe, it } from "@effect/vitest"
import { AclCache, OPEN_ACL_REF, OPEN_ACL_UNSAFE } from "../../src/tree/AclCache.js"
import type { ACL } from "../../src/wire/ClientRecords.js"

const acl = (perms: number, id = "anyone", scheme = "world"): ReadonlyArray<ACL> => [{ perms, id: { scheme, id } }]

describe("AclCache", () => {
  it("interns equal lists under one ref and forgets a list when its last user releases it", () => {
    const c = new AclCache()
    const a = c.add(acl(31))
    assert.strictEqual(c.add([...acl(31)]), a, "an equal list (another array) shares the ref")
    const b = c.add(acl(1))
    assert.notStrictEqual(b, a)
    assert.notStrictEqual(c.add(acl(31, "anyone", "ip")), a, "scheme is part of the key")
    assert.notStrictEqual(c.add([...acl(1), ...acl(31)]), c.add([...acl(31), ...acl(1)]), "order is part of the key")
    c.release(a)
    assert.deepStrictEqual(c.get(a), acl(31), "one user left")
    c.release(a)
    assert.throws(() => c.get(a), /not in cache/)
    assert.notStrictEqual(c.add(acl(31)), a, "a forgotten list gets a fresh ref")
  })

  it("ref -1 is OPEN_ACL_UNSAFE and is never counted", () => {
    const c = new AclCache()
    assert.deepStrictEqual(c.get(OPEN_ACL_REF), OPEN_ACL_UNSAFE)
    c.release(OPEN_ACL_REF)
    c.retain(OPEN_ACL_REF)
    assert.strictEqual(c.size, 0)
  })

  it("snapshot loads keep their refs; unused ones go on purge; new refs come after the loaded ones", () => {
    const c = new AclCache()
    c.load(7, acl(31))
    c.load(3, acl(1))
    c.retain(7)
    assert.throws(() => c.retain(9), /missing from the snapshot/)
    c.purgeUnused()
    assert.deepStrictEqual(c.get(7), acl(31))
    assert.throws(() => c.get(3))
    assert.strictEqual(c.add(acl(31)), 7, "a loaded list is found by value")
    assert.strictEqual(c.add(acl(5)), 8)
  })
})
