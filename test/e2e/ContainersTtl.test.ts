/**
 * Container and TTL nodes are removed by the server's periodic check (ZooKeeper's ContainerManager),
 * on real processes side by side with Apache ZooKeeper — checked every 500 ms here (ezk:
 * `--set znode.container.checkIntervalMs=500`; ZooKeeper reads it only as the JVM system property,
 * zoo.cfg cannot set it), with extended types on (both helpers enable them). Removals are ordinary
 * deletes: watchers get NodeDeleted. Only "never before the TTL" is timed here; the instants of each
 * check, TTLs counted from a node's last change and never-used containers with
 * maxNeverUsedIntervalMs are tested in-process on TestClock in test/server/Expiry.test.ts.
 */
import { assert, it } from "@effect/vitest"
import { CreateMode, Err, EventType, Op } from "../../src/wire/Codes.js"
import { describeTargets } from "../support/targets.js"
import { openAcl, rawSession, type RawSession, uniquePath, waitUntil } from "./support.js"

const CHECK_MS = 500
const TTL_MS = 1000

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
    it("an emptied container and a childless TTL node past its TTL disappear; a TTL node with a child, an unused container and a plain node stay", async () => {
      const s = await rawSession(t.server().port)
      try {
        const base = uniquePath("reap")
        await create(s, base)
        await create(s, `${base}/c`, CreateMode.CONTAINER)
        await create(s, `${base}/c/child`)
        await create(s, `${base}/never`, CreateMode.CONTAINER) // never had a child: kept (maxNeverUsedIntervalMs=0)
        await create(s, `${base}/plain`)
        const ttlCreated = Date.now()
        await create(s, `${base}/ttl`, CreateMode.PERSISTENT_WITH_TTL, TTL_MS)
        await create(s, `${base}/ttl-kid`, CreateMode.PERSISTENT_WITH_TTL, TTL_MS)
        await create(s, `${base}/ttl-kid/k`)

        assert.isTrue(await exists(s, `${base}/c`, true))
        await remove(s, `${base}/c/child`)
        const event = await s.nextEvent(10_000)
        assert.deepStrictEqual({ type: event.type, path: event.path }, { type: EventType.NodeDeleted, path: `${base}/c` })

        await waitUntil(async () => !(await exists(s, `${base}/ttl`)), 10_000, "TTL node removed")
        const gone = Date.now() - ttlCreated
        assert.isAtLeast(gone, TTL_MS - 50, `TTL node removed ${gone}ms after its create, before its TTL`)

        // ttl-kid's TTL has passed too, but it has a child; once childless it goes.
        assert.isTrue(await exists(s, `${base}/ttl-kid`, true), "TTL node with a child was removed")
        await remove(s, `${base}/ttl-kid/k`)
        const kid = await s.nextEvent(10_000)
        assert.deepStrictEqual({ type: kid.type, path: kid.path }, { type: EventType.NodeDeleted, path: `${base}/ttl-kid` })

        // Several checks have passed by now: the unused container and the plain node stay.
        assert.isTrue(await exists(s, `${base}/never`), "never-used container was removed")
        assert.isTrue(await exists(s, `${base}/plain`))
      } finally {
        s.close()
      }
    })
  },
  {
    ezkArgs: ["--set", `znode.container.checkIntervalMs=${CHECK_MS}`],
    zookeeperJvmFlags: [`-Dznode.container.checkIntervalMs=${CHECK_MS}`]
  }
)
