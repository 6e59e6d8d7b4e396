/**
 * The client foundations recipes stand on: connection states, loss signals, protected creates
 * after an indeterminate ConnectionLoss, Schema-typed data and the typed multi builder. Same
 * expectations against ezk and Apache ZooKeeper.
 */
import { assert } from "@effect/vitest"
import { Chunk, Effect, Fiber, Option, Schema, Stream, SubscriptionRef } from "effect"
import { CreateMode, Retry, Session, Transaction, Typed, type ZooKeeper, ZooKeeperError } from "../../src/client/index.js"
import { describeServersAndEnsemble } from "./servers.js"
import { client, eventually, failure, freshPath } from "./helpers.js"

describeServersAndEnsemble("client foundations", (server) => {
  const connect = (options: Partial<ZooKeeper.Options> = {}) => client(server.connectString(), options)

  server.it("connection states: Connected, Suspended on a lost link, Reconnected with the same session", () =>
    Effect.gen(function*() {
      const zk = yield* connect()
      const ref = yield* Session.connectionState(zk)
      assert.strictEqual(yield* SubscriptionRef.get(ref), "Connected")
      const seen = yield* Effect.fork(Stream.runCollect(Stream.take(Session.connectionStates(zk), 3)))
      yield* Effect.sleep(20)
      yield* zk.dropConnection
      assert.deepStrictEqual(Chunk.toArray(yield* Fiber.join(seen)), ["Connected", "Suspended", "Reconnected"])
      yield* eventually(Effect.map(SubscriptionRef.get(ref), (s) => s === "Reconnected"), 5000, "ref Reconnected")
    }))

  server.it("guard interrupts its body when the connection is suspended (loseOn suspended) but not with loseOn expired", () =>
    Effect.gen(function*() {
      const zk = yield* connect()
      let interrupted = false
      const strict = yield* Effect.fork(
        Session.guard(zk, "/held")(Effect.never.pipe(Effect.onInterrupt(() => Effect.sync(() => { interrupted = true }))))
      )
      const lax = yield* Effect.fork(Session.guard(zk, "/held", "expired")(Effect.never))
      yield* Effect.sleep(50)
      yield* zk.dropConnection
      const e = yield* failure(Fiber.join(strict))
      assert.isTrue(e._tag === "LeaseLost" && e.reason === "Suspended" && e.path === "/held")
      assert.isTrue(interrupted)
      yield* eventually(Effect.map(zk.state, (s) => s === "Connected"), 5000, "reconnected")
      assert.isTrue(Option.isNone(yield* Fiber.poll(lax)))
      yield* Fiber.interrupt(lax)
    }))

  server.it("protectedCreate: a create applied before a ConnectionLoss is found, not repeated", () =>
    Effect.gen(function*() {
      const zk = yield* connect()
      const p = freshPath("protected")
      yield* zk.create(p)
      // The create reaches the server, then the caller sees ConnectionLoss: the indeterminate case.
      let losses = 0
      const flaky: ZooKeeper.Client = {
        ...zk,
        createWithStat: (path, data, options) =>
          Effect.flatMap(zk.createWithStat(path, data, options), (created) =>
            losses++ === 0 ? Effect.fail(new ZooKeeperError.ConnectionLoss({ reason: "reply lost" })) : Effect.succeed(created))
      }
      const created = yield* Retry.protectedCreate(flaky, `${p}/job-`, "x", { mode: CreateMode.PERSISTENT_SEQUENTIAL })
      const children = yield* zk.getChildren(p)
      assert.deepStrictEqual(children, [created.path.slice(p.length + 1)])
      assert.match(children[0]!, /^_c_[0-9a-f]{32}-job-\d{10}$/)
      assert.strictEqual(Retry.unprotected(children[0]!).slice(0, 4), "job-")
      assert.strictEqual(losses, 1)
    }))

  server.it("onConnectionLoss retries ConnectionLoss only", () =>
    Effect.gen(function*() {
      let calls = 0
      const flaky = Effect.suspend(() =>
        ++calls < 3 ? Effect.fail(new ZooKeeperError.ConnectionLoss({ reason: "x" })) : Effect.succeed(calls)
      )
      assert.strictEqual(yield* Retry.onConnectionLoss(flaky), 3)
      calls = 0
      const noNode = Effect.suspend(() => {
        calls++
        return Effect.fail(new ZooKeeperError.KeeperError({ code: "NoNode", path: "/x" }))
      })
      yield* failure(Retry.onConnectionLoss(noNode))
      assert.strictEqual(calls, 1)
    }))

  server.it("Typed data: values round-trip through a Schema; bad bytes are a DataDecodeError", () =>
    Effect.gen(function*() {
      const zk = yield* connect()
      const Config = Schema.Struct({ replicas: Schema.Int, name: Schema.String })
      const p = freshPath("typed")
      yield* Typed.create(zk, p, { replicas: 3, name: "a" }, Config)
      const first = yield* Typed.getData(zk, p, Config)
      assert.deepStrictEqual(first.value, { replicas: 3, name: "a" })
      const stat = yield* Typed.setData(zk, p, { replicas: 5, name: "b" }, Config, first.stat.version)
      assert.strictEqual(stat.version, first.stat.version + 1)
      assert.deepStrictEqual((yield* Typed.getData(zk, p, Config)).value, { replicas: 5, name: "b" })

      yield* zk.setData(p, "not json")
      const bad = yield* failure(Typed.getData(zk, p, Config))
      assert.isTrue(bad._tag === "DataDecodeError" && bad.path === p)
      yield* zk.setData(p, JSON.stringify({ replicas: 1.5, name: "c" }))
      assert.strictEqual((yield* failure(Typed.getData(zk, p, Config)))._tag, "DataDecodeError")
      yield* zk.setData(p, null)
      assert.strictEqual((yield* failure(Typed.getData(zk, p, Config)))._tag, "DataDecodeError")
      const enc = yield* failure(Typed.setData(zk, p, { replicas: 0.5, name: "d" }, Config))
      assert.strictEqual(enc._tag, "DataEncodeError")
    }))

  server.it("Transaction: results line up with the ops; a failing op is named", () =>
    Effect.gen(function*() {
      const zk = yield* connect()
      const p = freshPath("tx")
      yield* zk.create(p, "v0")
      const [created, checked, updated, removed] = yield* Transaction.make()
        .create(`${p}/job-`, "j", { mode: CreateMode.PERSISTENT_SEQUENTIAL })
        .check(p, 0)
        .setData(p, "v1")
        .delete(`${p}/job-0000000000`)
        .commit(zk)
      assert.strictEqual(created.path, `${p}/job-0000000000`)
      assert.strictEqual(checked._tag, "Check")
      assert.strictEqual(updated.stat.version, 1)
      assert.strictEqual(removed._tag, "Delete")
      const e = yield* failure(Transaction.make().setData(p, "v2").check(p, 0).commit(zk))
      assert.isTrue(e._tag === "MultiError" && e.index === 1 && e.code === "BadVersion")
    }))
})
