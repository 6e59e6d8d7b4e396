/**
 * A 3-node ezk ensemble of real processes (the built CLI, one zoo.cfg each) used by the ZooKeeper
 * clients people run — kazoo, zkCli.sh, cli_mt, node-zookeeper-client — each given the connect
 * string of all three peers; what each wrote is then read on every peer directly (after sync).
 * Also: an observer serves reads and forwards writes, and a session whose server is killed moves
 * to another peer with its ephemerals.
 */
import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import { Op } from "../../src/wire/Codes.js"
import {
  childrenOn,
  dataEverywhere,
  enc,
  everywhere,
  type EzkEnsemble,
  noEzkBuild,
  openAcl,
  sleep,
  startEnsemble
} from "../support/ezkEnsemble.js"
import { connectNzk } from "./nodeZk.js"
import { openSession, parseReply, requestFrame, startPipelinedSession } from "./rawClient.js"
import { cliMt, noCliMt, noKazoo, noZkCli, runPython, zkCli } from "./tools.js"

const KAZOO = String.raw`
import json, sys
from kazoo.client import KazooClient
hosts = sys.argv[1]
zk = KazooClient(hosts=hosts, timeout=10)
zk.start(timeout=20)
zk.ensure_path("/kazoo/dir")
zk.create("/kazoo/dir/node", b"from-kazoo")
zk.set("/kazoo/dir/node", b"from-kazoo-2")
data, stat = zk.get("/kazoo/dir/node")
seq = zk.create("/kazoo/dir/s-", b"", sequence=True)
print(json.dumps({"data": data.decode(), "version": stat.version, "seq": seq,
                  "children": sorted(zk.get_children("/kazoo/dir"))}))
zk.stop()
`

describe.skipIf(noEzkBuild())("a 3-node ensemble of ezk processes", () => {
  let ens: EzkEnsemble
  beforeAll(async () => {
    ens = await startEnsemble({ nodes: 3 })
  })
  afterAll(() => ens?.stopAll())

  it("elects exactly one leader; the others follow", async () => {
    // Settles within a bound: under a loaded test run (tickTime 500) a follower that just logged
    // "serving" can still be dropped for lagging and resync once, answering srvr without a Mode.
    const deadline = Date.now() + 15_000
    for (;;) {
      const leader = await ens.leader()
      const modes = await Promise.all([1, 2, 3].map((sid) => ens.mode(sid)))
      const expected = [1, 2, 3].map((sid) => (sid === leader ? "leader" : "follower"))
      if (Date.now() > deadline || modes.every((m, i) => m === expected[i])) {
        assert.deepStrictEqual(modes, expected)
        return
      }
      await sleep(100)
    }
  })

  it.skipIf(noKazoo())("kazoo writes through the ensemble; every peer has it", async () => {
    const out = await runPython(KAZOO, [ens.connectString])
    assert.deepStrictEqual(out, {
      data: "from-kazoo-2",
      version: 1,
      seq: "/kazoo/dir/s-0000000001",
      children: ["node", "s-0000000001"]
    })
    assert.deepStrictEqual(await dataEverywhere(ens, "/kazoo/dir/node"), everywhere(ens, "from-kazoo-2"))
    for (const sid of [1, 2, 3]) assert.deepStrictEqual(await childrenOn(ens, sid, "/kazoo/dir"), ["node", "s-0000000001"])
  })

  it.skipIf(noZkCli())("zkCli.sh writes through the ensemble; every peer has it", async () => {
    const r = await zkCli(ens.connectString, ["create /zkcli hello", "set /zkcli world", "get /zkcli"])
    assert.deepStrictEqual(r.steps[2], ["world"], r.output)
    assert.deepStrictEqual(await dataEverywhere(ens, "/zkcli"), everywhere(ens, "world"))
  })

  it.skipIf(noCliMt())("cli_mt writes through the ensemble; every peer has it", async () => {
    const r = await cliMt(ens.connectString, ["create /climt", "set /climt mt-value", "get /climt"])
    assert.deepStrictEqual(r.steps[2]!.slice(0, 3), ["/climt: rc = 0", " value_len = 8", "mt-value"], r.output)
    assert.deepStrictEqual(await dataEverywhere(ens, "/climt"), everywhere(ens, "mt-value"))
  })

  it("node-zookeeper-client writes through the ensemble; every peer has it", async () => {
    const c = await connectNzk(ens.connectString)
    try {
      await c.create("/nzk", Buffer.from("node-client"))
      const { data } = await c.getData("/nzk")
      assert.strictEqual(data?.toString(), "node-client")
    } finally {
      c.close()
    }
    assert.deepStrictEqual(await dataEverywhere(ens, "/nzk"), everywhere(ens, "node-client"))
  })

  it("a write on one follower is read on the other follower after sync", async () => {
    const [a, b] = await ens.followers()
    const s = await startPipelinedSession(ens.peer(a!).clientPort)
    try {
      const r = await s.call({ type: Op.create, path: "/f2f", data: enc("across"), acl: openAcl, flags: 0, ttl: -1 })
      assert.strictEqual(r.header.err, 0)
    } finally {
      s.close()
    }
    const on = await dataEverywhere(ens, "/f2f")
    assert.strictEqual(on[b!], "across")
  })
})

describe.skipIf(noEzkBuild())("an ensemble with an observer", () => {
  let ens: EzkEnsemble
  beforeAll(async () => {
    ens = await startEnsemble({ nodes: 3, observers: 1 })
  })
  afterAll(() => ens?.stopAll())

  it("the observer reports Mode observer, serves reads and forwards writes", async () => {
    await ens.leader()
    // Right after start the ensemble may still settle (an observer resyncs if the leader changed).
    let mode: string | undefined
    for (let i = 0; i < 100 && (mode = await ens.mode(4)) !== "observer"; i++) await sleep(100)
    assert.strictEqual(mode, "observer")
    const c = await connectNzk(ens.connectStringOf([4]))
    try {
      await c.create("/via-observer", Buffer.from("obs"))
      assert.strictEqual((await c.getData("/via-observer")).data?.toString(), "obs")
    } finally {
      c.close()
    }
    assert.deepStrictEqual(await dataEverywhere(ens, "/via-observer"), everywhere(ens, "obs"))
    // And a write made elsewhere reaches the observer.
    const w = await startPipelinedSession(ens.peer(1).clientPort)
    try {
      assert.strictEqual(
        (await w.call({ type: Op.create, path: "/to-observer", data: enc("x"), acl: openAcl, flags: 0, ttl: -1 })).header.err,
        0
      )
    } finally {
      w.close()
    }
    assert.strictEqual((await dataEverywhere(ens, "/to-observer"))[4], "x")
  })
})

describe.skipIf(noEzkBuild())("a client whose server is killed", () => {
  let ens: EzkEnsemble
  beforeAll(async () => {
    ens = await startEnsemble({ nodes: 3 })
  })
  afterAll(() => ens?.stopAll())

  it("node-zookeeper-client moves to another peer and keeps session and ephemerals", async () => {
    const c = await connectNzk(ens.connectString, { sessionTimeout: 20_000, retries: 10 })
    try {
      const sessionId = c.sessionId()
      await c.create("/nzk-eph", Buffer.from("e"), undefined, 1)
      const servedBy = await servingPeer(ens, [1, 2, 3], sessionId)
      assert.isDefined(servedBy, "no peer lists the session in cons")
      // Leader or follower: either way two peers remain, a quorum.
      await ens.kill9(servedBy!)
      const stat = await c.exists("/nzk-eph")
      assert.isNotNull(stat)
      assert.strictEqual(stat!.ephemeralOwner.readBigInt64BE(0), sessionId)
      assert.strictEqual(c.sessionId(), sessionId)
      assert.notStrictEqual(await servingPeer(ens, [1, 2, 3].filter((sid) => sid !== servedBy), sessionId), undefined)
      await ens.start(servedBy!)
    } finally {
      c.close()
    }
  })


  it("re-attaches its session on another peer and keeps its ephemerals", async () => {
    const [victim, other] = await ens.followers()
    const { conn, session } = await openSession(ens.peer(victim!).clientPort, { timeoutMs: 10_000 })
    conn.write(requestFrame(1, { type: Op.create, path: "/eph", data: enc("mine"), acl: openAcl, flags: 1, ttl: -1 }))
    assert.strictEqual(parseReply(await conn.nextFrame()).header.err, 0)

    await ens.kill9(victim!)
    conn.destroy()
    const moved = await openSession(ens.peer(other!).clientPort, { timeoutMs: 10_000, session })
    try {
      assert.strictEqual(moved.session.sessionId, session.sessionId)
      assert.isAbove(moved.session.timeOut, 0, "the session was refused (expired) on the other peer")
      moved.conn.write(requestFrame(2, { type: Op.exists, path: "/eph", watch: false }))
      const reply = parseReply(await moved.conn.nextFrame())
      assert.strictEqual(reply.header.err, 0)
      // ephemeralOwner is the 8 bytes after czxid, mzxid, ctime, mtime, version, cversion, aversion.
      assert.strictEqual(reply.body.readBigInt64BE(8 * 4 + 4 * 3), session.sessionId)
    } finally {
      moved.conn.destroy()
    }
    // Still there for everyone, on both remaining peers.
    const on = await dataEverywhere(ens, "/eph")
    assert.deepStrictEqual(on, everywhere(ens, "mine"))
  })

})

/** The peer whose `cons` lists the session (hex id), if any. */
const servingPeer = async (ens: EzkEnsemble, sids: ReadonlyArray<number>, sessionId: bigint): Promise<number | undefined> => {
  const hex = `0x${BigInt.asUintN(64, sessionId).toString(16)}`
  for (const sid of sids) if ((await ens.fourLetterWord(sid, "cons")).includes(`sid=${hex},`)) return sid
  return undefined
}

