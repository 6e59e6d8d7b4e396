/**
 * One-shot watches (Effects that complete with the event) and persistent watches (Streams),
 * checkWatches / removeWatches.
 */
import { assert, it } from "@effect/vitest"
import { Chunk, Effect, Exit, Fiber, Option, Scope, Stream } from "effect"
import { CreateMode, ZooKeeper } from "../../src/client/index.js"
import { describeServers } from "./servers.js"
import { client, failure, freshPath, staysPending, text } from "./helpers.js"

describeServers("ZooKeeper client watches", (server) => {
  const connect = (options: Partial<ZooKeeper.Options> = {}) => client(server.connectString(), options)

  it.scopedLive("getDataWatch fires NodeDataChanged once, then NodeDeleted on a new watch", () =>
    Effect.gen(function*() {
      const zk = yield* connect()
      const writer = yield* connect()
      const p = freshPath("datawatch")
      yield* zk.create(p, "a")
      const first = yield* zk.getDataWatch(p)
      assert.strictEqual(text(first.data), "a")
      yield* writer.setData(p, "b")
      assert.deepStrictEqual(yield* first.watch, { type: "NodeDataChanged", path: p })
      // One-shot: awaiting again gives the same event; no new event arrives for later writes.
      assert.deepStrictEqual(yield* first.watch, { type: "NodeDataChanged", path: p })

      const second = yield* zk.getDataWatch(p)
      assert.strictEqual(text(second.data), "b")
      yield* writer.delete(p)
      assert.deepStrictEqual(yield* second.watch, { type: "NodeDeleted", path: p })
    }))

  it.scopedLive("existsWatch: NodeCreated for a missing node, NodeDataChanged for an existing one", () =>
    Effect.gen(function*() {
      const zk = yield* connect()
      const writer = yield* connect()
      const p = freshPath("existswatch")
      const missing = yield* zk.existsWatch(p)
      assert.isTrue(Option.isNone(missing.stat))
      yield* writer.create(p, "x")
      assert.deepStrictEqual(yield* missing.watch, { type: "NodeCreated", path: p })

      const present = yield* zk.existsWatch(p)
      assert.isTrue(Option.isSome(present.stat))
      yield* writer.setData(p, "y")
      assert.deepStrictEqual(yield* present.watch, { type: "NodeDataChanged", path: p })
    }))

  it.scopedLive("child watches: NodeChildrenChanged, and NodeDeleted when the node goes", () =>
    Effect.gen(function*() {
      const zk = yield* connect()
      const writer = yield* connect()
      const p = freshPath("childwatch")
      yield* zk.create(p)
      const w1 = yield* zk.getChildrenWatch(p)
      assert.deepStrictEqual(w1.children, [])
      // A data change does not fire a child watch.
      yield* writer.setData(p, "data")
      assert.isTrue(yield* staysPending(w1.watch, 300))
      yield* writer.create(`${p}/kid`)
      assert.deepStrictEqual(yield* w1.watch, { type: "NodeChildrenChanged", path: p })

      const w2 = yield* zk.getChildren2Watch(p)
      assert.deepStrictEqual(w2.children, ["kid"])
      assert.strictEqual(w2.stat.numChildren, 1)
      yield* writer.delete(`${p}/kid`)
      assert.deepStrictEqual(yield* w2.watch, { type: "NodeChildrenChanged", path: p })

      const w3 = yield* zk.getChildrenWatch(p)
      yield* writer.delete(p)
      assert.deepStrictEqual(yield* w3.watch, { type: "NodeDeleted", path: p })
    }))

  it.scopedLive("several watchers on one path all get the event", () =>
    Effect.gen(function*() {
      const zk = yield* connect()
      const writer = yield* connect()
      const p = freshPath("multiwatch")
      yield* zk.create(p)
      const a = yield* zk.getDataWatch(p)
      const b = yield* zk.existsWatch(p)
      const c = yield* zk.getChildrenWatch(p)
      yield* writer.setData(p, "x")
      assert.strictEqual((yield* a.watch).type, "NodeDataChanged")
      assert.strictEqual((yield* b.watch).type, "NodeDataChanged")
      assert.isTrue(yield* staysPending(c.watch, 200))
    }))

  it.scopedLive("persistent watch: a Stream of data, child and delete events", () =>
    Effect.gen(function*() {
      const zk = yield* connect()
      const writer = yield* connect()
      const p = freshPath("persistent")
      yield* zk.create(p)
      const events = yield* zk.addWatch(p, "Persistent")
      yield* writer.setData(p, "1")
      yield* writer.setData(p, "2")
      yield* writer.create(`${p}/c`)
      yield* writer.create(`${p}/c/grandchild`) // not seen: not recursive
      yield* writer.delete(`${p}/c/grandchild`)
      yield* writer.delete(`${p}/c`)
      yield* writer.delete(p)
      yield* writer.create(p)
      const got = yield* events.pipe(Stream.take(6), Stream.runCollect)
      assert.deepStrictEqual(Chunk.toArray(got).map((e) => `${e.type} ${e.path}`), [
        `NodeDataChanged ${p}`,
        `NodeDataChanged ${p}`,
        `NodeChildrenChanged ${p}`,
        `NodeChildrenChanged ${p}`,
        `NodeDeleted ${p}`,
        `NodeCreated ${p}`
      ])
    }))

  it.scopedLive("persistent recursive watch: every descendant, never NodeChildrenChanged", () =>
    Effect.gen(function*() {
      const zk = yield* connect()
      const writer = yield* connect()
      const p = freshPath("recursive")
      yield* zk.create(p)
      const events = yield* zk.addWatch(p, "PersistentRecursive")
      yield* writer.create(`${p}/a`)
      yield* writer.create(`${p}/a/b`, "", { mode: CreateMode.EPHEMERAL })
      yield* writer.setData(`${p}/a/b`, "x")
      yield* writer.delete(`${p}/a/b`)
      yield* writer.setData(p, "root")
      const got = yield* events.pipe(Stream.take(5), Stream.runCollect)
      assert.deepStrictEqual(Chunk.toArray(got).map((e) => `${e.type} ${e.path}`), [
        `NodeCreated ${p}/a`,
        `NodeCreated ${p}/a/b`,
        `NodeDataChanged ${p}/a/b`,
        `NodeDeleted ${p}/a/b`,
        `NodeDataChanged ${p}`
      ])
    }))

  it.scopedLive("closing the watch's scope ends the stream and removes the server watch", () =>
    Effect.gen(function*() {
      const zk = yield* connect()
      const writer = yield* connect()
      const p = freshPath("unwatch")
      yield* zk.create(p)
      const scope = yield* Scope.make()
      const events = yield* zk.addWatch(p, "Persistent").pipe(Scope.extend(scope))
      const collector = yield* Effect.fork(Stream.runCollect(events))
      yield* zk.checkWatches(p, "Any")
      yield* writer.setData(p, "1")
      yield* zk.sync(p)
      yield* Effect.sleep(100)
      yield* Scope.close(scope, Exit.void)
      const got = yield* Fiber.join(collector)
      assert.deepStrictEqual(Chunk.toArray(got).map((e) => e.type), ["NodeDataChanged"])
      // The removeWatches went out behind us; once it is answered the server has no watch.
      yield* zk.sync(p)
      const e = yield* failure(zk.checkWatches(p, "Any"))
      assert.isTrue(e._tag === "KeeperError" && e.code === "NoWatcher")
    }))

  it.scopedLive("a subscriber that falls behind its buffer fails with WatchOverflow", () =>
    Effect.gen(function*() {
      const zk = yield* connect({ watchBufferSize: 2 })
      const p = freshPath("overflow")
      yield* zk.create(p)
      const events = yield* zk.addWatch(p)
      for (let i = 0; i < 4; i++) yield* zk.setData(p, String(i))
      const seen: Array<string> = []
      const e = yield* failure(Stream.runForEach(events, (ev) => Effect.sync(() => seen.push(ev.type))))
      assert.deepStrictEqual(seen, ["NodeDataChanged", "NodeDataChanged"])
      assert.isTrue(e._tag === "WatchOverflow" && e.capacity === 2 && e.path === p)
      // The server-side watch went with the last subscriber.
      yield* zk.sync(p)
      const none = yield* failure(zk.checkWatches(p, "Any"))
      assert.isTrue(none._tag === "KeeperError" && none.code === "NoWatcher")
    }))

  it.scopedLive("checkWatches and removeWatches", () =>
    Effect.gen(function*() {
      const zk = yield* connect()
      const writer = yield* connect()
      const p = freshPath("removewatch")
      yield* zk.create(p)
      const none = yield* failure(zk.checkWatches(p, "Data"))
      assert.isTrue(none._tag === "KeeperError" && none.code === "NoWatcher" && none.path === p)

      const data = yield* zk.getDataWatch(p)
      const children = yield* zk.getChildrenWatch(p)
      yield* zk.checkWatches(p, "Data")
      yield* zk.checkWatches(p, "Children")
      yield* zk.checkWatches(p, "Any")

      yield* zk.removeWatches(p, "Data")
      assert.deepStrictEqual(yield* data.watch, { type: "DataWatchRemoved", path: p })
      const gone = yield* failure(zk.checkWatches(p, "Data"))
      assert.isTrue(gone._tag === "KeeperError" && gone.code === "NoWatcher")
      yield* zk.checkWatches(p, "Children")

      yield* zk.removeWatches(p, "Any")
      assert.deepStrictEqual(yield* children.watch, { type: "ChildWatchRemoved", path: p })
      yield* writer.create(`${p}/x`)
      const again = yield* failure(zk.removeWatches(p, "Children"))
      assert.isTrue(again._tag === "KeeperError" && again.code === "NoWatcher")

      // removeWatches Any also ends persistent streams.
      const events = yield* zk.addWatch(p, "PersistentRecursive")
      yield* zk.removeWatches(p, "Any")
      const rest = yield* Stream.runCollect(events)
      assert.deepStrictEqual(Chunk.toArray(rest), [{ type: "PersistentWatchRemoved", path: p }])
    }))

  it.scopedLive("a watch event is delivered before the reply of the write that caused it", () =>
    Effect.gen(function*() {
      const zk = yield* connect()
      const p = freshPath("order")
      yield* zk.create(p)
      for (let i = 0; i < 20; i++) {
        const { watch } = yield* zk.getDataWatch(p)
        yield* zk.setData(p, String(i))
        // Already complete when the setData reply arrives (client.md §4.1), so no waiting here.
        const event = yield* Effect.timeout(watch, 1)
        assert.strictEqual(event.type, "NodeDataChanged")
      }
    }))

  it.scopedLive("watches of a closed client fail with SessionExpired (Closed); streams end", () =>
    Effect.gen(function*() {
      const p = freshPath("closedwatch")
      const scope = yield* Scope.make()
      const zk = yield* connect().pipe(Scope.extend(scope))
      yield* zk.create(p)
      const { watch } = yield* zk.getDataWatch(p)
      const events = yield* zk.addWatch(p).pipe(Scope.extend(scope))
      const collector = yield* Effect.fork(Stream.runCollect(events))
      yield* Scope.close(scope, Exit.void)
      const e = yield* failure(watch)
      assert.isTrue(e._tag === "SessionExpired" && e.reason === "Closed")
      assert.strictEqual(Chunk.size(yield* Fiber.join(collector)), 0)
    }))
})
