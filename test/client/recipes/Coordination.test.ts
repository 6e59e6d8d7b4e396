/**
 * Barriers, queues, counters and group membership against ezk and Apache ZooKeeper, standalone
 * and 3-peer ensembles, including the ConnectionLoss cases each resolves (exactly-once takes, no
 * double increments). On an ensemble another session may sit on a follower that has not applied a
 * write yet, so a session that must see another's writes syncs first, as ZooKeeper prescribes.
 */
import { assert, it } from "@effect/vitest"
import { Chunk, Deferred, Effect, Exit, Fiber, Option, Schema, Scope, Stream } from "effect"
import { type ZooKeeper, ZooKeeperError } from "../../../src/client/index.js"
import { Barrier, Counter, Group, Queue } from "../../../src/client/recipes/index.js"
import { describeTargets } from "../../support/targets.js"
import { eventually, freshPath, staysPending, targetClients, text } from "../helpers.js"

/** A client whose first multi / setData is applied but answered with ConnectionLoss. */
const losingFirstReply = (zk: ZooKeeper.Client): ZooKeeper.Client => {
  let lost = false
  const lose = <A, E>(self: Effect.Effect<A, E>): Effect.Effect<A, E | ZooKeeperError.ConnectionLoss> =>
    Effect.flatMap(self, (a) => {
      if (lost) return Effect.succeed(a)
      lost = true
      return Effect.fail(new ZooKeeperError.ConnectionLoss({ reason: "reply lost" }))
    })
  return { ...zk, multi: (ops) => lose(zk.multi(ops)), setData: (p, d, v) => lose(zk.setData(p, d, v)) }
}

describeTargets("coordination recipes", (target) => {
  const { connect } = targetClients(target)

  it.scopedLive("barrier: wait blocks while set and returns once removed", () =>
    Effect.gen(function*() {
      const p = `${freshPath("barrier")}/gate`
      const b = Barrier.make(yield* connect(), p)
      yield* b.set
      yield* b.set
      const other = yield* connect()
      yield* other.sync(p)
      const waiter = yield* Effect.fork(Barrier.make(other, p).wait)
      assert.isTrue(yield* staysPending(Fiber.join(waiter), 200))
      yield* b.remove
      yield* Fiber.join(waiter)
      yield* b.wait
    }))

  it.scopedLive("double barrier: nobody passes enter before all arrive, nobody passes leave before all leave", () =>
    Effect.gen(function*() {
      const p = freshPath("double")
      const [z1, z2, z3] = yield* Effect.all([connect(), connect(), connect()])
      const d1 = Barrier.double(z1, p, 3, "a")
      const d2 = Barrier.double(z2, p, 3, "b")
      const d3 = Barrier.double(z3, p, 3, "c")
      const e1 = yield* Effect.fork(d1.enter)
      const e2 = yield* Effect.fork(d2.enter)
      assert.isTrue(yield* staysPending(Fiber.join(e1), 200))
      yield* d3.enter
      yield* Fiber.join(e1)
      yield* Fiber.join(e2)
      const l1 = yield* Effect.fork(d1.leave)
      const l2 = yield* Effect.fork(d2.leave)
      assert.isTrue(yield* staysPending(Fiber.join(l1), 200))
      yield* d3.leave
      yield* Fiber.join(l1)
      yield* Fiber.join(l2)
    }))

  it.scopedLive("queue: FIFO within a priority, lower priority first, take waits for an item", () =>
    Effect.gen(function*() {
      const p = freshPath("queue")
      const q = Queue.make(yield* connect(), p)
      yield* q.offer("late", 5)
      yield* q.offer("a")
      yield* q.offer("b")
      yield* q.offer("c", 0)
      assert.strictEqual(yield* q.size, 4)
      const got: Array<string | null> = []
      for (let i = 0; i < 4; i++) got.push(text((yield* q.take).data))
      assert.deepStrictEqual(got, ["a", "b", "c", "late"])
      assert.isTrue(Option.isNone(yield* q.poll))
      const waiting = yield* Effect.fork(Queue.make(yield* connect(), p).take)
      assert.isTrue(yield* staysPending(Fiber.join(waiting), 200))
      yield* q.offer("x", 7)
      const item = yield* Fiber.join(waiting)
      assert.strictEqual(text(item.data), "x")
      assert.strictEqual(item.priority, 7)
    }))

  it.scopedLive("queue: concurrent consumers take every item exactly once; a lost take reply is resolved by its claim", () =>
    Effect.gen(function*() {
      const p = freshPath("consumers")
      const producer = Queue.make(yield* connect(), p)
      for (let i = 0; i < 12; i++) yield* producer.offer(`item-${i}`)
      const consumers = yield* Effect.all(Array.from({ length: 3 }, () => connect()))
      const taken: Array<string> = []
      yield* Effect.all(
        consumers.map((zk, i) =>
          Effect.gen(function*() {
            yield* zk.sync(p)
            const q = Queue.make(i === 0 ? losingFirstReply(zk) : zk, p)
            for (;;) {
              const item = yield* q.poll
              if (Option.isNone(item)) return
              taken.push(text(item.value.data)!)
            }
          })
        ),
        { concurrency: "unbounded" }
      )
      assert.deepStrictEqual([...taken].sort(), Array.from({ length: 12 }, (_, i) => `item-${i}`).sort())
      const zk = yield* connect()
      yield* eventually(Effect.map(zk.getChildren(p), (c) => c.length === 0), 5000, "no claims left")
    }))

  it.scopedLive("counter: concurrent adds all count; a lost CAS reply is not applied twice", () =>
    Effect.gen(function*() {
      const p = `${freshPath("counter")}/hits`
      const clients = yield* Effect.all(Array.from({ length: 3 }, () => connect()))
      yield* Effect.all(
        clients.map((zk, i) =>
          Effect.gen(function*() {
            const c = Counter.make(i === 0 ? losingFirstReply(zk) : zk, p)
            for (let k = 0; k < 5; k++) yield* c.add(1)
          })
        ),
        { concurrency: "unbounded" }
      )
      yield* clients[0]!.sync(p)
      const counter = Counter.make(clients[0]!, p)
      const now = yield* counter.get
      assert.strictEqual(now.value, 15)
      assert.isNull(yield* counter.compareAndSet(now.version - 1, 100))
      const set = yield* counter.compareAndSet(now.version, 100)
      assert.isTrue(set !== null && set.value === 100 && set.token > now.token)
    }))

  it.scopedLive("group: members live as long as their Scope; watch sees joins and leaves", () =>
    Effect.gen(function*() {
      const p = freshPath("group")
      const zk = yield* connect()
      const other = yield* connect()
      const changes = yield* Group.watch(zk, p)
      const seen = yield* Effect.fork(
        changes.pipe(Stream.map((m) => [...m.keys()].sort().join(",")), Stream.changes, Stream.take(4), Stream.runCollect)
      )
      const scope = yield* Scope.make()
      yield* Group.join(other, p, "worker-1", "host-1").pipe(Scope.extend(scope))
      yield* Group.join(zk, p, "worker-2", "host-2")
      yield* zk.sync(p)
      const members = yield* Group.members(zk, p)
      assert.deepStrictEqual([...members.keys()].sort(), ["worker-1", "worker-2"])
      assert.strictEqual(text(members.get("worker-1")!), "host-1")
      yield* Scope.close(scope, Exit.void)
      assert.deepStrictEqual(Chunk.toArray(yield* Fiber.join(seen)), ["", "worker-1", "worker-1,worker-2", "worker-2"])
    }))

  it.scopedLive("service discovery: typed instances register, are looked up and watched", () =>
    Effect.gen(function*() {
      const base = freshPath("services")
      const Endpoint = Schema.Struct({ host: Schema.String, port: Schema.Int })
      const zk = yield* connect()
      const sd = Group.discovery(zk, base, Endpoint)
      const watched = yield* sd.watch("api")
      const ready = yield* Deferred.make<void>()
      const seen = yield* Effect.fork(
        watched.pipe(Stream.filter((xs) => xs.length === 2), Stream.runHead, Effect.zipLeft(Deferred.succeed(ready, undefined)))
      )
      yield* sd.register("api", "i1", { host: "10.0.0.1", port: 80 })
      yield* Group.discovery(yield* connect(), base, Endpoint).register("api", "i2", { host: "10.0.0.2", port: 81 })
      // A member whose data does not decode is left out, not fatal.
      yield* Group.join(zk, `${base}/api`, "broken", "{")
      yield* zk.sync(`${base}/api`)
      const found = yield* sd.lookup("api")
      assert.deepStrictEqual(found, [{ id: "i1", payload: { host: "10.0.0.1", port: 80 } }, { id: "i2", payload: { host: "10.0.0.2", port: 81 } }])
      const first = yield* Fiber.join(seen)
      assert.isTrue(Option.isSome(first))
      assert.deepStrictEqual(yield* sd.lookup("none"), [])
    }))
}, { ensembles: true })
