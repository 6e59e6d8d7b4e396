/**
 * The Promise facade (`ezk/promise`) against ezk and Apache ZooKeeper: operations, typed
 * rejections, watch callbacks and events, AbortSignal, connection state events, recipes.
 */
import { assert, it } from "@effect/vitest"
import { Effect } from "effect"
import { type Client, connect, CreateMode } from "../../src/client/promise/index.js"
import { describeServers } from "./servers.js"
import { freshPath, serverClients, text } from "./helpers.js"
import { startProxy } from "./proxy.js"

const once = <A>(emitter: { once: (name: string, f: (a: A) => void) => unknown }, name: string): Promise<A> =>
  new Promise((resolve) => emitter.once(name, resolve))

describeServers("promise facade", (server) => {
  const withClient = async <A>(f: (zk: Client) => Promise<A>): Promise<A> => {
    const zk = await connect({ connectString: server.connectString(), reconnectDelayMs: 200 })
    try {
      return await f(zk)
    } finally {
      await zk.close()
    }
  }

  it("operations, typed rejections and one-shot watch callbacks", () =>
    withClient(async (zk) => {
      const p = freshPath("promise")
      assert.strictEqual(await zk.create(p, "v1"), p)
      const seq = await zk.create(`${p}/s-`, "", { mode: CreateMode.PERSISTENT_SEQUENTIAL })
      assert.strictEqual(seq, `${p}/s-0000000000`)
      const changed = new Promise((resolve) => zk.getData(p, { watcher: resolve }))
      await zk.setData(p, "v2")
      assert.deepStrictEqual(await changed, { type: "NodeDataChanged", path: p })
      assert.strictEqual(text((await zk.getData(p)).data), "v2")
      assert.deepStrictEqual(await zk.getChildren(p), ["s-0000000000"])
      assert.isNull(await zk.exists(`${p}/missing`))
      const error = await zk.getData(`${p}/missing`).catch((e) => e)
      assert.strictEqual(error._tag, "KeeperError")
      assert.strictEqual(error.code, "NoNode")
      assert.instanceOf(error, Error)
      await zk.mkdirp(`${p}/a/b/c`)
      assert.isNotNull(await zk.exists(`${p}/a/b/c`))
    }))

  it("AbortSignal cancels a waiting call; persistent watches are EventEmitters", () =>
    withClient(async (zk) => {
      const p = freshPath("abort")
      await zk.recipes.barrier(p).set()
      const controller = new AbortController()
      const waiting = zk.recipes.barrier(p).wait({ signal: controller.signal }).catch((e) => e)
      setTimeout(() => controller.abort(), 50)
      assert.strictEqual((await waiting).name, "AbortError")

      const watch = await zk.addWatch(p, "PersistentRecursive")
      const event = once(watch, "event")
      await zk.create(`${p}/child`)
      assert.deepStrictEqual(await event, { type: "NodeCreated", path: `${p}/child` })
      await watch.close()
    }))

  it("state events, and a lock holder's signal aborts when the connection is lost", () =>
    withClient(async (zk) => {
      const p = freshPath("lock")
      const states: Array<string> = []
      zk.on("state", (s: string) => states.push(s))
      let aborted = false
      const held = zk.recipes.mutex(p).withLock((lease, signal) =>
        new Promise((_, reject) => {
          assert.isAbove(lease.token, 0)
          signal.addEventListener("abort", () => {
            aborted = true
            reject(new Error("aborted"))
          })
          void Effect.runPromise(zk.effect.dropConnection)
        })
      ).catch((e) => e)
      const reconnected = once(zk, "reconnected")
      const error = (await held) as { readonly _tag?: string }
      assert.strictEqual(error._tag, "LeaseLost")
      assert.isTrue(aborted)
      await reconnected
      assert.includeMembers(states, ["Suspended", "Reconnected"])
      // The lock was released: it can be taken again.
      assert.strictEqual(await zk.recipes.mutex(p).withLock(async () => "again"), "again")
    }))

  it("recipes: queue, counter, tree cache events", () =>
    withClient(async (zk) => {
      const p = freshPath("recipes")
      const q = zk.recipes.queue(`${p}/q`)
      await q.offer("job")
      assert.strictEqual(text((await q.take()).data), "job")
      const c = zk.recipes.counter(`${p}/n`)
      await c.add(2)
      assert.strictEqual((await c.add(3)).value, 5)
      const cache = await zk.recipes.treeCache(`${p}/q`)
      const change = once(cache, "change")
      await zk.create(`${p}/q/extra`, "e")
      await change
      assert.isTrue(cache.current().has(`${p}/q/extra`))
      await cache.close()
    }))

  it("updateServerList: stays while its server is listed, moves (same session) once it is not, rejects a bad string", async () => {
    const direct = server.connectString()
    const px = await startProxy(serverClients(server).target())
    const zk = await connect({ connectString: px.connectString, reconnectDelayMs: 200 })
    try {
      const { sessionId } = await zk.session()
      const states: Array<string> = []
      zk.on("state", (s: string) => states.push(s))
      await zk.updateServerList(`${direct},${px.connectString}`)
      await new Promise((r) => setTimeout(r, 300))
      assert.deepStrictEqual(states, [])
      assert.strictEqual(px.active(), 1)

      const reconnected = once(zk, "reconnected")
      await zk.updateServerList(direct)
      await Promise.race([reconnected, new Promise((_, reject) => setTimeout(() => reject(new Error("did not move off the proxy")), 10_000))])
      assert.strictEqual(px.active(), 0, "off the proxy")
      assert.strictEqual((await zk.session()).sessionId, sessionId)
      assert.isNotNull(await zk.exists("/"))

      const error = await zk.updateServerList("host:notaport").catch((e) => e)
      assert.strictEqual(error._tag, "KeeperError")
      assert.strictEqual(error.code, "BadArguments")
    } finally {
      await zk.close()
      await px.close()
    }
  })
})
