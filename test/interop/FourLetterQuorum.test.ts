/**
 * The quorum side of the four-letter words, checked against a live Apache ZooKeeper 3.8 ensemble
 * (3 participants + 1 observer, test/support/mixedEnsemble.ts): in each mode, `mntr` prints exactly
 * the keys ezk's Mntr prints for that mode, in the same order, and `conf` is what ezk's formatter
 * makes of the values it shows. test/server/FourLetter.test.ts pins ezk's side of both.
 */
import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import * as Format from "../../src/server/fourLetter/Format.js"
import type { ConfView, ServerMode } from "../../src/server/fourLetter/ServerView.js"
import { apacheZkAvailable, fourLetterWord } from "../support/apacheZk.js"
import { type MixedEnsemble, startMixedEnsemble } from "../support/mixedEnsemble.js"
import { ezkMntrKeys, isSummarySetKey, mntrKeys } from "../support/mntr.js"
import { missingTool } from "../support/requireTool.js"

const noZk = missingTool("Apache ZooKeeper 3.8 (zookeeper.jar)", apacheZkAvailable(), "apt-get install zookeeper")

/** A `conf` reply back into the formatter's input (every value as printed). */
const parseConf = (text: string): { readonly view: ConfView; readonly sizes: { dataDirSize: number; dataLogSize: number } } => {
  const [head, membership] = text.split("membership: \n")
  assert.isDefined(membership, text)
  const kv = new Map(head!.trimEnd().split("\n").map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)] as const))
  const n = (k: string) => {
    assert.isTrue(kv.has(k), `${k} missing from\n${text}`)
    return Number(kv.get(k))
  }
  const lines = membership!.split("\n")
  const version = /^version=([0-9a-f]+)$/.exec(lines.at(-1)!)
  assert.isNotNull(version, text)
  const members = lines.slice(0, -1).map((l) => {
    const m = /^server\.(\d+)=(.*)$/.exec(l)
    assert.isNotNull(m, text)
    return { sid: Number(m![1]), spec: m![2]! }
  })
  const peerType = n("peerType")
  assert.include([0, 1], peerType)
  return {
    view: {
      clientPort: n("clientPort"),
      secureClientPort: n("secureClientPort"),
      dataDir: kv.get("dataDir")!,
      dataLogDir: kv.get("dataLogDir")!,
      tickTime: n("tickTime"),
      maxClientCnxns: n("maxClientCnxns"),
      minSessionTimeout: n("minSessionTimeout"),
      maxSessionTimeout: n("maxSessionTimeout"),
      clientPortListenBacklog: n("clientPortListenBacklog"),
      serverId: n("serverId"),
      quorum: {
        initLimit: n("initLimit"),
        syncLimit: n("syncLimit"),
        electionAlg: n("electionAlg"),
        electionPort: n("electionPort"),
        quorumPort: n("quorumPort"),
        peerType: peerType as 0 | 1,
        members,
        configVersion: parseInt(version![1]!, 16)
      }
    },
    sizes: { dataDirSize: n("dataDirSize"), dataLogSize: n("dataLogSize") }
  }
}

describe.skipIf(noZk)("four-letter words of a live ZooKeeper ensemble (3 participants + 1 observer)", () => {
  let ens: MixedEnsemble
  beforeAll(async () => {
    ens = await startMixedEnsemble({
      peers: [{ sid: 1, kind: "zk" }, { sid: 2, kind: "zk" }, { sid: 3, kind: "zk" }, { sid: 4, kind: "zk", observer: true }],
      tickTime: 2000
    })
    await ens.ready()
  }, 120_000)
  afterAll(() => ens?.stop())

  it("mntr in each mode has exactly the keys, in order, that ezk's Mntr prints for that mode (summary sets aside)", async () => {
    const seen = new Set<string>()
    for (const p of ens.peers) {
      const mode = (await p.mode()) as ServerMode
      seen.add(mode)
      const keys = mntrKeys(await fourLetterWord(p.clientPort, "mntr")).filter((k) => !isSummarySetKey(k))
      assert.deepStrictEqual(keys, ezkMntrKeys(mode), `sid ${p.sid} (${mode})`)
    }
    assert.deepStrictEqual([...seen].sort(), ["follower", "leader", "observer"])
  })

  it("conf on every peer is Format.conf of the values it prints; the observer says peerType=1", async () => {
    for (const p of ens.peers) {
      const text = await fourLetterWord(p.clientPort, "conf")
      const { view, sizes } = parseConf(text)
      assert.strictEqual(Format.conf(view, sizes), text, `sid ${p.sid}`)
      assert.strictEqual(view.serverId, p.sid)
      assert.strictEqual(view.clientPort, p.clientPort)
      assert.strictEqual(view.quorum!.peerType, p.sid === 4 ? 1 : 0)
      assert.deepStrictEqual(
        view.quorum!.members.map((m) => `${m.sid}:${m.spec.split(":").at(-1)}`),
        ["1:participant", "2:participant", "3:participant", "4:observer"]
      )
    }
  })
})
