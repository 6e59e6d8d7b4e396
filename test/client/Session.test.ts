/**
 * Session lifecycle: ephemerals on close, reconnect with the same session (to the same or another
 * listed server), watch and auth re-registration, and session expiry surfacing as SessionExpired
 * on pending and later requests. Pings and the read timeout are timed exactly on TestClock in
 * SessionTimers.test.ts.
 */
import { assert, it } from "@effect/vitest"
import { Chunk, Effect, Exit, Fiber, Option, Random, Scope, Stream } from "effect"
import { Acl, CreateMode, ZooKeeper } from "../../src/client/index.js"
import { startProxy } from "./proxy.js"
import { describeServers } from "./servers.js"
import { awaitState, client, eventually, failure, freshPath, serverClients, text } from "./helpers.js"

describeServers("ZooKeeper client sessions", (server) => {
  const { connect, proxy, target } = serverClients(server)

  it.scopedLive("closing the scope closes the session: ephemerals go, later calls fail", () =>
    Effect.gen(function*() {
      const observer = yield* connect()
      const p = freshPath("close")
      yield* observer.create(p)
      const scope = yield* Scope.make()
      const zk = yield* connect().pipe(Scope.extend(scope))
      yield* zk.create(`${p}/e`, "", { mode: CreateMode.EPHEMERAL })
      yield* zk.create(`${p}/s-`, "", { mode: CreateMode.EPHEMERAL_SEQUENTIAL })
      const states = yield* Effect.fork(Stream.runCollect(Stream.take(zk.states, 2)))
      yield* Effect.sleep(20)
      yield* Scope.close(scope, Exit.void)
      // closeSession is a txn: once it is answered the ephemerals are gone.
      assert.deepStrictEqual(yield* observer.getChildren(p), [])
      assert.strictEqual(yield* zk.state, "Closed")
      assert.deepStrictEqual(Chunk.toArray(yield* Fiber.join(states)), ["Connected", "Closed"])
      const e = yield* failure(zk.getData(p))
      assert.isTrue(e._tag === "SessionExpired" && e.reason === "Closed")
    }))

  it.scopedLive("make fails with ConnectionLoss when no server answers, and BadArguments for a bad connect string", () =>
    Effect.gen(function*() {
      const dead = yield* Effect.promise(() => startProxy(target()))
      dead.setMode("refuse")
      const e = yield* failure(
        ZooKeeper.make({ connectString: dead.connectString, connectTimeoutMs: 800, reconnectDelayMs: 100 }).pipe(Effect.scoped)
      )
      assert.strictEqual(e._tag, "ConnectionLoss")
      yield* Effect.promise(() => dead.close())
      const bad = yield* failure(ZooKeeper.make({ connectString: "" }).pipe(Effect.scoped))
      assert.isTrue(bad._tag === "KeeperError" && bad.code === "BadArguments")
    }))

  it.scopedLive("dropConnection: reconnects with the same session; ephemerals, watches and auth survive", () =>
    Effect.gen(function*() {
      const zk = yield* connect({ authInfo: [{ scheme: "digest", auth: "bob:pw" }] })
      const writer = yield* connect()
      const p = freshPath("reconnect")
      yield* writer.create(p)
      yield* zk.create(`${p}/eph`, "", { mode: CreateMode.EPHEMERAL })
      yield* zk.create(`${p}/secret`, "s", { acl: Acl.creatorAllAcl })
      const before = yield* zk.session
      // Separate paths: a 3.8 server keeps one watch mode per path and connection (ZOOKEEPER-4466).
      yield* writer.create(`${p}/kids`)
      yield* writer.create(`${p}/tree`)
      const dataWatch = yield* zk.getDataWatch(p)
      const childWatch = yield* zk.getChildrenWatch(`${p}/kids`)
      const events = yield* zk.addWatch(`${p}/tree`, "PersistentRecursive")
      const states = yield* Effect.fork(Stream.runCollect(Stream.take(zk.states, 3)))
      yield* Effect.sleep(20)

      yield* zk.dropConnection
      // Requests made while reconnecting wait for the new link.
      const secret = yield* zk.getData(`${p}/secret`)
      assert.strictEqual(text(secret.data), "s")
      assert.deepStrictEqual(Chunk.toArray(yield* Fiber.join(states)), ["Connected", "Disconnected", "Connected"])
      const after = yield* zk.session
      assert.strictEqual(after.sessionId, before.sessionId)
      assert.deepStrictEqual(after.passwd, before.passwd)
      assert.isTrue(Option.isSome(yield* writer.exists(`${p}/eph`)))
      assert.include((yield* zk.whoAmI).map((c) => `${c.scheme}/${c.user}`), "digest/bob")

      // Watches were re-registered with setWatches / setWatches2.
      yield* writer.setData(p, "changed")
      yield* writer.create(`${p}/kids/k`)
      yield* writer.create(`${p}/tree/x`)
      yield* writer.setData(`${p}/tree`, "t")
      assert.deepStrictEqual(yield* dataWatch.watch, { type: "NodeDataChanged", path: p })
      assert.deepStrictEqual(yield* childWatch.watch, { type: "NodeChildrenChanged", path: `${p}/kids` })
      const got = yield* events.pipe(Stream.take(2), Stream.runCollect)
      assert.deepStrictEqual(Chunk.toArray(got).map((e) => `${e.type} ${e.path}`), [
        `NodeCreated ${p}/tree/x`,
        `NodeDataChanged ${p}/tree`
      ])
    }))

  it.scopedLive("requests in flight when the link dies fail with ConnectionLoss", () =>
    Effect.gen(function*() {
      const px = yield* proxy
      const zk = yield* client(px.connectString)
      const p = freshPath("inflight")
      yield* zk.create(p)
      // A silent partition: the request goes out but no reply comes back.
      px.freeze()
      const pending = yield* Effect.fork(zk.getData(p))
      yield* Effect.sleep(100)
      yield* zk.dropConnection
      const e = yield* failure(Fiber.join(pending))
      assert.strictEqual(e._tag, "ConnectionLoss")
      // The client is back on a fresh (unfrozen) link through the same proxy.
      yield* awaitState(zk, "Connected")
      assert.isTrue(Option.isSome(yield* zk.exists(p)))
    }))

  it.scopedLive("reconnects to another listed server, keeping the session", () =>
    Effect.gen(function*() {
      const a = yield* proxy
      const b = yield* proxy
      const zk = yield* client(`${a.connectString},${b.connectString}`)
      const { sessionId } = yield* zk.session
      const p = freshPath("failover")
      yield* zk.create(p, "", { mode: CreateMode.EPHEMERAL })
      const [current, other] = a.active() === 1 ? [a, b] : [b, a]
      assert.strictEqual(current.active(), 1)
      current.setMode("refuse")
      current.cut()
      yield* eventually(Effect.sync(() => other.active() === 1), 10_000, "reconnect through the other server")
      yield* awaitState(zk, "Connected")
      assert.strictEqual((yield* zk.session).sessionId, sessionId)
      assert.isTrue(Option.isSome(yield* zk.exists(p)))
      assert.deepStrictEqual(yield* zk.getEphemerals(p), [p])
    }))

  it.scopedLive("skips a dead server in the connect string", () =>
    Effect.gen(function*() {
      const dead = yield* proxy
      dead.setMode("refuse")
      // The client starts its round robin at a random server: make it start at the dead one.
      yield* Effect.scoped(
        Effect.gen(function*() {
          const zk = yield* client(`${dead.connectString},${server.connectString()}`)
          assert.strictEqual(yield* zk.state, "Connected")
          assert.isTrue(Option.isSome(yield* zk.exists("/")), "a request through the live server")
        })
      ).pipe(Effect.withRandom(Random.fixed([0])))
      assert.strictEqual(dead.accepted(), 1, "the dead server was tried first, once")
    }))

  it.scopedLive("changes missed while disconnected fire the re-registered watches (relativeZxid)", () =>
    Effect.gen(function*() {
      const px = yield* proxy
      const zk = yield* client(px.connectString)
      const writer = yield* connect()
      const p = freshPath("missed")
      yield* writer.create(p, "v1")
      yield* writer.create(`${p}/gone`)
      const data = yield* zk.getDataWatch(p)
      const deleted = yield* zk.getDataWatch(`${p}/gone`)
      const created = yield* zk.existsWatch(`${p}/new`)
      px.setMode("hold")
      px.cut()
      yield* writer.setData(p, "v2")
      yield* writer.delete(`${p}/gone`)
      yield* writer.create(`${p}/new`)
      px.setMode("forward")
      assert.deepStrictEqual(yield* data.watch, { type: "NodeDataChanged", path: p })
      assert.deepStrictEqual(yield* deleted.watch, { type: "NodeDeleted", path: `${p}/gone` })
      assert.deepStrictEqual(yield* created.watch, { type: "NodeCreated", path: `${p}/new` })
    }))

  it.scopedLive("session closed elsewhere: reconnect finds it expired; pending and later calls fail", () =>
    Effect.gen(function*() {
      const px = yield* proxy
      const zk = yield* client(px.connectString)
      const p = freshPath("expired")
      yield* zk.create(p)
      const { watch } = yield* zk.getDataWatch(p)
      const events = yield* zk.addWatch(p)
      const stream = yield* Effect.fork(Stream.runCollect(events))
      const session = yield* zk.session

      // Cut the client off; its next attempt is held by the proxy, so requests queue up.
      px.setMode("hold")
      px.cut()
      yield* eventually(Effect.map(zk.state, (s) => s === "Disconnected"), 5000, "Disconnected")
      const pending = yield* Effect.fork(zk.getData(p))
      yield* Effect.sleep(50)

      // Another client attaches to the same session and closes it.
      const twin = yield* Scope.make()
      const other = yield* ZooKeeper.make({ connectString: server.connectString(), session: session }).pipe(Scope.extend(twin))
      assert.strictEqual((yield* other.session).sessionId, session.sessionId)
      yield* Scope.close(twin, Exit.void)

      px.setMode("forward")
      const e = yield* failure(Fiber.join(pending))
      assert.isTrue(e._tag === "SessionExpired" && e.reason === "Expired" && e.sessionId === session.sessionId)
      assert.strictEqual(yield* zk.state, "Expired")
      const later = yield* failure(zk.exists("/"))
      assert.strictEqual(later._tag, "SessionExpired")
      const w = yield* failure(watch)
      assert.strictEqual(w._tag, "SessionExpired")
      const s = yield* failure(Fiber.join(stream))
      assert.strictEqual(s._tag, "SessionExpired")

      // Re-attaching to a dead session fails the same way.
      const again = yield* failure(ZooKeeper.make({ connectString: server.connectString(), session }).pipe(Effect.scoped))
      assert.strictEqual(again._tag, "SessionExpired")
    }))

  it.scopedLive("a session that times out while partitioned expires; its ephemerals go; an idle client's pings keep its own", () =>
    Effect.gen(function*() {
      const px = yield* proxy
      const p = freshPath("timeout")
      // The idle client's last request comes first, so without working pings it would expire no later than zk.
      const idle = yield* connect({ sessionTimeoutMs: 4000 })
      const idleSession = (yield* idle.session).sessionId
      yield* idle.create(`${p}-idle`, "", { mode: CreateMode.EPHEMERAL })
      // Without pings it would also drop its link after 2/3 of the timeout and reconnect: it must not.
      const idleStates = yield* Effect.fork(Stream.runCollect(Stream.take(idle.states, 2)))
      const zk = yield* client(px.connectString, { sessionTimeoutMs: 4000 })
      const observer = yield* connect()
      yield* zk.create(p, "", { mode: CreateMode.EPHEMERAL })
      px.setMode("refuse")
      px.cut()
      // The server expires the session on a tick boundary after 4 s without contact.
      yield* eventually(Effect.map(observer.exists(p), Option.isNone), 12_000, "ephemeral removed by expiry")
      px.setMode("forward")
      yield* awaitState(zk, "Expired")
      const e = yield* failure(zk.getData("/"))
      assert.strictEqual(e._tag, "SessionExpired")
      assert.isTrue(Option.isNone(yield* Fiber.poll(idleStates)), "the idle client lost its link")
      assert.strictEqual(yield* idle.state, "Connected")
      assert.strictEqual((yield* idle.session).sessionId, idleSession)
      assert.isTrue(Option.isSome(yield* observer.exists(`${p}-idle`)), "the idle client's ephemeral went with an expired session")
    }), 30_000)

  it.scopedLive("a restarted server still knows the session", () =>
    Effect.gen(function*() {
      const zk = yield* connect({ sessionTimeoutMs: 20_000, reconnectDelayMs: 200 })
      const p = freshPath("restart")
      yield* zk.create(p, "", { mode: CreateMode.EPHEMERAL })
      const { sessionId } = yield* zk.session
      yield* Effect.promise(() => server.restart())
      yield* awaitState(zk, "Connected", 20_000)
      assert.strictEqual((yield* zk.session).sessionId, sessionId)
      assert.isTrue(Option.isSome(yield* zk.exists(p)))
    }), 60_000)
})
