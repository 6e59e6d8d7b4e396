/**
 * The acid test of issue 5 item 8 / 11(d): one ezk peer and two Apache ZooKeeper 3.8 peers
 * (Debian package) from the same server.N lines form one working ensemble, whichever kind leads.
 * Clients are kazoo (Debian's python3-kazoo): a write through one kind of peer is read on the
 * other after `sync`. Restarted and wiped followers catch up by DIFF and SNAP, checked both by
 * their data and by what the peers log about the sync.
 */
import { afterEach, assert, describe, it } from "@effect/vitest"
import { noApacheZk } from "../support/apacheZk.js"
import { noEzkBuild } from "../support/ezkServer.js"
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

/**
 * Sessions across kinds, in three processes so a session outlives its client: `open` creates an
 * ephemeral through each of two peers and idles past the session timeout (the leader must hear
 * of the touches on the other kind's peer), then exits without closing; `attach` re-attaches
 * each session to the other peer (REVALIDATE through a learner), idles again, writes, closes the
 * first session and abandons the second; `absent` later reads both ephemerals on both peers.
 * Session ids travel as hex: they exceed 2^53.
 */
const SESSIONS = String.raw`
import binascii, json, os, sys, time
from kazoo.client import KazooClient
phase, first, second = sys.argv[1], sys.argv[2], sys.argv[3]
def client(hosts, cid=None):
    zk = KazooClient(hosts=hosts, timeout=4, client_id=cid)
    zk.start(timeout=30)
    return zk
def owner(zk, path):
    zk.sync(path)
    st = zk.exists(path)
    return None if st is None else "%x" % st.ephemeralOwner
def done(out):
    print(json.dumps(out))
    sys.stdout.flush()
    os._exit(0)
if phase == "open":
    a, b = client(first), client(second)
    a.create("/eph/a", b"a", ephemeral=True, makepath=True)
    b.create("/eph/b", b"b", ephemeral=True, makepath=True)
    time.sleep(9)
    done({"a": ["%x" % a.client_id[0], binascii.hexlify(a.client_id[1]).decode()],
          "b": ["%x" % b.client_id[0], binascii.hexlify(b.client_id[1]).decode()],
          "states": [a.state, b.state], "owners": [owner(b, "/eph/a"), owner(a, "/eph/b")]})
ids = json.loads(sys.argv[4])
if phase == "attach":
    a = client(second, (int(ids["a"][0], 16), binascii.unhexlify(ids["a"][1])))
    b = client(first, (int(ids["b"][0], 16), binascii.unhexlify(ids["b"][1])))
    time.sleep(9)
    out = {"sessions": ["%x" % a.client_id[0], "%x" % b.client_id[0]], "states": [a.state, b.state],
           "owners": [owner(b, "/eph/a"), owner(a, "/eph/b")]}
    out["set"] = a.set("/eph/a", b"moved").version
    a.stop()
    out["closedOwners"] = [owner(b, "/eph/a"), owner(b, "/eph/b")]
    check = client(second)
    out["closedOwnersOther"] = [owner(check, "/eph/a"), owner(check, "/eph/b")]
    done(out)
if phase == "absent":
    x, y = client(first), client(second)
    done({"owners": [owner(x, "/eph/a"), owner(x, "/eph/b"), owner(y, "/eph/a"), owner(y, "/eph/b")]})
`

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/** Runs the three SESSIONS phases with sessions opened on `first` and `second`, moved across. */
const sessionsAcross = async (first: string, second: string) => {
  const opened = (await runPython(SESSIONS, ["open", first, second], 90_000)) as any
  assert.deepStrictEqual(opened.states, ["CONNECTED", "CONNECTED"], "sessions outlive their timeout on both kinds")
  assert.deepStrictEqual(opened.owners, [opened.a[0], opened.b[0]], "each ephemeral is seen on the other kind")
  const ids = JSON.stringify({ a: opened.a, b: opened.b })
  const attached = (await runPython(SESSIONS, ["attach", first, second, ids], 90_000)) as any
  assert.deepStrictEqual(attached.sessions, [opened.a[0], opened.b[0]], "each session re-attached to the other kind")
  assert.deepStrictEqual(attached.states, ["CONNECTED", "CONNECTED"])
  assert.deepStrictEqual(attached.owners, [opened.a[0], opened.b[0]])
  assert.strictEqual(attached.set, 1, "a moved session writes")
  assert.deepStrictEqual(attached.closedOwners, [null, opened.b[0]], "closing a session removes its ephemeral")
  assert.deepStrictEqual(attached.closedOwnersOther, [null, opened.b[0]])
  // The abandoned session (timeout 4 s) expires through the leader, on every peer.
  await sleep(8000)
  const after = (await runPython(SESSIONS, ["absent", first, second, ids], 90_000)) as any
  assert.deepStrictEqual(after.owners, [null, null, null, null], "an expired session's ephemeral vanishes everywhere")
}

const logSince = (text: string, marker: number) => text.slice(marker)

describe.skipIf(noApacheZk() || noEzkBuild() || noKazoo())("mixed ensemble: ezk with Apache ZooKeeper 3.8", () => {
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

  // Regression: ezk's election answers once kept peerEpoch 0 after sync, while ZooKeeper follower 2
  // said 1; ZooKeeper's Vote.equals (non-LOOKING: sid and peerEpoch) then found no quorum and the
  // restarted ZooKeeper peer stayed LOOKING (1 run in 3). Every currentEpoch write now updates the vote.
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

  it("sessions cross kinds under a ZooKeeper leader: touches, REVALIDATE, close and expiry", () =>
    withEnsemble({ peers: [{ sid: 1, kind: "ezk" }, { sid: 2, kind: "zk" }, { sid: 3, kind: "zk" }] }, async (e) => {
      const leader = await e.ready()
      assert.strictEqual(leader.kind, "zk")
      const zkFollower = e.peers.find((p) => p.kind === "zk" && p !== leader)!
      await sessionsAcross(e.peer(1).connectString, zkFollower.connectString)
    }), 240_000)

  it("sessions cross kinds under an ezk leader: touches, REVALIDATE, close and expiry", () =>
    withEnsemble({ peers: [{ sid: 1, kind: "zk" }, { sid: 2, kind: "zk" }, { sid: 3, kind: "ezk" }] }, async (e) => {
      assert.strictEqual((await e.ready()).sid, 3)
      await sessionsAcross(e.peer(3).connectString, e.peer(1).connectString)
    }), 240_000)

  it("leadership passes between kinds: ezk leader killed, ZooKeeper leads, ezk rejoins, ZooKeeper leader killed, ezk leads", () =>
    withEnsemble({ peers: [{ sid: 1, kind: "zk" }, { sid: 2, kind: "zk" }, { sid: 3, kind: "ezk" }] }, async (e) => {
      const [zk1, zk2, ezk] = [e.peer(1), e.peer(2), e.peer(3)]
      assert.strictEqual((await e.ready()).sid, 3)
      await kazoo(ezk.connectString, [["create", "/fail/epoch1", "1"]])

      await ezk.kill()
      assert.strictEqual((await e.ready()).sid, 2, "the ZooKeeper peers elect sid 2")
      await kazoo(zk1.connectString, [["create", "/fail/epoch2", "2"]])
      await ezk.start()
      assert.strictEqual((await e.ready()).sid, 2, "ezk rejoins the established ZooKeeper leader")
      assert.deepStrictEqual((await kazoo(ezk.connectString, [["children", "/fail"]]))[0], ["epoch1", "epoch2"])
      await kazoo(ezk.connectString, [["create", "/fail/epoch2-ezk", "2"]])

      await zk2.kill()
      assert.strictEqual((await e.ready()).sid, 3, "ezk (same zxid, higher sid) leads ZooKeeper 1")
      await kazoo(zk1.connectString, [["create", "/fail/epoch3", "3"]])
      await zk2.start()
      assert.strictEqual((await e.ready()).sid, 3)
      const all = ["epoch1", "epoch2", "epoch2-ezk", "epoch3"]
      for (const p of e.peers) assert.deepStrictEqual((await kazoo(p.connectString, [["children", "/fail"]]))[0], all, `peer ${p.sid}`)
    }), 240_000)

  it("an ezk peer that followed an epoch and then leads syncs a peer from before that epoch without skipping it", () =>
    withEnsemble({ peers: [{ sid: 1, kind: "zk" }, { sid: 2, kind: "zk" }, { sid: 3, kind: "ezk" }] }, async (e) => {
      const [zk1, zk2, ezk] = [e.peer(1), e.peer(2), e.peer(3)]
      assert.strictEqual((await e.ready()).sid, 3)
      await kazoo(ezk.connectString, [["create", "/lag/epoch1", "1"]])
      // ezk restarts into epoch 2 under zk2: its startup replay ends in epoch 1.
      await ezk.kill()
      assert.strictEqual((await e.ready()).sid, 2)
      await ezk.start()
      assert.strictEqual((await e.ready()).sid, 2)
      // zk1 stops at the end of epoch 1; epoch 2 commits without it.
      await zk1.kill()
      await kazoo(zk2.connectString, [["create", "/lag/epoch2", "2"]])
      await zk2.kill()
      await zk1.start()
      assert.strictEqual((await e.ready()).sid, 3, "ezk (newest zxid) leads epoch 3")
      assert.deepStrictEqual((await kazoo(zk1.connectString, [["children", "/lag"]]))[0], ["epoch1", "epoch2"], "zk1 got epoch 2")
    }), 240_000)
})
