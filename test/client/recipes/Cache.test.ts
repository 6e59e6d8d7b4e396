/**
 * Node, children and tree caches against ezk and Apache ZooKeeper, standalone and 3-peer
 * ensembles: the initial read, live updates, and no gap across a reconnect (writes made while the
 * client was cut off show up).
 */
import { assert, it } from "@effect/vitest"
import { Effect, Option, Stream, SubscriptionRef } from "effect"
import { Cache } from "../../../src/client/recipes/index.js"
import { describeTargets } from "../../support/targets.js"
import { client, freshPath, targetClients, text } from "../helpers.js"

/** Waits (bounded) until the mirror's view satisfies `ok`. */
const until = <A>(mirror: Cache.Mirror<A>, ok: (a: A) => boolean) =>
  mirror.changes.pipe(
    Stream.filter(ok),
    Stream.runHead,
    Effect.timeoutFail({ duration: 15_000, onTimeout: () => new Error("cache did not converge") }),
    Effect.orDie,
    Effect.map(Option.getOrThrow)
  )

const view = (tree: Cache.Tree): Record<string, string | null> =>
  Object.fromEntries([...tree].sort(([a], [b]) => (a < b ? -1 : 1)).map(([p, n]) => [p, text(n.data)]))

describeTargets("cache recipes", (target) => {
  const { connect, proxy } = targetClients(target)

  it.scopedLive("tree cache: initial read, then creates, updates and deletes at any depth", () =>
    Effect.gen(function*() {
      const zk = yield* connect()
      const p = freshPath("tree")
      yield* zk.create(p, "root")
      yield* zk.create(`${p}/a`, "1")
      yield* zk.create(`${p}/a/b`, "2")
      const mirror = yield* Cache.tree(zk, p)
      assert.deepStrictEqual(view(yield* SubscriptionRef.get(mirror.current)), { [p]: "root", [`${p}/a`]: "1", [`${p}/a/b`]: "2" })
      yield* zk.create(`${p}/a/b/c`, "3")
      yield* zk.setData(`${p}/a`, "1'")
      yield* zk.delete(`${p}/a/b/c`)
      yield* zk.create(`${p}/d`, "4")
      const last = yield* until(mirror, (t) => t.has(`${p}/d`))
      assert.deepStrictEqual(view(last), { [p]: "root", [`${p}/a`]: "1'", [`${p}/a/b`]: "2", [`${p}/d`]: "4" })
    }))

  it.scopedLive("node cache and children cache follow their node", () =>
    Effect.gen(function*() {
      const zk = yield* connect()
      const p = freshPath("node")
      const node = yield* Cache.node(zk, p)
      assert.isTrue(Option.isNone(yield* SubscriptionRef.get(node.current)))
      yield* zk.create(p, "v1")
      const created = yield* until(node, Option.isSome)
      assert.strictEqual(text(Option.getOrThrow(created).data), "v1")
      const kids = yield* Cache.children(zk, p)
      yield* zk.create(`${p}/x`, "x1")
      yield* zk.create(`${p}/x/deep`, "ignored")
      yield* zk.setData(`${p}/x`, "x2")
      const seen = yield* until(kids, (m) => text(m.get("x")?.data ?? null) === "x2")
      assert.deepStrictEqual([...seen.keys()], ["x"])
      yield* zk.setData(p, "v2")
      yield* until(node, (n) => Option.isSome(n) && text(n.value.data) === "v2")
      yield* zk.delete(`${p}/x/deep`)
      yield* zk.delete(`${p}/x`)
      yield* zk.delete(p)
      yield* until(node, Option.isNone)
      yield* until(kids, (m) => m.size === 0)
    }))

  it.scopedLive("no gap across a reconnect: changes made while the client was cut off reach the cache", () =>
    Effect.gen(function*() {
      const px = yield* proxy
      const zk = yield* client(px.connectString)
      const writer = yield* connect()
      const p = freshPath("gap")
      yield* writer.create(p, "v1")
      yield* writer.create(`${p}/gone`)
      // On an ensemble the cached client may be on another peer: it syncs to start from the writer's view.
      yield* zk.sync(p)
      const mirror = yield* Cache.tree(zk, p)
      // Cut the client off (reconnects held), change the tree, let it back in.
      px.setMode("hold")
      px.cut()
      yield* writer.setData(p, "v2")
      yield* writer.delete(`${p}/gone`)
      yield* writer.create(`${p}/new`, "n")
      px.setMode("forward")
      const after = yield* until(mirror, (t) => t.has(`${p}/new`) && !t.has(`${p}/gone`) && text(t.get(p)?.data ?? null) === "v2")
      assert.deepStrictEqual(view(after), { [p]: "v2", [`${p}/new`]: "n" })
      // And it keeps following after the reconnect.
      yield* writer.setData(`${p}/new`, "n2")
      yield* until(mirror, (t) => text(t.get(`${p}/new`)?.data ?? null) === "n2")
    }))
}, { ensembles: true })
