/**
 * Four-letter words over a raw socket, as monitoring scripts send them (`echo ruok | nc`): the
 * word is the first 4 bytes of a fresh connection, the reply is text and the server closes. A
 * node-zookeeper-client session creates known state first so the counters can be checked.
 * The version text legitimately differs between targets, so only its shape is asserted.
 */
import { afterAll, assert, beforeAll, it } from "@effect/vitest"
import * as net from "node:net"
import { fourLetterWord } from "../support/apacheZk.js"
import { describeTargets, type TargetUnderTest } from "../support/targets.js"
import { connectNzk, long, nzk, type NzkClient } from "./nodeZk.js"
import * as Format from "../../src/server/fourLetter/Format.js"
import { ezkMntrKeys, isSummarySetKey, mntrKeys } from "../support/mntr.js"

/** `key: value` / `key=value` / `key\tvalue` lines into a map. */
const fields = (text: string, sep: RegExp): Record<string, string> => {
  const out: Record<string, string> = {}
  for (const line of text.split("\n")) {
    const m = sep.exec(line)
    if (m !== null) out[m[1]!] = m[2]!
  }
  return out
}

const isInt = (s: string | undefined) => assert.match(s ?? "", /^-?\d+$/)

/**
 * Sends the word without half-closing (as a client that keeps its socket open does); the server
 * must still answer and close. (apacheZk's `fourLetterWord` half-closes, like `echo ruok | nc`.)
 */
const wordKeepOpen = (port: number, w: string): Promise<string> =>
  new Promise((resolve, reject) => {
    const socket = net.connect({ host: "127.0.0.1", port })
    let out = ""
    const timer = setTimeout(() => {
      socket.destroy()
      reject(new Error(`${w}: server did not close within 3s; got ${JSON.stringify(out)}`))
    }, 3000)
    socket.on("connect", () => socket.write(w))
    socket.on("data", (d: Buffer) => (out += d.toString("utf8")))
    socket.on("error", () => {})
    socket.on("close", () => {
      clearTimeout(timer)
      resolve(out)
    })
  })

describeTargets("four-letter words", (t: TargetUnderTest) => {
  let client: NzkClient
  let lastZxid = 0n
  beforeAll(async () => {
    client = await connectNzk(t.server().connectString)
    await client.create("/fl", Buffer.from("x"))
    await client.create("/fl/a", Buffer.from("a"))
    await client.create("/fl/e", Buffer.from("e"), undefined, nzk.CreateMode.EPHEMERAL)
    lastZxid = long((await client.setData("/fl/a", Buffer.from("b"))).mzxid)
    await client.getData("/fl", () => {}) // one data watch on one path
  })
  afterAll(() => client?.close())
  const word = (w: string) => fourLetterWord(t.server().port, w)

  it("ruok, isro, gtmk (the default trace mask, 306)", async () => {
    assert.strictEqual(await word("ruok"), "imok")
    assert.strictEqual(await word("isro"), "rw")
    assert.strictEqual(await word("gtmk"), "306")
  })

  it("srvr and stat", async () => {
    const srvr = await word("srvr")
    const f = fields(srvr, /^([^:]+): (.*)$/)
    assert.match(srvr, /^Zookeeper version: \S+/, srvr)
    assert.strictEqual(f.Mode, "standalone", srvr)
    // A fresh standalone server counts 5 (/, /zookeeper, /zookeeper/quota, /zookeeper/config and
    // the root's "" alias), plus our three.
    assert.strictEqual(f["Node count"], "8", srvr)
    assert.strictEqual(f.Zxid, `0x${lastZxid.toString(16)}`, srvr)
    assert.match(f["Latency min/avg/max"] ?? "", /^\d+\/[\d.]+\/\d+$/, srvr)
    for (const k of ["Received", "Sent", "Connections", "Outstanding"]) isInt(f[k])
    assert.isAtLeast(Number(f.Connections), 1, srvr)
    assert.deepStrictEqual(
      srvr
        .trimEnd()
        .split("\n")
        .map((l) => l.split(":")[0]),
      ["Zookeeper version", "Latency min/avg/max", "Received", "Sent", "Connections", "Outstanding", "Zxid", "Mode", "Node count"],
      srvr
    )

    const stat = await word("stat")
    const lines = stat.split("\n")
    assert.match(lines[0] ?? "", /^Zookeeper version: /, stat)
    assert.strictEqual(lines[1], "Clients:", stat)
    // Our client's connection (and this one's) as ` /127.0.0.1:<port>[<ops>](queued=..,recved=..,sent=..)`.
    const clientLines = lines.slice(2, lines.indexOf("", 2))
    assert.isAtLeast(clientLines.length, 1, stat)
    for (const l of clientLines) assert.match(l, /^ \/127\.0\.0\.1:\d+\[\d+\]\(queued=\d+,recved=\d+,sent=\d+/, stat)
    assert.match(stat, /\nMode: standalone\n/)
    assert.match(stat, /\nNode count: 8\n/)
  })

  it("mntr", async () => {
    const mntr = await word("mntr")
    const f = fields(mntr, /^(zk_\w+)\t(.*)$/)
    assert.strictEqual(f.zk_server_state, "standalone", mntr)
    assert.strictEqual(f.zk_znode_count, "8", mntr)
    assert.strictEqual(f.zk_ephemerals_count, "1", mntr)
    assert.strictEqual(f.zk_watch_count, "1", mntr)
    assert.isAtLeast(Number(f.zk_num_alive_connections), 1, mntr)
    assert.isString(f.zk_version)
    // Paths plus data of every node: nodes with data exist, so it cannot be 0.
    assert.isAbove(Number(f.zk_approximate_data_size), 0, mntr)
    for (const k of [
      "zk_outstanding_requests",
      "zk_packets_received",
      "zk_packets_sent",
      "zk_approximate_data_size",
      "zk_min_latency",
      "zk_max_latency"
    ]) {
      isInt(f[k])
    }
    assert.match(f.zk_avg_latency ?? "", /^\d+(\.\d+)?$/, mntr)
    // Every line is `zk_<key>\t<value>`.
    for (const line of mntr.trimEnd().split("\n")) assert.match(line, /^zk_\w+\t.*$/, mntr)
  })

  it("conf, envi, dirs", async () => {
    const conf = fields(await word("conf"), /^([\w.]+)=(.*)$/)
    assert.strictEqual(conf.clientPort, String(t.server().port))
    assert.strictEqual(conf.tickTime, "2000")
    assert.strictEqual(conf.minSessionTimeout, "4000")
    assert.strictEqual(conf.maxSessionTimeout, "40000")
    // ZooKeeper reports the snapshot dir itself, <dataDir>/version-2.
    assert.strictEqual(conf.dataDir, `${t.server().dataDir}/version-2`)
    const envi = await word("envi")
    assert.match(envi, /^Environment:\n/)
    assert.match(envi, /\nzookeeper\.version=\S/)
    const dirs = await word("dirs")
    assert.match(dirs, /^datadir_size: \d+\nlogdir_size: \d+\n$/, dirs)
  })

  it("wchs, wchc, wchp, cons, dump", async () => {
    assert.strictEqual(await word("wchs"), "1 connections watching 1 paths\nTotal watches:1\n")
    const sid = `0x${client.sessionId().toString(16)}`
    assert.strictEqual(await word("wchc"), `${sid}\n\t/fl\n\n`)
    assert.strictEqual(await word("wchp"), `/fl\n\t${sid}\n\n`)
    const cons = await word("cons")
    assert.include(cons, `sid=${sid},`, cons)
    const dump = await word("dump")
    assert.match(dump, /^SessionTracker dump:\n/, dump)
    assert.include(dump, "ephemeral nodes dump:\nSessions with Ephemerals (1):\n", dump)
    assert.include(dump, `${sid}:\n\t/fl/e\n`, dump)
  })

  it("half-closing after the word or not gives the same answers", async () => {
    for (const w of ["ruok", "srvr", "conf", "dirs", "envi", "wchs", "isro"]) {
      const open = await wordKeepOpen(t.server().port, w)
      const halfClosed = await word(w)
      assert.isAbove(open.length, 0, `${w} without half-close: empty reply`)
      assert.isAbove(halfClosed.length, 0, `${w} after half-close: empty reply (\`echo ${w} | nc\` style)`)
      // Counters move between the two calls; compare the line structure.
      const keys = (text: string) => text.split("\n").map((l) => l.split(/[:=\t]/)[0])
      assert.deepStrictEqual(keys(halfClosed), keys(open), w)
    }
  })

  it("an unknown word is read as a frame length and the connection is closed without a reply", async () => {
    assert.strictEqual(await word("xyzw"), "")
    assert.strictEqual(await word("ruok"), "imok")
  })

  it("mntr has exactly the keys, in order, that ezk's Mntr prints for standalone (485; summary sets aside)", async () => {
    const keys = mntrKeys(await word("mntr")).filter((k) => !isSummarySetKey(k))
    assert.strictEqual(keys.length, 485)
    assert.deepStrictEqual(keys, ezkMntrKeys("standalone"))
  })

  // Last: crst resets the counters the tests above read.
  it("cons after crst: the session's line has lop=NA, no lcxid, lzxid=0xffffffffffffffff", async () => {
    assert.strictEqual(await word("crst"), "Connection stats reset.\n")
    const sid = `0x${client.sessionId().toString(16)}`
    const cons = await word("cons")
    const line = cons.split("\n").find((l) => l.includes(`sid=${sid},`))
    assert.isDefined(line, cons)
    assert.match(
      line!,
      new RegExp(`^ /127\\.0\\.0\\.1:\\d+\\[1\\]\\(queued=0,recved=0,sent=0,sid=${sid},lop=NA,est=\\d+,to=\\d+,lzxid=0xffffffffffffffff,lresp=0,llat=0,minlat=0,avglat=0,maxlat=0\\)$`)
    )
  })
})

describeTargets("hash", (t) => {
  it("after 300 txns: one `<zxid hex>: <digest>` line for each multiple of 128 up to the last zxid, as Format.hash prints them", async () => {
    const client = await connectNzk(t.server().connectString)
    let last = 0
    try {
      await client.create("/h", Buffer.from("0"))
      for (let i = 1; i <= 300; i++) last = Number(long((await client.setData("/h", Buffer.from(String(i)))).mzxid))
    } finally {
      client.close()
    }
    const text = await fourLetterWord(t.server().port, "hash")
    const entries = text.trimEnd().split("\n").map((l) => {
      const m = /^([0-9a-f]+): (-?\d+)$/.exec(l)
      assert.isNotNull(m, text)
      return { zxid: parseInt(m![1]!, 16), digest: BigInt(m![2]!) }
    })
    // A fresh server: its zxids count from 1, so every multiple of 128 up to `last` was applied.
    const expected = Array.from({ length: Math.floor(last / 128) }, (_, i) => (i + 1) * 128)
    assert.deepStrictEqual(entries.map((e) => e.zxid), expected, text)
    assert.strictEqual(new Set(entries.map((e) => e.digest)).size, entries.length, `each digest differs (the tree changed between them): ${text}`)
    assert.strictEqual(Format.hash(entries), text)
  })
})

describeTargets(
  "four-letter words outside the whitelist",
  (t) => {
    it("answer that they are not executed", async () => {
      assert.strictEqual(await fourLetterWord(t.server().port, "ruok"), "imok")
      assert.match(await fourLetterWord(t.server().port, "srvr"), /^Zookeeper version: /)
      assert.strictEqual(
        await fourLetterWord(t.server().port, "mntr"),
        "mntr is not executed because it is not in the whitelist.\n"
      )
      assert.strictEqual(
        await fourLetterWord(t.server().port, "stat"),
        "stat is not executed because it is not in the whitelist.\n"
      )
    })
  },
  // apacheZk.ts needs `conf` to tell when its server is up.
  { config: { "4lw.commands.whitelist": "srvr, ruok,conf" } }
)
