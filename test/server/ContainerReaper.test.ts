/** reapCandidates on its own: which containers and TTL nodes the reaper deletes at a given time. */
import { assert, describe, it } from "@effect/vitest"
import { reapCandidates } from "../../src/server/pipeline/ContainerReaper.js"
import { OPEN_ACL_UNSAFE } from "../../src/tree/AclCache.js"
import { DataTree } from "../../src/tree/DataTree.js"
import { CONTAINER_OWNER, NO_OWNER, ttlOwner } from "../../src/tree/ZNode.js"

const options = { extendedTypes: true, containerMaxNeverUsedMs: 0 }

const tree = (): DataTree => new DataTree({ extendedTypes: true, digestEnabled: false })

/** Creates `path` at `time` ms (its mtime). */
const create = (t: DataTree, path: string, owner: bigint, time: number): void => {
  t.createNode(path, null, OPEN_ACL_UNSAFE, owner, -1, t.lastProcessedZxid + 1, time)
}

describe("reapCandidates", () => {
  it("a container is reaped once it had children and is empty again, not while it has some or never had any", () => {
    const t = tree()
    create(t, "/used", CONTAINER_OWNER, 0)
    create(t, "/fresh", CONTAINER_OWNER, 0)
    create(t, "/busy", CONTAINER_OWNER, 0)
    create(t, "/used/c", NO_OWNER, 10)
    create(t, "/busy/c", NO_OWNER, 10)
    assert.deepStrictEqual(reapCandidates(t, 1_000_000, options), [], "children keep a container; a never-used one stays with the interval off")
    t.deleteNode("/used/c", 20)
    assert.deepStrictEqual(reapCandidates(t, 1_000_000, options), ["/used"])
  })

  it("a never-used container is reaped only after maxNeverUsedIntervalMs since its mtime", () => {
    const t = tree()
    create(t, "/fresh", CONTAINER_OWNER, 1000)
    const opts = { ...options, containerMaxNeverUsedMs: 5000 }
    assert.deepStrictEqual(reapCandidates(t, 6000, opts), [], "exactly the interval is not past it")
    assert.deepStrictEqual(reapCandidates(t, 6001, opts), ["/fresh"])
  })

  it("a childless TTL node is reaped after its TTL since its last modification; with children it stays", () => {
    const t = tree()
    create(t, "/ttl", ttlOwner(500), 1000)
    create(t, "/parent", ttlOwner(500), 1000)
    create(t, "/parent/c", NO_OWNER, 1000)
    assert.deepStrictEqual(reapCandidates(t, 1500, options), [])
    assert.deepStrictEqual(reapCandidates(t, 1501, options), ["/ttl"])
    t.setData("/ttl", null, -1, t.lastProcessedZxid + 1, 1400)
    assert.deepStrictEqual(reapCandidates(t, 1501, options), [], "setData moves mtime, and the TTL counts from there")
  })

  it("containers come before TTL nodes", () => {
    const t = tree()
    create(t, "/t", ttlOwner(1), 0)
    create(t, "/c", CONTAINER_OWNER, 0)
    create(t, "/c/x", NO_OWNER, 0)
    t.deleteNode("/c/x", 99)
    assert.deepStrictEqual(reapCandidates(t, 10, options), ["/c", "/t"])
  })
})
