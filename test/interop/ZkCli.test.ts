/**
 * zkCli.sh (the Java client's shell, Debian package) drives each target through scripted sessions
 * on stdin, and every printed answer is checked. Each script is one JVM run (~1 s), so commands are
 * batched: one session for node operations and watches, one for ACLs and auth, and one afterwards
 * to see what survived the first session's close (ephemerals gone, the rest kept).
 */
import { assert, it } from "@effect/vitest"
import { describeTargets } from "../support/targets.js"
import { parseCliList, parseCliStat, zkCli, noZkCli } from "./tools.js"

type Expect = ReadonlyArray<string> | ((lines: ReadonlyArray<string>) => void)
type Script = ReadonlyArray<readonly [command: string, expect: Expect]>

/** Runs a script as one zkCli session and checks each command's printed lines. */
const runScript = async (connectString: string, script: Script) => {
  const result = await zkCli(
    connectString,
    script.map(([c]) => c)
  )
  script.forEach(([command, expect], i) => {
    const lines = result.steps[i]!
    const where = `zkCli \`${command}\` (step ${i}) printed ${JSON.stringify(lines)}`
    if (typeof expect === "function") {
      try {
        expect(lines)
      } catch (e) {
        throw new Error(`${where}: ${(e as Error).message}\n--- full output ---\n${result.output}`)
      }
    } else {
      assert.deepStrictEqual(lines, [...expect], `${where}\n--- full output ---\n${result.output}`)
    }
  })
  return result
}

const hexZxid = (s: string | undefined): number => {
  assert.match(s ?? "", /^0x[0-9a-f]+$/)
  return Number.parseInt(s!.slice(2), 16)
}

// bob:bobpw → base64(sha1("bob:bobpw")), as DigestAuthenticationProvider computes it.
const BOB_DIGEST = "bob:0ezhUayTjEymfNB3K9C0+wkMLMo="

describeTargets("zkCli.sh", (t) => {
  it.skipIf(noZkCli())("node operations, versions, sequentials, ephemerals and watches", async () => {
    const cs = t.server().connectString
    const result = await runScript(cs, [
      ["create /t hello", ["Created /t"]],
      ["create /t dup", ["Node already exists: /t"]],
      ["create -e /t/eph e1", ["Created /t/eph"]],
      // Sequence numbers come from the parent's cversion: one child existed already.
      ["create -s /t/seq- s1", ["Created /t/seq-0000000001"]],
      ["create -s /t/seq- s2", ["Created /t/seq-0000000002"]],
      ["create -e -s /t/es- es", ["Created /t/es-0000000003"]],
      [
        "ls /t",
        (l) => {
          assert.strictEqual(l.length, 1)
          assert.deepStrictEqual(parseCliList(l[0]), ["eph", "es-0000000003", "seq-0000000001", "seq-0000000002"])
        }
      ],
      ["get /t", ["hello"]],
      ["set /t world", []],
      ["set -v 0 /t again", ["version No is not valid : /t"]],
      [
        "set -s -v 1 /t again",
        (l) => {
          const stat = parseCliStat(l)
          assert.strictEqual(stat.dataVersion, "2")
          assert.strictEqual(stat.dataLength, "5")
        }
      ],
      [
        "get -s /t",
        (l) => {
          assert.strictEqual(l[0], "again")
          const stat = parseCliStat(l.slice(1))
          assert.deepStrictEqual(Object.keys(stat), [
            "cZxid",
            "ctime",
            "mZxid",
            "mtime",
            "pZxid",
            "cversion",
            "dataVersion",
            "aclVersion",
            "ephemeralOwner",
            "dataLength",
            "numChildren"
          ])
          assert.isTrue(hexZxid(stat.mZxid) > hexZxid(stat.cZxid))
          assert.isTrue(hexZxid(stat.pZxid) > hexZxid(stat.cZxid))
          assert.strictEqual(stat.cversion, "4")
          assert.strictEqual(stat.dataVersion, "2")
          assert.strictEqual(stat.aclVersion, "0")
          assert.strictEqual(stat.ephemeralOwner, "0x0")
          assert.strictEqual(stat.dataLength, "5")
          assert.strictEqual(stat.numChildren, "4")
          // Java's Date.toString, e.g. "Wed Nov 25 09:35:21 UTC 2026".
          assert.match(stat.ctime ?? "", /^\w{3} \w{3} \d{2} \d{2}:\d{2}:\d{2} \w+ \d{4}$/)
        }
      ],
      [
        "stat /t/eph",
        (l) => {
          const stat = parseCliStat(l)
          assert.notStrictEqual(stat.ephemeralOwner, "0x0")
          assert.match(stat.ephemeralOwner ?? "", /^0x[0-9a-f]+$/)
          assert.strictEqual(stat.dataLength, "2")
          assert.strictEqual(stat.numChildren, "0")
        }
      ],
      ["stat /nope", ["Node does not exist: /nope"]],
      ["delete /t", ["Node not empty: /t"]],
      ["delete -v 7 /t/seq-0000000001", ["version No is not valid : /t/seq-0000000001"]],
      ["delete /t/seq-0000000001", []],
      ["delete /t/seq-0000000001", ["Node does not exist: /t/seq-0000000001"]],
      ["get -w /t", ["again"]],
      ["set /t changed", []], // fires NodeDataChanged /t
      [
        "ls -w /t",
        (l) => assert.deepStrictEqual(parseCliList(l[0]), ["eph", "es-0000000003", "seq-0000000002"])
      ],
      ["create /t/child c", ["Created /t/child"]], // fires NodeChildrenChanged /t
      ["stat -w /later", ["Node does not exist: /later"]], // an exists watch on a missing node
      ["create /later", ["Created /later"]], // fires NodeCreated /later
      ["sync /t", ["Sync is OK"]],
      ["create /t2", ["Created /t2"]],
      ["get /t2", ["null"]],
      ["create /bad/child x", ["Node does not exist: /bad/child"]],
      ["create -t 5000 /ttl x", ["Created /ttl"]],
      ["create -c /cont", ["Created /cont"]],
      ["getEphemerals", (l) => assert.deepStrictEqual(parseCliList(l[0]), ["/t/eph", "/t/es-0000000003"])],
      ["getAllChildrenNumber /t", ["4"]],
      [
        "ls -R /t",
        (l) =>
          assert.deepStrictEqual([...l].sort(), ["/t", "/t/child", "/t/eph", "/t/es-0000000003", "/t/seq-0000000002"])
      ],
      ["whoami", ["Auth scheme: User", "ip: 127.0.0.1"]],
      ["create /pr", ["Created /pr"]],
      ["addWatch -m PERSISTENT_RECURSIVE /pr", []],
      ["create /pr/a x", ["Created /pr/a"]],
      ["set /pr/a y", []],
      ["create /pr/a/b z", ["Created /pr/a/b"]],
      ["delete /pr/a/b", []],
      ["removewatches /pr", []],
      ["set /pr/a after-removal", []]
    ])

    const events = result.events.filter((e) => e.type !== "None")
    assert.deepStrictEqual(
      events.map((e) => `${e.state} ${e.type} ${e.path}`),
      [
        "SyncConnected NodeDataChanged /t",
        "SyncConnected NodeChildrenChanged /t",
        "SyncConnected NodeCreated /later",
        "SyncConnected NodeCreated /pr/a",
        "SyncConnected NodeDataChanged /pr/a",
        "SyncConnected NodeCreated /pr/a/b",
        "SyncConnected NodeDeleted /pr/a/b",
        "SyncConnected PersistentWatchRemoved /pr"
      ],
      result.output
    )
    // Connected first; `quit` may print a Closed event, unless the JVM exits before its event
    // thread gets to it (a zkCli race, seen against both targets).
    const sessionEvents = result.events.filter((e) => e.type === "None").map((e) => e.state)
    assert.oneOf(sessionEvents.join(","), ["SyncConnected", "SyncConnected,Closed"], result.output)

    // A new session: the first session's ephemerals went with it, everything else stayed.
    await runScript(cs, [
      ["ls /t", (l) => assert.deepStrictEqual(parseCliList(l[0]), ["child", "seq-0000000002"])],
      ["getEphemerals", ["[]"]],
      ["get /t", ["changed"]],
      ["get /pr/a", ["after-removal"]],
      ["deleteall /t", []],
      ["ls /t", ["Node does not exist: /t"]],
      [
        "ls /",
        (l) => assert.deepStrictEqual(parseCliList(l[0]), ["cont", "later", "pr", "t2", "ttl", "zookeeper"])
      ]
    ])
  })

  it.skipIf(noZkCli())("ACLs and digest auth", async () => {
    const cs = t.server().connectString
    await runScript(cs, [
      ["create /acl a digest:" + BOB_DIGEST + ":cdrwa", ["Created /acl"]],
      ["get /acl", ["Insufficient permission : /acl"]],
      ["getAcl /acl", ["Insufficient permission : /acl"]],
      ["set /acl x", ["Insufficient permission : /acl"]],
      ["create /acl/child x", ["Insufficient permission : /acl/child"]],
      ["addauth digest bob:bobpw", []],
      ["whoami", (l) => assert.deepStrictEqual([...l].sort(), ["Auth scheme: User", "digest: bob", "ip: 127.0.0.1"])],
      ["get /acl", ["a"]],
      ["getAcl /acl", ["'digest,'" + BOB_DIGEST, ": cdrwa"]],
      ["setAcl -v 3 /acl world:anyone:r", ["version No is not valid : /acl"]],
      ["setAcl /acl world:anyone:r", []],
      ["getAcl /acl", ["'world,'anyone", ": r"]],
      ["set /acl nope", ["Insufficient permission : /acl"]],
      ["stat /acl", (l) => assert.strictEqual(parseCliStat(l).aclVersion, "1")],
      // `auth` scheme: the ACL becomes the session's authenticated identities.
      ["create /acl3 x auth::cdrwa", ["Created /acl3"]],
      ["getAcl /acl3", ["'digest,'" + BOB_DIGEST, ": cdrwa"]],
      ["create /multi x world:anyone:r,digest:" + BOB_DIGEST + ":cdrwa", ["Created /multi"]],
      ["getAcl /multi", ["'world,'anyone", ": r", "'digest,'" + BOB_DIGEST, ": cdrwa"]],
      ["create /ip x ip:127.0.0.1:cdrwa", ["Created /ip"]],
      ["get /ip", ["x"]],
      ["getAcl /ip", ["'ip,'127.0.0.1", ": cdrwa"]]
    ])
    // Without auth: only what world may do.
    await runScript(cs, [
      ["get /acl", ["a"]],
      ["set /acl x", ["Insufficient permission : /acl"]],
      ["get /acl3", ["Insufficient permission : /acl3"]],
      ["delete /acl3", []], // delete needs DELETE on the parent (/ is world:anyone:cdrwa), not on the node
      ["get /multi", ["x"]],
      ["set /multi y", ["Insufficient permission : /multi"]],
      ["get /ip", ["x"]], // the ip scheme matches 127.0.0.1 without any addauth
      ["addauth digest bob:wrong", []],
      ["set /multi y", ["Insufficient permission : /multi"]]
    ])
  })
}, { ensembles: true })
