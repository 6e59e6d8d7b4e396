/**
 * The acid test of issue 5 item 8 / 11(d): one ezk peer and two Apache ZooKeeper 3.8 peers
 * (Debian package) from the same server.N lines form one working ensemble, whichever kind leads.
 * Clients are kazoo (Debian's python3-kazoo): a write through one kind of peer is read on the
 * other after `sync`. Restarted and wiped followers catch up by DIFF and SNAP, checked both by
 * their data and by what the peers log about the sync.
 */
import { afterEach, assert, describe, it } from "@effect/vitest"
import { apacheZkAvailable } from "../support/apacheZk.js"
import { ezkAvailable } from "../support/ezkServer.js"
import { type MixedEnsemble, type MixedEnsembleOptions, startMixedEnsemble } from "../support/mixedEnsemble.js"
import { noKazoo, runPython } from "./tools.js"

/** argv: connect string, then JSON ops; prints one JSON line with each op's result. */
const SCRIPT = String.raw`
import json, sys
from kazoo.client import KazooClient
zk = KazooClient(hosts=sys.argv[1], timeout=10)
zk.start(timeout=30)
out = []
for op in json.loads(sys.argv[2]):
    if op[0] == "create":
        out.append(zk.create(op[1], op[2].encode(), makepath=True))
    elif op[0] == "get":
        zk.sync(op[1])
        data, stat = zk.get(op[1])
        out.append([data.decode(), stat.mzxid])
    elif op[0] == "children":
        zk.sync(op[1])
        out.append(sorted(zk.get_children(op[1])))
zk.stop()
print(json.dumps({"results": out}))
`

type Op = readonly ["create", string, string] | readonly ["get", string] | readonly ["children", string]

const kazoo = async (connectString: string, ops: ReadonlyArray<Op>): Promise<Array<any>> =>
  ((await runPython(SCRIPT, [connectString, JSON.stringify(ops)], 90_000)) as { results: Array<any> }).results

let ensemble: MixedEnsemble | undefined
afterEach(async () => {
  await ensemble?.stop()
  ensemble = undefined
})

/** Starts the ensemble; on any failure in `body`, the error carries every peer's log. */
const withEnsemble = async (options: MixedEnsembleOptions, body: (e: MixedEnsemble) => Promise<void>) => {
  ensemble = await startMixedEnsemble(options)
  try {
    await body(ensemble)
    if (process.env.MIXED_LOGS) require("node:fs").writeFileSync(`${process.env.MIXED_LOGS}/${Date.now()}.log`, ensemble.logs())
  } catch (e) {
    throw new Error(`${e instanceof Error ? e.stack : String(e)}\n${ensemble.logs()}`)
  }
}

/** A write through each peer is read (after sync) through every other peer. */
const writeEverywhereReadEverywhere = async (e: MixedEnsemble, prefix: string) => {
  for (const writer of e.peers) {
    await kazoo(writer.connectString, [["create", `${prefix}/by-${writer.kind}${writer.sid}`, `v${writer.sid}`]])
  }
  for (const reader of e.peers) {
    const [children, ...gets] = await kazoo(reader.connectString, [
      ["children", prefix],
      ...e.peers.map((w): Op => ["get", `${prefix}/by-${w.kind}${w.sid}`])
    ])
    assert.deepStrictEqual(children, e.peers.map((w) => `by-${w.kind}${w.sid}`).sort(), `children on peer ${reader.sid}`)
    e.peers.forEach((w, i) => assert.strictEqual(gets[i][0], `v${w.sid}`, `peer ${reader.sid} reads the write through ${w.sid}`))
  }
}

const logSince = (text: string, marker: number) => text.slice(marker)

describe.skipIf(!apacheZkAvailable() || !ezkAvailable() || noKazoo())("mixed ensemble: ezk with Apache ZooKeeper 3.8", () => {
  it("ZooKeeper leads, ezk follows: writes through either kind are read on the other", () =>
    withEnsemble({ peers: [{ sid: 1, kind: "ezk" }, { sid: 2, kind: "zk" }, { sid: 3, kind: "zk" }] }, async (e) => {
      const leader = await e.ready()
      assert.strictEqual(leader.kind, "zk", "the highest sid (a ZooKeeper peer) leads an empty ensemble")
      assert.strictEqual(await e.peer(1).mode(), "follower")
      await writeEverywhereReadEverywhere(e, "/zk-leads")
    }), 180_000)

  it("ezk leads, ZooKeeper follows: writes through either kind are read on the other", () =>
    withEnsemble({ peers: [{ sid: 1, kind: "zk" }, { sid: 2, kind: "zk" }, { sid: 3, kind: "ezk" }] }, async (e) => {
      const leader = await e.ready()
      assert.strictEqual(leader.sid, 3, "ezk (the highest sid) leads an empty ensemble")
      await writeEverywhereReadEverywhere(e, "/ezk-leads")
    }), 180_000)

  it("ezk leads: a ZooKeeper follower restarted after writes catches up by DIFF, a wiped one by SNAP", () =>
    withEnsemble({ peers: [{ sid: 1, kind: "zk" }, { sid: 2, kind: "zk" }, { sid: 3, kind: "ezk" }] }, async (e) => {
      assert.strictEqual((await e.ready()).sid, 3)
      const ezk = e.peer(3)
      const zk1 = e.peer(1)
      await kazoo(ezk.connectString, [["create", "/catchup/before", "0"]])

      await zk1.kill()
      const names = Array.from({ length: 20 }, (_, i) => `n${i}`)
      await kazoo(ezk.connectString, names.map((n): Op => ["create", `/catchup/${n}`, n]))
      let zkLog = zk1.output().length
      let ezkLog = ezk.output().length
      await zk1.start()
      await e.ready()
      assert.deepStrictEqual((await kazoo(zk1.connectString, [["children", "/catchup"]]))[0], ["before", ...names].sort())
      assert.match(logSince(ezk.output(), ezkLog), /syncing follower 1 .* with DIFF/)
      assert.match(logSince(zk1.output(), zkLog), /Getting a diff from the leader/)

      await zk1.kill()
      await zk1.wipe()
      await kazoo(ezk.connectString, [["create", "/catchup/after-wipe", "w"]])
      zkLog = zk1.output().length
      ezkLog = ezk.output().length
      await zk1.start()
      await e.ready()
      assert.deepStrictEqual(
        (await kazoo(zk1.connectString, [["children", "/catchup"]]))[0],
        ["after-wipe", "before", ...names].sort()
      )
      assert.match(logSince(ezk.output(), ezkLog), /syncing follower 1 .* with SNAP/)
      assert.match(logSince(zk1.output(), zkLog), /Getting a snapshot from leader/)
    }), 240_000)

  it("ZooKeeper leads: an ezk follower restarted after writes catches up by DIFF, a wiped one by SNAP", () =>
    withEnsemble({ peers: [{ sid: 1, kind: "ezk" }, { sid: 2, kind: "zk" }, { sid: 3, kind: "zk" }] }, async (e) => {
      // Which ZooKeeper peer leads depends on which JVM came up first; either will do.
      const zkLeader = await e.ready()
      assert.strictEqual(zkLeader.kind, "zk")
      const ezk = e.peer(1)
      await kazoo(zkLeader.connectString, [["create", "/catchup/before", "0"]])

      await ezk.kill()
      const names = Array.from({ length: 20 }, (_, i) => `n${i}`)
      await kazoo(zkLeader.connectString, names.map((n): Op => ["create", `/catchup/${n}`, n]))
      let zkLog = zkLeader.output().length
      await ezk.start()
      await e.ready()
      assert.deepStrictEqual((await kazoo(ezk.connectString, [["children", "/catchup"]]))[0], ["before", ...names].sort())
      assert.match(logSince(zkLeader.output(), zkLog), /Sending DIFF/)

      await ezk.kill()
      await ezk.wipe()
      await kazoo(zkLeader.connectString, [["create", "/catchup/after-wipe", "w"]])
      zkLog = zkLeader.output().length
      await ezk.start()
      await e.ready()
      assert.deepStrictEqual(
        (await kazoo(ezk.connectString, [["children", "/catchup"]]))[0],
        ["after-wipe", "before", ...names].sort()
      )
      assert.match(logSince(zkLeader.output(), zkLog), /Sending snapshot|Sending SNAP/)
    }), 240_000)
})
