/**
 * Golden tests for the four-letter words: a ServerView holding the captured server's state must print
 * ZooKeeper 3.8.0's text byte for byte (vectors/four_letter_words.jsonl, ensemble.jsonl).
 */
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Commands from "../../src/server/fourLetter/Commands.js"
import * as Environment from "../../src/server/fourLetter/Environment.js"
import * as Format from "../../src/server/fourLetter/Format.js"
import * as Mntr from "../../src/server/fourLetter/Mntr.js"
import {
  FOUR_LETTER_WORDS,
  type ConnectionView,
  type FourLetterWord,
  type ServerView
} from "../../src/server/fourLetter/ServerView.js"
import { readVector } from "../wire/vectors.js"

// ---------------------------------------------------------------------------------------------
// Vector access

interface VectorLine {
  readonly conn: number
  readonly flow: string
  readonly port: number
  readonly hex: string
  readonly note?: string
}

const lines = (file: string): Array<VectorLine> =>
  readVector(file)
    .toString("utf8")
    .split("\n")
    .filter((l) => l.trim() !== "")
    .map((l) => JSON.parse(l) as VectorLine)

const FLW = lines("four_letter_words.jsonl")
const text = (l: VectorLine): string => Buffer.from(l.hex, "hex").toString("utf8")

/** The reply to `word` in four_letter_words.jsonl. */
const reply = (word: string): string => {
  const req = FLW.find((l) => l.flow === "client->server" && text(l) === word)
  assert.isDefined(req, `no request for ${word}`)
  const res = FLW.find((l) => l.conn === req!.conn && l.flow === "server->client")
  assert.isDefined(res, `no reply for ${word}`)
  return text(res!)
}

// ---------------------------------------------------------------------------------------------
// A view holding the captured standalone server's state

const VERSION = "3.8.0-${mvngit.commit.id}, built on 2024-12-29 17:54 UTC"
const SID = 0x100000bf85f0007n
const utc = (h: number, m: number, s: number): number => Date.UTC(2026, 10, 25, h, m, s)

const sessionConn: ConnectionView = {
  remoteAddress: "127.0.0.1",
  remotePort: 37676,
  interestOps: 1,
  queued: 0,
  packetsReceived: 4,
  packetsSent: 4,
  session: {
    sessionId: SID,
    lastOperation: "GETC",
    established: 1795592186440,
    timeout: 30000,
    lastCxid: 3,
    lastZxid: 0x36,
    lastResponseTime: 805308,
    lastLatency: 1,
    minLatency: 0,
    avgLatency: 1,
    maxLatency: 3
  }
}
const asking = (port: number): ConnectionView => ({
  remoteAddress: "::ffff:127.0.0.1", // a dual-stack Node socket reports IPv4-mapped addresses
  remotePort: port,
  interestOps: 0,
  queued: 0,
  packetsReceived: 1,
  packetsSent: 0,
  session: undefined
})

/** Parses the captured mntr text into the MntrView a server would supply (core keys excluded). */
const mntrFromVector = (t: string) => {
  const kv = new Map(t.trimEnd().split("\n").map((l) => l.split("\t") as [string, string]))
  const num = (k: string) => Number(kv.get(`zk_${k}`))
  const counters: Record<string, number> = {}
  for (const k of Mntr.gaugeKeys("standalone")) if (kv.has(`zk_${k}`)) counters[k] = Number(kv.get(`zk_${k}`))
  const stats = (name: string): Mntr.SummaryStats => ({
    count: num(`cnt_${name}`),
    sum: num(`sum_${name}`),
    min: num(`min_${name}`),
    max: num(`max_${name}`),
    ...(kv.has(`zk_p50_${name}`)
      ? { p50: num(`p50_${name}`), p95: num(`p95_${name}`), p99: num(`p99_${name}`), p999: num(`p999_${name}`) }
      : {})
  })
  const summaries: Record<string, Mntr.SummaryStats> = {}
  for (const [name] of Mntr.summaryKeys) summaries[name] = stats(name)
  const set = (suffix: string) =>
    [...kv.keys()]
      .filter((k) => k.startsWith("zk_avg_") && k.endsWith(`_${suffix}`))
      .map((k) => k.slice("zk_avg_".length, -(suffix.length + 1)))
      .map((ns) => [ns, stats(`${ns}_${suffix}`)] as const)
  return {
    view: {
      ephemeralsCount: num("ephemerals_count"),
      globalSessions: num("global_sessions"),
      watchCount: num("watch_count"),
      uptime: num("uptime"),
      counters,
      summaries,
      summarySets: { readPerNamespace: set("read_per_namespace"), writePerNamespace: set("write_per_namespace") }
    } satisfies Mntr.MntrView,
    kv
  }
}

interface Calls {
  crst: number
  srst: number
  mask: bigint | undefined
}

const makeView = (over: Partial<ServerView> = {}, calls: Calls = { crst: 0, srst: 0, mask: undefined }): ServerView => {
  const mntrText = reply("mntr")
  const { view: mntrView } = mntrFromVector(mntrText)
  return {
    isServing: () => true,
    version: VERSION,
    mode: () => "standalone",
    stats: () => ({
      latency: { min: 0, avg: 3.8667, max: 96 },
      packetsReceived: 107,
      packetsSent: 113,
      numAliveConnections: 2,
      outstandingRequests: 0,
      lastProcessedZxid: 0x36,
      nodeCount: 21
    }),
    proposalSizes: () => undefined,
    connections: () => [sessionConn, asking(37722)],
    dataWatches: () => ({ byPath: [["/w", [SID]]], bySession: [[SID, ["/w"]]] }),
    ephemerals: () => [[SID, ["/w"]]],
    sessionExpiry: () => [
      { expiresAt: utc(7, 36, 29), items: [0x100000bf85f0006n, 0x100000bf85f0004n] },
      { expiresAt: utc(7, 36, 31), items: [] },
      { expiresAt: utc(7, 36, 33), items: [] },
      { expiresAt: utc(7, 36, 55), items: [] },
      { expiresAt: utc(7, 36, 57), items: [SID] },
      { expiresAt: utc(7, 37, 5), items: [] }
    ],
    connectionExpiry: () => [
      { expiresAt: utc(7, 36, 31), items: [] },
      { expiresAt: utc(7, 36, 41), items: [{ remoteAddress: "127.0.0.1", remotePort: 37764, sessionId: 0n }] },
      { expiresAt: utc(7, 37, 1), items: [{ remoteAddress: "127.0.0.1", remotePort: 37676, sessionId: SID }] },
      { expiresAt: utc(7, 37, 11), items: [] }
    ],
    conf: () => ({
      clientPort: 32100,
      secureClientPort: -1,
      dataDir: "$SCRATCH/standalone/data/version-2",
      dataLogDir: "$SCRATCH/standalone/data/version-2",
      tickTime: 2000,
      maxClientCnxns: 60,
      minSessionTimeout: 4000,
      maxSessionTimeout: 40000,
      clientPortListenBacklog: -1,
      serverId: 0,
      quorum: undefined
    }),
    dirSizes: Effect.succeed({ dataDirSize: 16857, dataLogSize: 16857 }),
    environment: () =>
      reply("envi")
        .split("\n")
        .slice(1, -1)
        .map((l) => {
          const eq = l.indexOf("=")
          return [l.slice(0, eq), l.slice(eq + 1)] as const
        }),
    mntr: () => mntrView,
    traceMask: () => 0x1234n, // not ZooKeeper's default 306, so a reply shows where it came from
    digestLog: () => [],
    resetConnectionStats: Effect.sync(() => void calls.crst++),
    resetServerStats: Effect.sync(() => void calls.srst++),
    setTraceMask: (m) => Effect.sync(() => void (calls.mask = m)),
    ...over
  }
}

const ALL: ReadonlySet<FourLetterWord> = new Set(FOUR_LETTER_WORDS)
const run = (view: ServerView, word: FourLetterWord, arg?: bigint) => Commands.execute(view, ALL, word, arg)

// ---------------------------------------------------------------------------------------------

describe("four-letter words: golden text (four_letter_words.jsonl)", () => {
  it.effect("ruok, isro, gtmk", () =>
    Effect.gen(function* () {
      const v = makeView()
      assert.strictEqual(yield* run(v, "ruok"), reply("ruok"))
      assert.strictEqual(yield* run(v, "isro"), reply("isro"))
      // Formatting only: the default mask itself is checked on both servers in interop/FourLetterWords.
      assert.strictEqual(yield* run(makeView({ traceMask: () => BigInt(reply("gtmk")) }), "gtmk"), reply("gtmk"))
    }))

  it.effect("srvr", () =>
    Effect.gen(function* () {
      assert.strictEqual(yield* run(makeView(), "srvr"), reply("srvr"))
    }))

  it.effect("stat (brief connection lines)", () =>
    Effect.gen(function* () {
      const v = makeView({
        stats: () => ({ ...makeView().stats(), packetsReceived: 108, packetsSent: 114 })
      })
      assert.strictEqual(yield* run(v, "stat"), reply("stat"))
    }))

  it.effect("cons (full connection lines; a connection without a session stays brief)", () =>
    Effect.gen(function* () {
      const v = makeView({ connections: () => [asking(37736), sessionConn] })
      assert.strictEqual(yield* run(v, "cons"), reply("cons"))
    }))

  it.effect("wchs, wchc, wchp (data-watch table only)", () =>
    Effect.gen(function* () {
      const v = makeView()
      assert.strictEqual(yield* run(v, "wchs"), reply("wchs"))
      assert.strictEqual(yield* run(v, "wchc"), reply("wchc"))
      assert.strictEqual(yield* run(v, "wchp"), reply("wchp"))
    }))

  it.effect("dump (expiry buckets, ephemerals, connections)", () =>
    Effect.gen(function* () {
      assert.strictEqual(yield* run(makeView(), "dump"), reply("dump"))
    }))

  it.effect("conf (sanitised paths as in the vector)", () =>
    Effect.gen(function* () {
      assert.strictEqual(yield* run(makeView(), "conf"), reply("conf"))
    }))

  it.effect("dirs", () =>
    Effect.gen(function* () {
      assert.strictEqual(yield* run(makeView(), "dirs"), reply("dirs"))
    }))

  it.effect("envi (given the captured environment)", () =>
    Effect.gen(function* () {
      assert.strictEqual(yield* run(makeView(), "envi"), reply("envi"))
    }))

  it.effect("mntr: every key, order and number format", () =>
    Effect.gen(function* () {
      const expected = reply("mntr")
      const kv = new Map(expected.trimEnd().split("\n").map((l) => l.split("\t") as [string, string]))
      const v = makeView({
        stats: () => ({
          latency: { min: 0, avg: Number(kv.get("zk_avg_latency")), max: Number(kv.get("zk_max_latency")) },
          packetsReceived: Number(kv.get("zk_packets_received")),
          packetsSent: Number(kv.get("zk_packets_sent")),
          numAliveConnections: 2,
          outstandingRequests: 0,
          lastProcessedZxid: 0x36,
          nodeCount: Number(kv.get("zk_znode_count"))
        })
      })
      const got = yield* run(v, "mntr")
      // Line by line first, for a readable failure; then the whole text.
      const g = got.split("\n")
      const e = expected.split("\n")
      for (let i = 0; i < Math.max(g.length, e.length); i++) assert.strictEqual(g[i], e[i], `mntr line ${i + 1}`)
      assert.strictEqual(got, expected)
    }))

  it("mntr averages are sum/count rounded to 4 decimals, as ZooKeeper computes them", () => {
    const kv = new Map(reply("mntr").trimEnd().split("\n").map((l) => l.split("\t") as [string, string]))
    let checked = 0
    for (const [k, avg] of kv) {
      if (!k.startsWith("zk_avg_") || k === "zk_avg_latency") continue
      const name = k.slice("zk_avg_".length)
      const sum = Number(kv.get(`zk_sum_${name}`))
      const cnt = Number(kv.get(`zk_cnt_${name}`))
      assert.strictEqual(Format.javaDouble(Format.avg4(sum, cnt)), avg, k)
      checked++
    }
    assert.isAbove(checked, 70)
  })

  it("an empty mntr (fresh server) prints zeros, -1 for response sizes, 0.0 for doubles", () => {
    const out = Mntr.formatMntr({
      version: VERSION,
      mode: "standalone",
      minLatency: 0,
      avgLatency: 0,
      maxLatency: 0,
      packetsSent: 0,
      packetsReceived: 0,
      numAliveConnections: 1,
      outstandingRequests: 0,
      znodeCount: 5,
      view: { ephemeralsCount: 0, globalSessions: 0, watchCount: 0, uptime: 10, counters: {}, summaries: {} }
    })
    const kv = new Map(out.trimEnd().split("\n").map((l) => l.split("\t") as [string, string]))
    assert.strictEqual(kv.size, 485) // test/interop/FourLetterWords.test.ts: a live 3.8 server prints exactly these keys
    assert.strictEqual(kv.get("zk_avg_latency"), "0.0")
    assert.strictEqual(kv.get("zk_connection_drop_probability"), "0.0")
    assert.strictEqual(kv.get("zk_last_client_response_size"), "-1")
    assert.strictEqual(kv.get("zk_min_client_response_size"), "-1")
    assert.strictEqual(kv.get("zk_avg_fsynctime"), "0.0")
    assert.strictEqual(kv.get("zk_p999_readlatency"), "0")
  })
})

describe("four-letter words: modes, whitelist, not serving (ensemble.jsonl, live 3.8.0)", () => {
  const ENS = lines("ensemble.jsonl")
  const ensReply = (conn: number) => text(ENS.find((l) => l.conn === conn && l.flow.endsWith("->client"))!)

  it.effect("leader srvr adds Proposal sizes after Node count", () =>
    Effect.gen(function* () {
      const v = makeView({
        mode: () => "leader",
        stats: () => ({
          latency: { min: 0, avg: 0, max: 0 },
          packetsReceived: 1,
          packetsSent: 0,
          numAliveConnections: 1,
          outstandingRequests: 0,
          lastProcessedZxid: 0x100000000,
          nodeCount: 5
        }),
        proposalSizes: () => ({ last: -1, min: -1, max: -1 })
      })
      assert.strictEqual(yield* run(v, "srvr"), ensReply(21))
    }))

  it.effect("follower srvr", () =>
    Effect.gen(function* () {
      const v = makeView({
        mode: () => "follower",
        stats: () => ({
          latency: { min: 0, avg: 0, max: 0 },
          packetsReceived: 1,
          packetsSent: 0,
          numAliveConnections: 1,
          outstandingRequests: 0,
          lastProcessedZxid: 0x200000006,
          nodeCount: 9
        })
      })
      assert.strictEqual(yield* run(v, "srvr"), ensReply(46))
    }))

  it.effect("not serving: srvr and friends print ZK_NOT_SERVING; ruok/envi/gtmk still answer; isro says null", () =>
    Effect.gen(function* () {
      const v = makeView({ isServing: () => false })
      assert.strictEqual(yield* run(v, "srvr"), ensReply(1))
      assert.strictEqual(Format.NOT_SERVING, ensReply(1))
      for (const w of ["stat", "cons", "conf", "dirs", "dump", "mntr", "wchs", "wchc", "wchp", "crst", "srst", "hash"] as const) {
        assert.strictEqual(yield* run(v, w), Format.NOT_SERVING, w)
      }
      assert.strictEqual(yield* run(v, "ruok"), "imok")
      assert.strictEqual(yield* run(v, "isro"), "null")
      assert.strictEqual(yield* run(v, "gtmk"), "4660")
      assert.isTrue((yield* run(v, "envi")).startsWith("Environment:\n"))
    }))

  it.effect("a word outside the whitelist gets ZooKeeper's refusal line", () =>
    Effect.gen(function* () {
      const wl = new Set<FourLetterWord>(["srvr", "ruok"])
      assert.strictEqual(yield* Commands.execute(makeView(), wl, "conf"), "conf is not executed because it is not in the whitelist.\n")
      assert.strictEqual(yield* Commands.execute(makeView(), wl, "ruok"), "imok")
    }))

  it.effect("crst / srst / stmk call their hooks and print 3.8.0's replies", () =>
    Effect.gen(function* () {
      const calls: Calls = { crst: 0, srst: 0, mask: undefined }
      const v = makeView({}, calls)
      assert.strictEqual(yield* run(v, "crst"), "Connection stats reset.\n")
      assert.strictEqual(yield* run(v, "srst"), "Server stats reset.\n")
      assert.strictEqual(yield* run(v, "stmk", 0x3fn), "63")
      assert.deepStrictEqual(calls, { crst: 1, srst: 1, mask: 0x3fn })
    }))

  it.effect("cons after crst: lop=NA, no lcxid, lzxid=0xffffffffffffffff (live 3.8: test/interop/FourLetterWords.test.ts)", () =>
    Effect.gen(function* () {
      const reset: ConnectionView = {
        ...sessionConn,
        packetsReceived: 0,
        packetsSent: 0,
        session: {
          ...sessionConn.session!,
          lastOperation: Format.NO_LAST_OP,
          lastCxid: -1,
          lastZxid: -1,
          lastResponseTime: 0,
          lastLatency: 0,
          minLatency: 0,
          avgLatency: 0,
          maxLatency: 0
        }
      }
      const out = yield* run(makeView({ connections: () => [reset] }), "cons")
      assert.strictEqual(
        out,
        " /127.0.0.1:37676[1](queued=0,recved=0,sent=0,sid=0x100000bf85f0007,lop=NA,est=1795592186440,to=30000," +
          "lzxid=0xffffffffffffffff,lresp=0,llat=0,minlat=0,avglat=0,maxlat=0)\n\n"
      )
    }))

  it.effect("hash prints `<zxid hex>: <digest>` lines (live 3.8: test/interop/FourLetterWords.test.ts)", () =>
    Effect.gen(function* () {
      const v = makeView({ digestLog: () => [{ zxid: 0x80, digest: 259866728569n }, { zxid: 0x100, digest: 542542226298n }] })
      assert.strictEqual(yield* run(v, "hash"), "80: 259866728569\n100: 542542226298\n")
    }))

  it("quorum conf lines of an observer (live 3.8 ensemble: test/interop/FourLetterQuorum.test.ts)", () => {
    const out = Format.conf(
      {
        ...makeView().conf(),
        clientPort: 32184,
        dataDir: "/tmp/zke/d4/version-2",
        dataLogDir: "/tmp/zke/d4/version-2",
        serverId: 4,
        quorum: {
          initLimit: 10,
          syncLimit: 5,
          electionAlg: 3,
          electionPort: 32294,
          quorumPort: 32284,
          peerType: 1,
          members: [
            { sid: 1, spec: "127.0.0.1:32281:32291:participant" },
            { sid: 2, spec: "127.0.0.1:32282:32292:participant" },
            { sid: 3, spec: "127.0.0.1:32283:32293:participant" },
            { sid: 4, spec: "127.0.0.1:32284:32294:observer" }
          ],
          configVersion: 0
        }
      },
      { dataDirSize: 637, dataLogSize: 637 }
    )
    assert.strictEqual(
      out,
      "clientPort=32184\nsecureClientPort=-1\ndataDir=/tmp/zke/d4/version-2\ndataDirSize=637\n" +
        "dataLogDir=/tmp/zke/d4/version-2\ndataLogSize=637\ntickTime=2000\nmaxClientCnxns=60\n" +
        "minSessionTimeout=4000\nmaxSessionTimeout=40000\nclientPortListenBacklog=-1\nserverId=4\n" +
        "initLimit=10\nsyncLimit=5\nelectionAlg=3\nelectionPort=32294\nquorumPort=32284\npeerType=1\nmembership: \n" +
        "server.1=127.0.0.1:32281:32291:participant\nserver.2=127.0.0.1:32282:32292:participant\n" +
        "server.3=127.0.0.1:32283:32293:participant\nserver.4=127.0.0.1:32284:32294:observer\nversion=0"
    )
  })

  it("mntr gauge order per mode (test/interop/FourLetterQuorum.test.ts compares every mode with a live 3.8 ensemble)", () => {
    // The keys that differ from standalone, in place.
    const follower = Mntr.gaugeKeys("follower")
    assert.deepStrictEqual(follower.slice(0, 4), ["version", "server_state", "peer_state", "ephemerals_count"])
    assert.strictEqual(follower[follower.indexOf("non_mtls_local_conn_count") + 1], "quorum_size")
    assert.strictEqual(follower.length, 75)
    const observer = Mntr.gaugeKeys("observer")
    assert.deepStrictEqual(observer.slice(2, 4), ["peer_state", "observer_master_id"])
    assert.strictEqual(observer.length, 76)
    const leader = Mntr.gaugeKeys("leader")
    assert.strictEqual(leader.length, 84)
    assert.deepStrictEqual(leader.slice(0, 10), [
      "version",
      "server_state",
      "peer_state",
      "ephemerals_count",
      "num_alive_connections",
      "avg_latency",
      "min_proposal_size",
      "outstanding_requests",
      "znode_count",
      "global_sessions"
    ])
    assert.deepStrictEqual(
      leader.filter((k) => !Mntr.gaugeKeys("follower").includes(k)),
      [
        "min_proposal_size",
        "max_proposal_size",
        "synced_followers",
        "synced_non_voting_followers",
        "synced_observers",
        "last_proposal_size",
        "pending_syncs",
        "leader_uptime",
        "learners"
      ]
    )
    assert.strictEqual(Mntr.gaugeKeys("standalone").length, 73)
  })

  it("every mntr key has a documented source", () => {
    for (const k of Mntr.gaugeKeys("leader")) assert.isTrue(Mntr.sources.has(k), k)
    for (const [k] of Mntr.summaryKeys) assert.isTrue(Mntr.sources.has(k), k)
  })
})

describe("four-letter words: registry and Java rendering", () => {
  it("parseWord recognises exactly the known words", () => {
    assert.strictEqual(Commands.parseWord(Buffer.from("ruok")), "ruok")
    assert.strictEqual(Commands.parseWord(Buffer.from("stmk\0\0\0\0\0\0\x01\x32")), "stmk")
    assert.isUndefined(Commands.parseWord(Buffer.from("xyzw"))) // conn 16: treated as a frame length
    assert.isUndefined(Commands.parseWord(Buffer.from("ruo")))
    assert.isUndefined(Commands.parseWord(Uint8Array.of(0, 0, 0, 45)))
    assert.strictEqual(Commands.registry.get("stmk")!.argBytes, 8)
    assert.strictEqual(Commands.registry.size, FOUR_LETTER_WORDS.length)
  })

  it("javaDouble matches Double.toString", () => {
    assert.strictEqual(Format.javaDouble(0), "0.0")
    assert.strictEqual(Format.javaDouble(1), "1.0")
    assert.strictEqual(Format.javaDouble(3.8667), "3.8667")
    assert.strictEqual(Format.javaDouble(0.044), "0.044")
    assert.strictEqual(Format.javaDouble(86.2222), "86.2222")
    assert.strictEqual(Format.javaDouble(1e7), "1.0E7")
    assert.strictEqual(Format.javaDouble(12345678.9), "1.23456789E7")
    assert.strictEqual(Format.javaDouble(0.0001), "1.0E-4")
    assert.strictEqual(Format.javaDouble(0.001), "0.001")
  })

  it("longHex, javaSocketAddress, javaDate, lastOpCode", () => {
    assert.strictEqual(Format.longHex(-1), "ffffffffffffffff")
    assert.strictEqual(Format.longHex(0x36), "36")
    assert.strictEqual(Format.longHex(0xfedcba9876543210n), "fedcba9876543210")
    assert.strictEqual(Format.javaSocketAddress("::ffff:10.0.0.1", 5), "/10.0.0.1:5")
    assert.strictEqual(Format.javaSocketAddress("::1", 2181), "/0:0:0:0:0:0:0:1:2181")
    assert.strictEqual(Format.javaSocketAddress("fe80::a:0b%eth0", 1), "/fe80:0:0:0:0:0:a:b%eth0:1")
    assert.strictEqual(Format.javaDate(Date.UTC(2026, 10, 25, 7, 36, 29)), "Wed Nov 25 07:36:29 UTC 2026")
    assert.strictEqual(Format.javaDate(Date.UTC(2027, 0, 3, 0, 0, 5)), "Sun Jan 03 00:00:05 UTC 2027")
    // Observed with kazoo against 3.8.0: create/exists/getData/setData/getACL/setACL/getChildren(2)/sync/multi/delete/ping.
    const seen = [1, 3, 4, 5, 6, 7, 8, 12, 9, 14, 2, 11].map(Format.lastOpCode)
    assert.deepStrictEqual(seen, ["CREA", "EXIS", "GETD", "SETD", "GETA", "SETA", "GETC", "GETC", "SYNC", "MULT", "DELE", "PING"])
    assert.isUndefined(Format.lastOpCode(100)) // auth leaves lop unchanged
  })

  it("nodeEnvironment keeps ZooKeeper's envi keys and order, with Node values", () => {
    const env = Environment.nodeEnvironment(VERSION)
    const expectedKeys = reply("envi")
      .split("\n")
      .slice(1, -1)
      .map((l) => l.slice(0, l.indexOf("=")))
    assert.deepStrictEqual(
      env.map(([k]) => k),
      expectedKeys
    )
    const m = new Map(env)
    assert.strictEqual(m.get("zookeeper.version"), VERSION)
    assert.strictEqual(m.get("java.version"), process.versions.node)
    assert.strictEqual(m.get("java.compiler"), "<NA>")
    assert.strictEqual(m.get("user.dir"), process.cwd())
    for (const k of ["os.memory.free", "os.memory.max", "os.memory.total"]) assert.match(m.get(k)!, /^\d+MB$/, k)
    assert.match(m.get("os.arch")!, /^(amd64|aarch64|x86|arm|ppc64le|s390x|riscv64|\w+)$/)
    if (process.platform === "linux") {
      assert.strictEqual(m.get("os.name"), "Linux")
      const fds = Environment.fileDescriptorCounts()
      assert.isAbove(fds.open, 2)
      assert.isAbove(fds.max, 0)
    }
  })
})
