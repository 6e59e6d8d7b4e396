/**
 * Container and TTL nodes are removed by the server's periodic check (ZooKeeper's ContainerManager)
 * — checked every 500 ms here (ezk: `--set znode.container.checkIntervalMs=500`; ZooKeeper reads it
 * only as the JVM system property, zoo.cfg cannot set it), with extended types on (both helpers
 * enable them). A TTL counts from the node's last change. Removals are ordinary deletes: watchers
 * get NodeDeleted.
 */
import { assert, it } from "@effect/vitest"
import { CreateMode, Err, EventType, Op } from "../../src/wire/Codes.js"
import { describeTargets } from "../support/targets.js"
import { openAcl, rawSession, type RawSession, sleep, uniquePath, waitUntil } from "./support.js"

const CHECK_MS = 500
// Long enough that two checks pass well inside it, so "not before its TTL" is observed, not assumed.
const TTL_MS = 2000

const create = async (s: RawSession, path: string, mode: number = CreateMode.PERSISTENT, ttl = -1) => {
  const type = mode === CreateMode.CONTAINER ? Op.createContainer : ttl > 0 ? Op.createTTL : Op.create
  const r = await s.call({ type, path, data: new Uint8Array(0), acl: openAcl, flags: mode, ttl })
  assert.strictEqual(r.header.err, Err.Ok, `create ${path}`)
}
const exists = async (s: RawSession, path: string, watch = false) => {
  const r = await s.call({ type: Op.exists, path, watch })
  if (r.header.err !== Err.Ok && r.header.err !== Err.NoNode) throw new Error(`exists ${path}: err ${r.header.err}`)
  return r.header.err === Err.Ok
}
const remove = async (s: RawSession, path: string) => {
  const r = await s.call({ type: Op.delete, path, version: -1 })
  assert.strictEqual(r.header.err, Err.Ok, `delete ${path}`)
}

describeTargets(
  "containers and TTL nodes are reaped",
  (t) => {
    it("a container whose last child goes, and a childless TTL node past its TTL, disappear; the rest stays", async () => {
      const s = await rawSession(t.server().port)
      const toucher = await rawSession(t.server().port)
      let touching: Promise<void> | undefined
      let stopTouching = false
      try {
        const base = uniquePath("reap")
        await create(s, base)
        await create(s, `${base}/c`, CreateMode.CONTAINER)
        await create(s, `${base}/c/child`)
        await create(s, `${base}/never`, CreateMode.CONTAINER) // never had a child: kept (maxNeverUsedIntervalMs=0)
        const ttlCreated = Date.now()
        await create(s, `${base}/ttl`, CreateMode.PERSISTENT_WITH_TTL, TTL_MS)
        await create(s, `${base}/ttl-kid`, CreateMode.PERSISTENT_WITH_TTL, TTL_MS)
        await create(s, `${base}/ttl-kid/k`)
        await create(s, `${base}/plain`)
        await create(s, `${base}/ttl-touched`, CreateMode.PERSISTENT_WITH_TTL, TTL_MS)
        // A TTL counts from the node's last change: setData every 250 ms keeps it alive.
        touching = (async () => {
          while (!stopTouching) {
            const r = await toucher.call({ type: Op.setData, path: `${base}/ttl-touched`, data: new Uint8Array([1]), version: -1 })
            assert.strictEqual(r.header.err, Err.Ok, "setData on the touched TTL node")
            await sleep(250)
          }
        })()

        // Several checks pass while the container still has its child: nothing of it goes.
        await sleep(2 * CHECK_MS + 100)
        assert.isTrue(await exists(s, `${base}/c`), "container with a child was removed")
        // ...nor the TTL node, whose TTL has not yet passed.
        assert.isTrue(await exists(s, `${base}/ttl`), "TTL node removed before its TTL")
        assert.isBelow(Date.now() - ttlCreated, TTL_MS, "the check above ran too late to mean anything")

        assert.isTrue(await exists(s, `${base}/c`, true))
        const emptied = Date.now()
        await remove(s, `${base}/c/child`)
        const event = await s.nextEvent(5 * CHECK_MS + 2000)
        assert.deepStrictEqual({ type: event.type, path: event.path }, { type: EventType.NodeDeleted, path: `${base}/c` })
        assert.isBelow(Date.now() - emptied, 5 * CHECK_MS + 2000)
        assert.isFalse(await exists(s, `${base}/c`))

        const ttlGone = await waitUntil(async () => !(await exists(s, `${base}/ttl`)), TTL_MS + 5 * CHECK_MS + 2000, "TTL node removed")
        assert.isAtLeast(Date.now() - ttlCreated, TTL_MS, `TTL node removed after ${ttlGone}ms, before its TTL`)

        // Two more checks: a TTL node with a child, an unused container and a plain node all stay.
        await sleep(2 * CHECK_MS + 100)
        assert.isTrue(await exists(s, `${base}/ttl-kid`), "TTL node with a child was removed")
        assert.isTrue(await exists(s, `${base}/never`), "never-used container was removed")
        assert.isTrue(await exists(s, `${base}/plain`))

        await sleep(Math.max(0, ttlCreated + 2 * TTL_MS - Date.now()))
        assert.isTrue(await exists(s, `${base}/ttl-touched`), "TTL node changed every 250 ms was removed")

        // Once no longer touched it goes; and ttl-kid's TTL counts from its own last change, not
        // its children's: once childless it goes at the next check.
        stopTouching = true
        await touching
        assert.isTrue(await exists(s, `${base}/ttl-touched`, true))
        assert.isTrue(await exists(s, `${base}/ttl-kid`, true))
        await remove(s, `${base}/ttl-kid/k`)
        const events = [await s.nextEvent(TTL_MS + 5 * CHECK_MS + 2000), await s.nextEvent(TTL_MS + 5 * CHECK_MS + 2000)]
        assert.deepStrictEqual(events.map((e) => `${e.type} ${e.path}`).sort(), [
          `${EventType.NodeDeleted} ${base}/ttl-kid`,
          `${EventType.NodeDeleted} ${base}/ttl-touched`
        ])
      } finally {
        stopTouching = true
        await touching?.catch(() => {})
        s.close()
        toucher.close()
      }
    })
  },
  {
    ezkArgs: ["--set", `znode.container.checkIntervalMs=${CHECK_MS}`],
    zookeeperJvmFlags: [`-Dznode.container.checkIntervalMs=${CHECK_MS}`]
  }
)
