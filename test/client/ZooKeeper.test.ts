/**
 * Every client operation against a real server: results, Stats, and the server's error codes
 * as typed KeeperErrors.
 */
import { assert } from "@effect/vitest"
import { Effect, Either, Option, Stream } from "effect"
import { Acl, CreateMode, MultiOp, Perms, ZooKeeper } from "../../src/client/index.js"
import { encodeWith } from "../../src/wire/Jute.js"
import { writeRequest } from "../../src/wire/ClientRecords.js"
import { Err, Op } from "../../src/wire/Codes.js"
import { describeServersAndEnsemble } from "./servers.js"
import { client, failure, freshPath, sorted, text } from "./helpers.js"

describeServersAndEnsemble("ZooKeeper client operations", (server) => {
  const connect = (options: Partial<ZooKeeper.Options> = {}) => client(server.connectString(), options)

  server.it("create, getData, setData, exists, delete", () =>
    Effect.gen(function*() {
      const zk = yield* connect()
      const p = freshPath("crud")
      assert.strictEqual(yield* zk.create(p, "one"), p)
      const got = yield* zk.getData(p)
      assert.strictEqual(text(got.data), "one")
      assert.strictEqual(got.stat.version, 0)
      assert.strictEqual(got.stat.dataLength, 3)
      assert.strictEqual(got.stat.czxid, got.stat.mzxid)
      assert.strictEqual(got.stat.ephemeralOwner, 0n)

      const stat = yield* zk.setData(p, "two!")
      assert.strictEqual(stat.version, 1)
      assert.strictEqual(stat.dataLength, 4)
      assert.isTrue(stat.mzxid > stat.czxid)
      const stat2 = yield* zk.setData(p, "three", 1)
      assert.strictEqual(stat2.version, 2)

      const e = yield* zk.exists(p)
      assert.isTrue(Option.isSome(e))
      assert.deepStrictEqual(Option.getOrThrow(e), stat2)

      yield* zk.delete(p, 2)
      assert.isTrue(Option.isNone(yield* zk.exists(p)))
      // The session's writes move lastZxid forward.
      assert.isTrue((yield* zk.lastZxid) >= stat2.mzxid)
    }))

  server.it("null data, empty data and binary data", () =>
    Effect.gen(function*() {
      const zk = yield* connect()
      const p = freshPath("data")
      yield* zk.create(p, null)
      assert.isNull((yield* zk.getData(p)).data)
      yield* zk.setData(p, new Uint8Array(0))
      assert.deepStrictEqual((yield* zk.getData(p)).data, new Uint8Array(0))
      const bytes = new Uint8Array(256).map((_, i) => i)
      yield* zk.setData(p, bytes)
      assert.deepStrictEqual((yield* zk.getData(p)).data, bytes)
      // A frame far larger than one TCP segment, reassembled from many chunks.
      const big = new Uint8Array(900_000).map((_, i) => (i * 31) & 0xff)
      yield* zk.setData(p, big)
      assert.deepStrictEqual((yield* zk.getData(p)).data, big)
      yield* zk.create(`${p}/default`)
      assert.deepStrictEqual((yield* zk.getData(`${p}/default`)).data, new Uint8Array(0))
    }))

  server.it("createWithStat, ephemeral owner, sequential names", () =>
    Effect.gen(function*() {
      const zk = yield* connect()
      const { sessionId } = yield* zk.session
      const p = freshPath("seq")
      const created = yield* zk.createWithStat(p, "x")
      assert.strictEqual(created.path, p)
      assert.strictEqual(created.stat.czxid, created.stat.pzxid)
      assert.strictEqual(created.stat.numChildren, 0)

      const eph = yield* zk.createWithStat(`${p}/e`, "", { mode: CreateMode.EPHEMERAL })
      assert.strictEqual(eph.stat.ephemeralOwner, sessionId)

      const a = yield* zk.create(`${p}/s-`, "", { mode: CreateMode.PERSISTENT_SEQUENTIAL })
      const b = yield* zk.create(`${p}/s-`, "", { mode: CreateMode.EPHEMERAL_SEQUENTIAL })
      const c = yield* zk.createWithStat(`${p}/s-`, "", { mode: CreateMode.PERSISTENT_SEQUENTIAL })
      // The suffix is the parent's cversion before the create, 10 digits (client.md §10).
      assert.strictEqual(a, `${p}/s-0000000001`)
      assert.strictEqual(b, `${p}/s-0000000002`)
      assert.strictEqual(c.path, `${p}/s-0000000003`)
      assert.deepStrictEqual(sorted(yield* zk.getChildren(p)), ["e", "s-0000000001", "s-0000000002", "s-0000000003"])
    }))

  server.it("container and TTL nodes", () =>
    Effect.gen(function*() {
      const zk = yield* connect()
      const p = freshPath("kinds")
      yield* zk.create(p)
      const container = yield* zk.createWithStat(`${p}/c`, "", { mode: CreateMode.CONTAINER })
      assert.strictEqual(container.path, `${p}/c`)
      assert.strictEqual(container.stat.ephemeralOwner, 0n)
      // create (not createWithStat) of a container still answers with a path.
      assert.strictEqual(yield* zk.create(`${p}/c2`, "", { mode: CreateMode.CONTAINER }), `${p}/c2`)

      const ttl = yield* zk.createWithStat(`${p}/t`, "", { mode: CreateMode.PERSISTENT_WITH_TTL, ttl: 60_000 })
      assert.strictEqual(ttl.stat.ephemeralOwner, 0n)
      const seqTtl = yield* zk.create(`${p}/t-`, "", { mode: CreateMode.PERSISTENT_SEQUENTIAL_WITH_TTL, ttl: 60_000 })
      assert.match(seqTtl, /\/t-\d{10}$/)

      const noTtl = yield* failure(zk.create(`${p}/bad`, "", { mode: CreateMode.PERSISTENT_WITH_TTL }))
      assert.strictEqual(noTtl._tag, "KeeperError")
      if (noTtl._tag === "KeeperError") assert.strictEqual(noTtl.code, "BadArguments")
      const ttlOnPlain = yield* failure(zk.create(`${p}/bad`, "", { mode: CreateMode.PERSISTENT, ttl: 1000 }))
      assert.strictEqual(ttlOnPlain._tag === "KeeperError" && ttlOnPlain.code, "BadArguments")
      const badFlags = yield* failure(zk.create(`${p}/bad`, "", { mode: 7 }))
      assert.strictEqual(badFlags._tag === "KeeperError" && badFlags.code, "BadArguments")
    }))

  server.it("getChildren, getChildren2, getAllChildrenNumber, getEphemerals", () =>
    Effect.gen(function*() {
      const zk = yield* connect()
      const other = yield* connect()
      const p = freshPath("children")
      yield* zk.create(p)
      yield* zk.create(`${p}/a`)
      yield* zk.create(`${p}/a/x`)
      yield* zk.create(`${p}/b`, "", { mode: CreateMode.EPHEMERAL })
      yield* zk.create(`${p}/bb`, "", { mode: CreateMode.EPHEMERAL })
      yield* other.create(`${p}/c`, "", { mode: CreateMode.EPHEMERAL })

      // On an ensemble, zk's server may not have applied other's create yet.
      yield* zk.sync(p)
      assert.deepStrictEqual(sorted(yield* zk.getChildren(p)), ["a", "b", "bb", "c"])
      const two = yield* zk.getChildren2(p)
      assert.deepStrictEqual(sorted(two.children), ["a", "b", "bb", "c"])
      assert.strictEqual(two.stat.numChildren, 4)
      assert.deepStrictEqual(yield* zk.getChildren(`${p}/a/x`), [])
      assert.strictEqual(yield* zk.getAllChildrenNumber(p), 5)
      assert.strictEqual(yield* zk.getAllChildrenNumber(`${p}/a`), 1)

      // Only this session's ephemerals; a plain string prefix (`/b` also matches `/bb`).
      assert.deepStrictEqual(sorted(yield* zk.getEphemerals(p)), [`${p}/b`, `${p}/bb`])
      assert.deepStrictEqual(sorted(yield* zk.getEphemerals(`${p}/b`)), [`${p}/b`, `${p}/bb`])
      assert.deepStrictEqual(yield* other.getEphemerals(p), [`${p}/c`])
      assert.deepStrictEqual(yield* zk.getEphemerals(`${p}/zzz`), [])
      assert.includeMembers([...(yield* zk.getEphemerals())], [`${p}/b`, `${p}/bb`])
    }))

  server.it("server errors are KeeperErrors with code and path", () =>
    Effect.gen(function*() {
      const zk = yield* connect()
      const p = freshPath("errors")
      const code = <A>(self: Effect.Effect<A, unknown>) =>
        Effect.map(failure(self), (e) => {
          assert.strictEqual((e as { _tag: string })._tag, "KeeperError")
          const ke = e as { code: string; path: string }
          return `${ke.code} ${ke.path}`
        })

      assert.strictEqual(yield* code(zk.getData(`${p}/missing`)), `NoNode ${p}/missing`)
      assert.strictEqual(yield* code(zk.create(`${p}/a/b`)), `NoNode ${p}/a/b`)
      assert.strictEqual(yield* code(zk.delete(`${p}/missing`)), `NoNode ${p}/missing`)
      assert.strictEqual(yield* code(zk.setData(`${p}/missing`, "x")), `NoNode ${p}/missing`)
      assert.strictEqual(yield* code(zk.getChildren(`${p}/missing`)), `NoNode ${p}/missing`)
      yield* zk.create(p, "v0")
      assert.strictEqual(yield* code(zk.create(p)), `NodeExists ${p}`)
      assert.strictEqual(yield* code(zk.setData(p, "x", 5)), `BadVersion ${p}`)
      assert.strictEqual(yield* code(zk.delete(p, 3)), `BadVersion ${p}`)
      yield* zk.create(`${p}/child`)
      assert.strictEqual(yield* code(zk.delete(p)), `NotEmpty ${p}`)
      yield* zk.create(`${p}/eph`, "", { mode: CreateMode.EPHEMERAL })
      assert.strictEqual(yield* code(zk.create(`${p}/eph/x`)), `NoChildrenForEphemerals ${p}/eph/x`)
      assert.strictEqual(yield* code(zk.create(`${p}/noacl`, "", { acl: [] })), `InvalidACL ${p}/noacl`)
      // The "auth" scheme needs an authenticated id on the connection.
      assert.strictEqual(yield* code(zk.create(`${p}/noauth`, "", { acl: Acl.creatorAllAcl })), `InvalidACL ${p}/noauth`)
      assert.strictEqual(yield* code(zk.create("bad-path")), "BadArguments bad-path")
      assert.strictEqual(yield* code(zk.create(`${p}/child/`)), `BadArguments ${p}/child/`)
      // NoNode (missing parent) wins over the malformed last component (client.md §13).
      assert.strictEqual(yield* code(zk.create(`${p}/nope/x/`)), `NoNode ${p}/nope/x/`)
      assert.strictEqual(yield* code(zk.delete("/zookeeper")), "BadArguments /zookeeper")
      const e = yield* failure(zk.getData(`${p}/missing`))
      assert.strictEqual(e.message, `NoNode: ${p}/missing`)
    }))

  server.it("ACLs, digest auth, NoAuth and whoAmI", () =>
    Effect.gen(function*() {
      const alice = yield* connect({ authInfo: [{ scheme: "digest", auth: "alice:secret" }] })
      const anon = yield* connect()
      const p = freshPath("acl")

      yield* alice.create(p, "mine", { acl: Acl.creatorAllAcl })
      const { acl, stat } = yield* alice.getACL(p)
      assert.deepStrictEqual(acl, [Acl.digest("alice", "secret")])
      assert.strictEqual(stat.aversion, 0)
      assert.deepStrictEqual(Acl.digestId("alice", "secret"), { scheme: "digest", id: "alice:aYXlLOpEooaV1cRAvUL1fp9Qt7E=" })

      yield* anon.sync(p)
      const denied = yield* failure(anon.getData(p))
      assert.strictEqual(denied._tag === "KeeperError" && denied.code, "NoAuth")
      const denied2 = yield* failure(anon.setData(p, "x"))
      assert.strictEqual(denied2._tag === "KeeperError" && denied2.code, "NoAuth")

      const ip = `ip/${server.clientAddress}`
      assert.deepStrictEqual(sorted((yield* alice.whoAmI).map((c) => `${c.scheme}/${c.user}`)), ["digest/alice", ip])
      assert.deepStrictEqual((yield* anon.whoAmI).map((c) => `${c.scheme}/${c.user}`), [ip])

      // addAuth later on an existing session.
      yield* anon.addAuth("digest", "alice:secret")
      assert.strictEqual(text((yield* anon.getData(p)).data), "mine")

      const stat2 = yield* alice.setACL(p, [...Acl.readAclUnsafe, Acl.digest("alice", "secret")], 0)
      assert.strictEqual(stat2.aversion, 1)
      const badVersion = yield* failure(alice.setACL(p, Acl.openAclUnsafe, 0))
      assert.strictEqual(badVersion._tag === "KeeperError" && badVersion.code, "BadVersion")
      const reader = yield* connect()
      yield* reader.sync(p)
      assert.strictEqual(text((yield* reader.getData(p)).data), "mine")
      const noWrite = yield* failure(reader.setData(p, "x"))
      assert.strictEqual(noWrite._tag === "KeeperError" && noWrite.code, "NoAuth")
      // Without ADMIN, digest ids come back redacted (client.md §11.3).
      const redacted = yield* reader.getACL(p)
      assert.deepStrictEqual(redacted.acl.map((a) => `${a.id.scheme}:${a.id.id}:${a.perms}`).sort(), [
        "digest:alice:x:31",
        "world:anyone:1"
      ])
      assert.strictEqual(Perms.ALL, 31)
    }))

  server.it("a failed auth is terminal (AuthFailed)", () =>
    Effect.gen(function*() {
      const zk = yield* connect()
      const e = yield* failure(zk.addAuth("no-such-scheme", "x"))
      assert.strictEqual(e._tag === "KeeperError" && e.code, "AuthFailed")
      const later = yield* failure(zk.exists("/"))
      assert.strictEqual(later._tag === "KeeperError" && later.code, "AuthFailed")
      assert.strictEqual(yield* Stream.runHead(Stream.filter(zk.states, (s) => s === "AuthFailed")).pipe(Effect.map(Option.getOrThrow)), "AuthFailed")
    }))

  server.it("multi: per-op results, and MultiError when one op fails", () =>
    Effect.gen(function*() {
      const zk = yield* connect()
      const p = freshPath("multi")
      yield* zk.create(p)
      yield* zk.create(`${p}/gone`)
      const results = yield* zk.multi([
        MultiOp.create(`${p}/a`, "1"),
        MultiOp.create(`${p}/s-`, "", { mode: CreateMode.PERSISTENT_SEQUENTIAL }),
        MultiOp.setData(`${p}/a`, "2", 0),
        MultiOp.check(`${p}/a`, 1),
        MultiOp.delete(`${p}/gone`)
      ])
      assert.deepStrictEqual(results.map((r) => r._tag), ["Create", "Create", "SetData", "Check", "Delete"])
      const [createA, createSeq, set] = results
      assert.strictEqual(createA?._tag === "Create" && createA.path, `${p}/a`)
      assert.strictEqual(createSeq?._tag === "Create" && createSeq.path, `${p}/s-0000000002`)
      assert.strictEqual(set?._tag === "SetData" && set.stat.version, 1)
      assert.strictEqual(text((yield* zk.getData(`${p}/a`)).data), "2")
      assert.isTrue(Option.isNone(yield* zk.exists(`${p}/gone`)))

      // Container / TTL creates answer with create2 results carrying a Stat.
      const kinds = yield* zk.multi([
        MultiOp.create(`${p}/c`, "", { mode: CreateMode.CONTAINER }),
        MultiOp.create(`${p}/t`, "", { mode: CreateMode.PERSISTENT_WITH_TTL, ttl: 60_000 })
      ])
      for (const r of kinds) assert.isTrue(r._tag === "Create" && Option.isSome(r.stat))

      const e = yield* failure(zk.multi([
        MultiOp.create(`${p}/b`),
        MultiOp.check(`${p}/a`, 7),
        MultiOp.create(`${p}/c2`)
      ]))
      assert.strictEqual(e._tag, "MultiError")
      if (e._tag === "MultiError") {
        assert.strictEqual(e.code, "BadVersion")
        assert.strictEqual(e.index, 1)
        assert.strictEqual(e.path, `${p}/a`)
        assert.deepStrictEqual(e.results, ["Ok", "BadVersion", "RuntimeInconsistency"])
      }
      // All or nothing: the first create was rolled back.
      assert.isTrue(Option.isNone(yield* zk.exists(`${p}/b`)))

      const e2 = yield* failure(zk.multi([MultiOp.delete(`${p}/missing`), MultiOp.create(`${p}/d`)]))
      assert.isTrue(e2._tag === "MultiError" && e2.code === "NoNode" && e2.index === 0)
      assert.deepStrictEqual(yield* zk.multi([]), [])
    }))

  server.it("multiRead: independent results", () =>
    Effect.gen(function*() {
      const zk = yield* connect()
      const p = freshPath("multiread")
      yield* zk.create(p, "root")
      yield* zk.create(`${p}/k`)
      const results = yield* zk.multiRead([
        MultiOp.getData(p),
        MultiOp.getChildren(p),
        MultiOp.getData(`${p}/missing`),
        MultiOp.getChildren(`${p}/missing`)
      ])
      assert.strictEqual(results.length, 4)
      const [data, children, missing, missing2] = results
      assert.isTrue(data !== undefined && Either.isRight(data) && data.right._tag === "GetData" && text(data.right.data) === "root")
      assert.isTrue(
        children !== undefined && Either.isRight(children) && children.right._tag === "GetChildren" &&
          children.right.children.join() === "k"
      )
      assert.isTrue(missing !== undefined && Either.isLeft(missing) && missing.left.code === "NoNode" && missing.left.path === `${p}/missing`)
      assert.isTrue(missing2 !== undefined && Either.isLeft(missing2) && missing2.left.code === "NoNode")
    }))

  server.it("sync, getConfig, whoAmI", () =>
    Effect.gen(function*() {
      const zk = yield* connect()
      yield* zk.sync("/")
      const p = freshPath("sync")
      yield* zk.create(p)
      yield* zk.sync(p)
      const config = yield* zk.getConfig
      assert.strictEqual(config.stat.aversion, -1)
      assert.deepStrictEqual((yield* zk.whoAmI).map((c) => c.scheme), ["ip"])
    }))

  server.it("chroot: paths in and out are relative to it", () =>
    Effect.gen(function*() {
      const root = yield* connect()
      const base = freshPath("chroot")
      yield* root.create(base)
      const zk = yield* connect({ connectString: `${server.connectString()}${base}` })
      assert.strictEqual(yield* zk.create("/a", "x"), "/a")
      assert.strictEqual(yield* zk.create("/a/s-", "", { mode: CreateMode.PERSISTENT_SEQUENTIAL }), "/a/s-0000000000")
      yield* root.sync(base)
      assert.strictEqual(text((yield* root.getData(`${base}/a`)).data), "x")
      assert.deepStrictEqual(yield* zk.getChildren("/"), ["a"])
      yield* zk.create("/e", "", { mode: CreateMode.EPHEMERAL })
      assert.deepStrictEqual(yield* zk.getEphemerals("/"), ["/e"])
      const { watch } = yield* zk.getDataWatch("/a")
      yield* root.setData(`${base}/a`, "y")
      assert.deepStrictEqual(yield* watch, { type: "NodeDataChanged", path: "/a" })
      const results = yield* zk.multi([MultiOp.create("/m")])
      assert.isTrue(results[0]?._tag === "Create" && results[0].path === "/m")
      const e = yield* failure(zk.getData("/missing"))
      assert.isTrue(e._tag === "KeeperError" && e.path === "/missing")
      // getConfig ignores the chroot, as in the Java client.
      assert.strictEqual((yield* zk.getConfig).stat.aversion, -1)
    }))

  server.it("pipelined requests keep their order", () =>
    Effect.gen(function*() {
      const zk = yield* connect({ maxPendingRequests: 64 })
      const p = freshPath("pipeline")
      yield* zk.create(p)
      const paths = yield* Effect.all(
        Array.from({ length: 300 }, (_, i) => zk.create(`${p}/n-`, String(i), { mode: CreateMode.PERSISTENT_SEQUENTIAL })),
        { concurrency: "unbounded" }
      )
      assert.strictEqual(new Set(paths).size, 300)
      assert.strictEqual((yield* zk.getChildren2(p)).stat.numChildren, 300)
      const datas = yield* Effect.all(paths.map((q) => zk.getData(q)), { concurrency: 50 })
      assert.strictEqual(datas.length, 300)
    }))

  server.it("request: raw escape hatch", () =>
    Effect.gen(function*() {
      const zk = yield* connect()
      const p = freshPath("raw")
      yield* zk.create(p, "raw")
      const reply = yield* zk.request(Op.exists, encodeWith(writeRequest, { type: Op.exists, path: p, watch: false }))
      assert.strictEqual(reply.err, 0)
      assert.strictEqual(reply.body.length, 68)
      assert.isTrue(reply.xid > 0)
      const missing = yield* zk.request(Op.exists, encodeWith(writeRequest, { type: Op.exists, path: `${p}/x`, watch: false }))
      assert.strictEqual(missing.err, Err.NoNode)
      assert.strictEqual(missing.body.length, 0)
      // An unknown opcode: Unimplemented, zxid -1, then the server closes the connection.
      const unknown = yield* zk.request(999)
      assert.strictEqual(unknown.err, Err.Unimplemented)
      assert.strictEqual(unknown.zxid, -1)
      // The client reconnects with the same session; the next request works.
      const { sessionId } = yield* zk.session
      const again = yield* zk.getData(p).pipe(Effect.retry({ while: (e) => e._tag === "ConnectionLoss", times: 5 }))
      assert.strictEqual(text(again.data), "raw")
      assert.strictEqual((yield* zk.session).sessionId, sessionId)
    }))
})
