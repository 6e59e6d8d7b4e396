/**
 * node-zookeeper-client (npm) against each target: node operations with their Stats and error
 * codes, transactions, one-shot watches, digest ACLs with addAuthInfo, ephemerals vanishing with
 * their session, and many pipelined requests.
 */
import { afterEach, assert, it } from "@effect/vitest"
import { createHash } from "node:crypto"
import { describeTargets } from "../support/targets.js"
import { codeName, connectNzk, long, nzk, type NzkClient, type NzkEvent } from "./nodeZk.js"

const opened: Array<NzkClient> = []
afterEach(() => {
  for (const c of opened.splice(0)) c.close()
})

const expectError = async (p: Promise<unknown>, code: string) => {
  try {
    const v = await p
    assert.fail(`expected ${code}, got ${JSON.stringify(v)}`)
  } catch (e) {
    if (e instanceof Error && e.name === "AssertionError") throw e
    assert.strictEqual(codeName(e), code)
  }
}

/** Resolves with the first event a watcher gets (bounded). */
const nextEvent = () => {
  let fire: (e: NzkEvent) => void = () => {}
  const event = new Promise<NzkEvent>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("no watch event within 10s")), 10_000)
    fire = (e) => {
      clearTimeout(timer)
      resolve(e)
    }
  })
  return { watcher: (e: NzkEvent) => fire(e), event }
}

/**
 * Waits until `client`'s server has applied `path`'s creation. Another session may be on another
 * peer of an ensemble, and ZooKeeper orders reads only within a session: without this a read there
 * can still miss a node the owner's session already created (exists checks no ACL).
 */
const visible = async (client: NzkClient, path: string) => {
  const deadline = Date.now() + 10_000
  while ((await client.exists(path)) === null) {
    if (Date.now() > deadline) assert.fail(`${path} never became visible to the second session`)
    await new Promise((r) => setTimeout(r, 10))
  }
}

const digest = (user: string, password: string) =>
  `${user}:${createHash("sha1").update(`${user}:${password}`).digest("base64")}`

describeTargets("node-zookeeper-client", (t) => {
  const connect = async () => {
    const c = await connectNzk(t.server().connectString)
    opened.push(c)
    return c
  }

  it("create, getData, setData, exists, getChildren, remove and their errors", async () => {
    const c = await connect()
    assert.strictEqual(await c.create("/n", Buffer.from("one")), "/n")
    const got = await c.getData("/n")
    assert.strictEqual(got.data?.toString(), "one")
    assert.strictEqual(got.stat.version, 0)
    assert.strictEqual(got.stat.dataLength, 3)
    assert.strictEqual(long(got.stat.czxid), long(got.stat.mzxid))
    assert.strictEqual(long(got.stat.ephemeralOwner), 0n)

    const s1 = await c.setData("/n", Buffer.from("two!"))
    assert.strictEqual(s1.version, 1)
    assert.isTrue(long(s1.mzxid) > long(s1.czxid))
    await expectError(c.setData("/n", Buffer.from("x"), 0), "BAD_VERSION")
    assert.strictEqual((await c.setData("/n", Buffer.from("three"), 1)).version, 2)

    await expectError(c.create("/n", null), "NODE_EXISTS")
    await expectError(c.create("/missing/child", null), "NO_NODE")
    await expectError(c.getData("/missing"), "NO_NODE")
    assert.isNull(await c.exists("/missing"))

    const seqA = await c.create("/n/s-", null, undefined, nzk.CreateMode.PERSISTENT_SEQUENTIAL)
    const seqB = await c.create("/n/s-", null, undefined, nzk.CreateMode.PERSISTENT_SEQUENTIAL)
    assert.deepStrictEqual([seqA, seqB], ["/n/s-0000000000", "/n/s-0000000001"])
    const eph = await c.create("/n/e", Buffer.from("e"), undefined, nzk.CreateMode.EPHEMERAL)
    assert.strictEqual(long((await c.exists(eph))!.ephemeralOwner), c.sessionId())
    await expectError(c.create("/n/e/child", null), "NO_CHILDREN_FOR_EPHEMERALS")

    const kids = await c.getChildren("/n")
    assert.deepStrictEqual([...kids.children].sort(), ["e", "s-0000000000", "s-0000000001"])
    assert.strictEqual(kids.stat.numChildren, 3)
    assert.strictEqual(kids.stat.cversion, 3)

    await expectError(c.remove("/n"), "NOT_EMPTY")
    await expectError(c.remove("/n/s-0000000000", 5), "BAD_VERSION")
    await c.remove("/n/s-0000000000", 0)
    await expectError(c.remove("/n/s-0000000000"), "NO_NODE")

    // null data stays null (getData returns no buffer), empty stays empty.
    await c.create("/n-null", null)
    assert.isUndefined((await c.getData("/n-null")).data)
    assert.strictEqual((await c.getData("/n-null")).stat.dataLength, 0)
    assert.strictEqual(await c.mkdirp("/deep/a/b/c", Buffer.from("x")), "/deep/a/b/c")
    assert.strictEqual((await c.getData("/deep/a/b/c")).data?.toString(), "x")
  })

  it("transactions commit atomically or not at all", async () => {
    const c = await connect()
    await c.create("/tx", Buffer.from("v0"))
    await c.setData("/tx", Buffer.from("v0b")) // version 1
    // (The library sends version 0 in a transaction as -1, "any": only non-zero versions here.)
    const results = await c.transaction((tx) =>
      // check sees the setData before it in the same multi (version 2).
      tx.create("/tx/a", Buffer.from("a")).setData("/tx", Buffer.from("v1"), 1).check("/tx", 2).remove("/tx/a")
    )
    // Result types: create (1) with the path, setData (5) with a Stat, check (13), delete (2).
    assert.deepStrictEqual(
      results.map((r: { type: number }) => r.type),
      [1, 5, 13, 2]
    )
    assert.strictEqual(results[0].path, "/tx/a")
    assert.strictEqual(results[1].stat.version, 2)
    assert.strictEqual((await c.getData("/tx")).data?.toString(), "v1")
    assert.isNull(await c.exists("/tx/a"))

    try {
      await c.transaction((tx) => tx.create("/tx/b", Buffer.from("b")).setData("/tx", Buffer.from("v2"), 1).remove("/tx"))
      assert.fail("transaction with a stale version committed")
    } catch (e) {
      if (e instanceof Error && e.name === "AssertionError") throw e
      assert.strictEqual(codeName(e), "BAD_VERSION")
      // Every result is an error: ops before the failure 0, the failing op BadVersion (-103), the
      // ops after it RuntimeInconsistency (-2).
      const errs = (e as { results: Array<{ type: number; err: number }> }).results.map((r) => [r.type, r.err])
      assert.deepStrictEqual(errs, [
        [-1, 0],
        [-1, -103],
        [-1, -2]
      ])
    }
    assert.isNull(await c.exists("/tx/b"))
    assert.strictEqual((await c.getData("/tx")).stat.version, 2)
  })

  it("one-shot watches fire once with the right event", async () => {
    const c = await connect()
    const writer = await connect()
    await c.create("/w", Buffer.from("0"))

    const data = nextEvent()
    await c.getData("/w", data.watcher)
    const children = nextEvent()
    await c.getChildren("/w", children.watcher)
    const created = nextEvent()
    assert.isNull(await c.exists("/w2", created.watcher))

    await writer.setData("/w", Buffer.from("1"))
    assert.deepInclude(await data.event, { name: "NODE_DATA_CHANGED", path: "/w" })
    await writer.create("/w/child", null)
    assert.deepInclude(await children.event, { name: "NODE_CHILDREN_CHANGED", path: "/w" })
    await writer.create("/w2", null)
    assert.deepInclude(await created.event, { name: "NODE_CREATED", path: "/w2" })

    const deleted = nextEvent()
    assert.isNotNull(await c.exists("/w2", deleted.watcher))
    await writer.remove("/w2")
    assert.deepInclude(await deleted.event, { name: "NODE_DELETED", path: "/w2" })
  })

  it("digest ACLs and addAuthInfo", async () => {
    const owner = await connect()
    owner.addAuthInfo("digest", Buffer.from("alice:secret"))
    const stranger = await connect()
    const alice = new nzk.ACL(nzk.Permission.ALL, new nzk.Id("digest", digest("alice", "secret")))
    const worldRead = new nzk.ACL(nzk.Permission.READ, nzk.Id.ANYONE_ID_UNSAFE)
    await owner.create("/acl", Buffer.from("private"), [alice])
    await visible(stranger, "/acl")

    await expectError(stranger.getData("/acl"), "NO_AUTH")
    await expectError(stranger.setData("/acl", Buffer.from("x")), "NO_AUTH")
    await expectError(stranger.create("/acl/child", null), "NO_AUTH")
    // exists does not check ACLs on this 3.8 line (client.md §16).
    assert.isNotNull(await stranger.exists("/acl"))

    const acl = await owner.getACL("/acl")
    assert.deepStrictEqual(
      acl.acls.map((a: { permission: number; id: { scheme: string; id: string } }) => [a.permission, a.id.scheme, a.id.id]),
      [[31, "digest", digest("alice", "secret")]]
    )
    await expectError(owner.setACL("/acl", [alice, worldRead], 3), "BAD_VERSION")
    assert.strictEqual((await owner.setACL("/acl", [alice, worldRead], 0)).aversion, 1)
    // On an ensemble the stranger's server applies the setACL a moment later (node-zookeeper-client has no sync).
    const aclVisible = Date.now() + 10_000
    while ((await stranger.exists("/acl"))!.aversion < 1) {
      if (Date.now() > aclVisible) assert.fail("the new ACL never reached the second session's server")
      await new Promise((r) => setTimeout(r, 10))
    }
    assert.strictEqual((await stranger.getData("/acl")).data?.toString(), "private")
    await expectError(stranger.setData("/acl", Buffer.from("x")), "NO_AUTH")

    stranger.addAuthInfo("digest", Buffer.from("alice:secret"))
    assert.strictEqual((await stranger.setData("/acl", Buffer.from("shared"))).version, 1)
    // An invalid ACL (unknown scheme) is rejected.
    await expectError(owner.create("/bad-acl", null, [new nzk.ACL(nzk.Permission.ALL, new nzk.Id("nosuch", "x"))]), "INVALID_ACL")
  })

  it("a closed session's ephemerals vanish and other sessions see it", async () => {
    const c = await connect()
    const other = await connect()
    await c.create("/eph-owner", Buffer.from("x"), undefined, nzk.CreateMode.EPHEMERAL)
    await visible(other, "/eph-owner")
    const deleted = nextEvent()
    assert.isNotNull(await other.exists("/eph-owner", deleted.watcher))
    c.close()
    assert.deepInclude(await deleted.event, { name: "NODE_DELETED", path: "/eph-owner" })
    assert.isNull(await other.exists("/eph-owner"))
  })

  it("hundreds of pipelined requests and a large payload", async () => {
    const c = await connect()
    await c.create("/p", null)
    const paths = await Promise.all(Array.from({ length: 500 }, (_, i) => c.create(`/p/n${i}`, Buffer.from(String(i)))))
    assert.strictEqual(paths.length, 500)
    const values = await Promise.all(paths.map((p) => c.getData(p)))
    values.forEach((v, i) => assert.strictEqual(v.data?.toString(), String(i)))
    // Every write got its own zxid, in order of issue.
    const zxids = values.map((v) => long(v.stat.czxid))
    for (let i = 1; i < zxids.length; i++) assert.isTrue(zxids[i]! > zxids[i - 1]!)

    const big = Buffer.alloc(1_000_000, 7)
    await c.create("/p-big", big)
    assert.strictEqual((await c.getData("/p-big")).data?.length, big.length)
  })
}, { ensembles: true })
