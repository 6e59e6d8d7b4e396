/** ZkConfig: the .properties reader, ZooKeeper's defaults and rules, layering of flags, warnings. */
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Logger from "effect/Logger"
import * as LogLevel from "effect/LogLevel"
import { existsSync, mkdtempSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import * as Config from "../../src/server/Config.js"
import * as Properties from "../../src/server/internal/properties.js"
import { missingTool } from "../support/requireTool.js"

const props = (text: string) => Properties.toMap(Properties.parse(text))

/** Decodes zoo.cfg text (ZooKeeper semantics: no embedded defaults) plus optional layered settings. */
const decodeCfg = (text: string, extra: Record<string, string> = {}) =>
  Either.flatMap(Config.settingsFromZooCfgText(text, "zoo.cfg"), (file) =>
    Config.decodeLayers(file, { configFile: "zoo.cfg", set: Object.entries(extra) })
  )
const ok = (text: string, extra: Record<string, string> = {}) => {
  const r = decodeCfg(text, extra)
  if (Either.isLeft(r)) assert.fail(r.left.message)
  return r.right
}
const err = (text: string, extra: Record<string, string> = {}) => {
  const r = decodeCfg(text, extra)
  if (Either.isRight(r)) assert.fail("expected a config error")
  return r.left
}
const MIN = "dataDir=/d\nclientPort=2181\n"

describe("properties reader (java.util.Properties rules)", () => {
  it("comments, separators and trimming", () => {
    const m = props(
      [
        "# comment",
        "  ! also a comment",
        "a=1",
        "b : 2",
        "c 3",
        "d\t=\t4",
        "e",
        "f=",
        "g = = 5",
        "  h=leading blanks dropped, trailing kept  ",
        "",
        "   "
      ].join("\n")
    )
    assert.deepStrictEqual(Object.fromEntries(m), {
      a: "1",
      b: "2",
      c: "3",
      d: "4",
      e: "",
      f: "",
      g: "= 5",
      h: "leading blanks dropped, trailing kept  "
    })
  })

  it("continuations, escapes and line endings", () => {
    const m = props(
      "multi=one, \\\n     two, \\\r\n  three\r\n" +
        "even=ends with backslash \\\\\n" +
        "next=x\n" +
        "key\\=with\\:seps\\ and\\ space=v\n" +
        "esc=tab\\there\\nnl \\u0041\\q\r" +
        "#comment ending in backslash \\\n" +
        "after=comment\n" +
        "cont=a\\\n#not a comment\n"
    )
    assert.strictEqual(m.get("multi"), "one, two, three")
    assert.strictEqual(m.get("even"), "ends with backslash \\")
    assert.strictEqual(m.get("next"), "x")
    assert.strictEqual(m.get("key=with:seps and space"), "v")
    assert.strictEqual(m.get("esc"), "tab\there\nnl Aq")
    assert.strictEqual(m.get("after"), "comment")
    assert.strictEqual(m.get("cont"), "a#not a comment")
  })

  it("duplicates: last wins; line numbers point at the start of the logical line; BOM tolerated", () => {
    const entries = Properties.parse("\ufeffx=1\ny=a\\\n  b\nx=2\n")
    assert.deepStrictEqual(
      entries.map((e) => [e.key, e.value, e.line]),
      [
        ["x", "1", 1],
        ["y", "ab", 2],
        ["x", "2", 4]
      ]
    )
    assert.strictEqual(Properties.toMap(entries).get("x"), "2")
  })

  it("a malformed \\u escape is a syntax error naming the line", () => {
    assert.throws(() => Properties.parse("ok=1\nbad=\\u12G4\n"), /line 2: Malformed \\uxxxx encoding/)
    const e = err("bad=\\u12\n")
    assert.strictEqual(e.reason, "Syntax")
    assert.match(e.message, /zoo\.cfg: line 1/)
  })
})

describe("ZooKeeper defaults and rules", () => {
  it("a minimal zoo.cfg gets ZooKeeper's defaults (not ezk's embedded ones)", () => {
    const { config, notes } = ok(MIN)
    assert.strictEqual(config.tickTime, 3000)
    assert.strictEqual(config.minSessionTimeout, 6000)
    assert.strictEqual(config.maxSessionTimeout, 60000)
    assert.strictEqual(config.dataLogDir, "/d")
    assert.strictEqual(config.clientPortAddress, undefined)
    assert.strictEqual(config.maxClientCnxns, 60)
    assert.strictEqual(config.snapCount, 100000)
    assert.strictEqual(config.autopurgeSnapRetainCount, 3)
    assert.strictEqual(config.autopurgePurgeInterval, 0)
    assert.deepStrictEqual([...config.fourLetterWordWhitelist], ["srvr"])
    assert.strictEqual(config.extendedTypesEnabled, false)
    assert.strictEqual(config.juteMaxBuffer, 0xfffff)
    assert.strictEqual(config.clientPortListenBacklog, -1)
    assert.strictEqual(config.superDigest, undefined)
    assert.deepStrictEqual(config.authProviders, [])
    assert.strictEqual(config.jaasServerSection, "Server")
    assert.strictEqual(config.logLevel, LogLevel.Info)
    assert.strictEqual(config.logFormat, "logfmt")
    assert.deepStrictEqual(config.quorum.servers, [])
    assert.strictEqual(config.quorum.standaloneEnabled, true)
    assert.strictEqual(config.source, "zoo.cfg")
    assert.deepStrictEqual(notes, [])
  })

  it("session timeouts derive from tickTime unless set; -1 means derived", () => {
    assert.strictEqual(ok(MIN + "tickTime=2000\n").config.minSessionTimeout, 4000)
    assert.strictEqual(ok(MIN + "tickTime=2000\n").config.maxSessionTimeout, 40000)
    const c = ok(MIN + "tickTime=2000\nminSessionTimeout=-1\nmaxSessionTimeout=100000\n").config
    assert.deepStrictEqual([c.minSessionTimeout, c.maxSessionTimeout], [4000, 100000])
    // As observed on 3.8.0: min above the derived max is accepted when max is derived from a larger tick.
    assert.strictEqual(ok(MIN + "minSessionTimeout=50000\n").config.maxSessionTimeout, 60000)
  })

  it("one-line errors name the key and the bad value", () => {
    assert.strictEqual(err(MIN + "tickTime=abc\n").message, 'zoo.cfg:3: invalid tickTime="abc": expected an integer')
    assert.strictEqual(err(MIN + "tickTime=12abc\n").reason, "InvalidValue") // Integer.parseInt rejects it too
    assert.match(err(MIN + "tickTime=0\n").message, /tickTime="0": must be positive/)
    assert.match(err("dataDir=/d\nclientPort=99999\n").message, /clientPort="99999": port out of range/)
    assert.match(err(MIN + "maxClientCnxns=3000000000\n").message, /maxClientCnxns.*32-bit/)
    assert.strictEqual(err("clientPort=2181\n").message, "dataDir is not set (set dataDir in zoo.cfg or pass --data-dir)")
    assert.match(err("dataDir=/d\n").message, /^clientPort is not set/)
    assert.strictEqual(err("dataDir=/d\nclientPortAddress=1.2.3.4\n").message, "clientPortAddress is set but clientPort is not set")
    assert.match(
      err(MIN + "minSessionTimeout=5000\nmaxSessionTimeout=4000\n").message,
      /^minSessionTimeout must not be larger than maxSessionTimeout/
    )
    assert.match(err(MIN + "ezk.log.level=loud\n").message, /ezk\.log\.level="loud"/)
    assert.match(err(MIN + "ezk.log.format=xml\n").message, /expected logfmt, json or pretty/)
    assert.match(err(MIN + "peerType=leader\n").message, /peerType="leader"/)
  })

  it("warn-and-default rules ZooKeeper applies", () => {
    const { config, notes } = ok(MIN + "autopurge.snapRetainCount=1\nautopurge.purgeInterval=-1\nsnapCount=abc\n")
    assert.strictEqual(config.autopurgeSnapRetainCount, 3)
    assert.strictEqual(config.autopurgePurgeInterval, 0)
    assert.strictEqual(config.snapCount, 100000)
    assert.deepStrictEqual(
      notes.map((n) => n.message),
      [
        "zoo.cfg:5: snapCount=abc is not an integer; using 100000, as ZooKeeper does",
        "zoo.cfg:3: Invalid autopurge.snapRetainCount: 1. Defaulting to 3"
      ]
    )
    assert.strictEqual(ok(MIN + "snapCount=1\n").config.snapCount, 2)
  })

  it("system-property integers use Integer.decode (hex, #hex, octal)", () => {
    assert.strictEqual(ok(MIN + "jute.maxbuffer=0x100000\n").config.juteMaxBuffer, 0x100000)
    assert.strictEqual(ok(MIN + "zookeeper.jute.maxbuffer=#10\n").config.juteMaxBuffer, 16)
    assert.strictEqual(ok(MIN + "snapCount=010\n").config.snapCount, 8)
  })

  it("booleans follow Boolean.parseBoolean, with a warning for anything but true/false", () => {
    assert.strictEqual(ok(MIN + "extendedTypesEnabled=TRUE\n").config.extendedTypesEnabled, true)
    assert.strictEqual(ok(MIN + "zookeeper.extendedTypesEnabled=true\n").config.extendedTypesEnabled, true)
    const r = ok(MIN + "extendedTypesEnabled=yes\n")
    assert.strictEqual(r.config.extendedTypesEnabled, false)
    assert.match(r.notes[0]!.message, /extendedTypesEnabled=yes is not "true"; treated as false/)
  })

  it("4lw.commands.whitelist: comma list, *, unknown names warned, srvr always added", () => {
    const r = ok(MIN + "4lw.commands.whitelist= ruok , stat,bogus,\n")
    assert.deepStrictEqual([...r.config.fourLetterWordWhitelist].sort(), ["ruok", "srvr", "stat"])
    assert.match(r.notes[0]!.message, /unknown command "bogus"/)
    assert.strictEqual(ok(MIN + "4lw.commands.whitelist=*\n").config.fourLetterWordWhitelist.size, 18)
    assert.deepStrictEqual([...ok(MIN + "4lw.commands.whitelist=\n").config.fourLetterWordWhitelist], ["srvr"])
  })

  it("aliases: superDigest, jaas, authProvider.N (recognised classes, others warned)", () => {
    const digest = "super:g9oN2HttPfn8MMWJZ2r45Np/LIA="
    for (const key of ["superDigest", "DigestAuthenticationProvider.superDigest", "zookeeper.DigestAuthenticationProvider.superDigest"]) {
      const r = ok(`${MIN}${key}=${digest}\n`)
      assert.strictEqual(r.config.superDigest, digest, key)
      assert.deepStrictEqual(r.notes, [], key)
    }
    assert.match(err(MIN + "superDigest=nocolon\n").message, /superDigest="nocolon": expected user:/)
    assert.strictEqual(ok(MIN + "java.security.auth.login.config=/etc/jaas.conf\n").config.jaasLoginConfig, "/etc/jaas.conf")
    assert.strictEqual(ok(MIN + "jaasLoginConfig=/j\nzookeeper.sasl.serverconfig=Srv\n").config.jaasServerSection, "Srv")
    const r = ok(
      MIN +
        "authProvider.1=org.apache.zookeeper.server.auth.SASLAuthenticationProvider\n" +
        "zookeeper.authProvider.2=org.apache.zookeeper.server.auth.IPAuthenticationProvider\n" +
        "authProvider.x509=org.apache.zookeeper.server.auth.X509AuthenticationProvider\n"
    )
    assert.deepStrictEqual(r.config.authProviders, ["sasl", "ip"])
    assert.strictEqual(r.notes.length, 1)
    assert.match(r.notes[0]!.message, /authProvider\.x509=.*X509AuthenticationProvider is not supported by ezk/)
  })

  it("quorum keys are parsed and accepted without warnings", () => {
    const r = ok(
      "tickTime=2000\ninitLimit=10\nsyncLimit=5\ndataDir=/d\nclientPort=2181\n" +
        "server.1=127.0.0.1:2888:3888\nserver.2=[::1]:2889:3889:participant;2182\n" +
        "server.3=h3:2890:3890:observer;0.0.0.0:2183\nserver.4=a:1:2|b:3:4\n" +
        "peerType=observer\nstandaloneEnabled=false\nreconfigEnabled=true\ngroup.1=1:2:3\nweight.1=2\n" +
        "electionAlg=3\nquorumListenOnAllIPs=true\nlocalSessionsEnabled=true\nconnectToLearnerMasterLimit=7\n"
    )
    const q = r.config.quorum
    assert.deepStrictEqual(r.notes, [])
    assert.deepStrictEqual([q.initLimit, q.syncLimit, q.connectToLearnerMasterLimit], [10, 5, 7])
    assert.deepStrictEqual(q.servers.map((s) => s.sid), [1, 2, 3, 4])
    assert.deepStrictEqual(q.servers[1], {
      sid: 2,
      addresses: [{ host: "::1", quorumPort: 2889, electionPort: 3889 }],
      type: "participant",
      clientAddress: { host: undefined, port: 2182 },
      spec: "[::1]:2889:3889:participant;2182"
    })
    assert.strictEqual(q.servers[2]!.type, "observer")
    assert.deepStrictEqual(q.servers[2]!.clientAddress, { host: "0.0.0.0", port: 2183 })
    assert.strictEqual(q.servers[3]!.addresses.length, 2)
    assert.strictEqual(q.peerType, "observer")
    assert.deepStrictEqual([q.standaloneEnabled, q.reconfigEnabled, q.quorumListenOnAllIPs, q.localSessionsEnabled], [false, true, true, true])
    assert.deepStrictEqual(q.groups, [{ id: 1, sids: [1, 2, 3] }])
    assert.deepStrictEqual(q.weights, [{ sid: 1, weight: 2 }])
    assert.match(err(MIN + "server.1=host:2888\n").message, /server\.1="host:2888": expected host:quorumPort:electionPort/)
    assert.match(err(MIN + "server.x=h:1:2\n").message, /not a numeric id/)
    assert.match(err("dataDir=/d\nclientPort=1\nserver.1=a:1:2\nserver.2=b:1:2\n").message, /^initLimit is not set/)
    // A quorum member may leave clientPort to its server.N line.
    assert.strictEqual(ok("dataDir=/d\ninitLimit=5\nsyncLimit=2\nserver.1=a:1:2;2181\nserver.2=b:1:2;2181\n").config.clientPort, -1)
  })

  it("classifies keys: ignored ones get an info note, TLS and unknown ones a warning", () => {
    const r = ok(
      MIN +
        "admin.enableServer=false\nadmin.serverPort=8080\nmetricsProvider.className=x\npreAllocSize=16\nforceSync=no\n" +
        "globalOutstandingLimit=1000\nzookeeper.nio.numWorkerThreads=4\nsecureClientPort=2281\nssl.keyStore.location=/k\n" +
        "fooBarUnknown=1\nzookeeper.tickTime=5\nskipACL=yes\n"
    )
    const by = (level: string) => r.notes.filter((n) => n.level === level).map((n) => n.message)
    assert.deepStrictEqual(by("Info"), [
      "zoo.cfg:3: admin.enableServer does not apply to ezk; ignored",
      "zoo.cfg:4: admin.serverPort does not apply to ezk; ignored",
      "zoo.cfg:5: metricsProvider.className does not apply to ezk; ignored",
      "zoo.cfg:7: forceSync does not apply to ezk; ignored",
      "zoo.cfg:8: globalOutstandingLimit does not apply to ezk; ignored",
      "zoo.cfg:9: zookeeper.nio.numWorkerThreads does not apply to ezk; ignored"
    ])
    assert.deepStrictEqual(by("Warning"), [
      "zoo.cfg:10: secureClientPort: TLS is not supported by ezk; ignored",
      "zoo.cfg:11: ssl.keyStore.location: TLS is not supported by ezk; ignored",
      "zoo.cfg:12: unknown key fooBarUnknown; ignored",
      "zoo.cfg:13: unknown key zookeeper.tickTime; ignored",
      "zoo.cfg:14: skipACL: ezk always checks ACLs; ignored"
    ])
    // Keys the server reads through `properties` are canonical (zookeeper. prefix removed) and silent.
    assert.strictEqual(r.config.properties.get("preAllocSize"), "16")
    assert.strictEqual(r.config.properties.get("nio.numWorkerThreads"), "4")
    assert.strictEqual(ok(MIN + "zookeeper.digest.enabled=false\n").config.properties.get("digest.enabled"), "false")
  })

  it.skipIf(missingTool("/etc/zookeeper/conf/zoo.cfg", existsSync("/etc/zookeeper/conf/zoo.cfg"), "apt-get install zookeeper"))("an actual Debian /etc/zookeeper/conf/zoo.cfg parses", () =>
    Effect.runPromise(
      Effect.gen(function* () {
        const settings = yield* Config.readZooCfg("/etc/zookeeper/conf/zoo.cfg")
        const { config, notes } = yield* Config.decodeLayers(settings, { configFile: "/etc/zookeeper/conf/zoo.cfg" })
        assert.strictEqual(config.tickTime, 2000)
        assert.strictEqual(config.dataDir, "/tmp/zookeeper")
        assert.strictEqual(config.clientPort, 2181)
        assert.strictEqual(config.quorum.initLimit, 10)
        assert.strictEqual(config.quorum.syncLimit, 5)
        assert.strictEqual(config.maxClientCnxns, 60)
        assert.deepStrictEqual(notes, [])
      })
    ))
})

describe("layering, embedded defaults and constructors", () => {
  it("embedded defaults: loopback:2181, tick 2000, ./ezk-data, read-only 4lw words", () => {
    const d = Config.defaults
    assert.deepStrictEqual(
      [d.clientPortAddress, d.clientPort, d.tickTime, d.dataDir, d.dataLogDir, d.minSessionTimeout, d.maxSessionTimeout],
      ["127.0.0.1", 2181, 2000, "./ezk-data", "./ezk-data", 4000, 40000]
    )
    assert.deepStrictEqual([...d.fourLetterWordWhitelist].sort(), [...Config.EMBEDDED_4LW].sort())
    assert.isFalse(d.fourLetterWordWhitelist.has("dump"))
    assert.isFalse(d.fourLetterWordWhitelist.has("wchc"))
  })

  it("zoo.cfg < --set < flags, and flags on top of embedded defaults", () => {
    const file = Either.getOrThrow(Config.settingsFromZooCfgText("dataDir=/d\nclientPort=1\ntickTime=1000\n", "z.cfg"))
    const r = Either.getOrThrow(
      Config.decodeLayers(file, {
        configFile: "z.cfg",
        set: [
          ["clientPort", "2"],
          ["maxClientCnxns", "7"]
        ],
        flags: [["clientPort", "3", "--port"]]
      })
    )
    assert.deepStrictEqual([r.config.clientPort, r.config.maxClientCnxns, r.config.tickTime], [3, 7, 1000])
    const e = Config.decodeLayers(undefined, { flags: [["tickTime", "x", "--tick-time"]] })
    assert.isTrue(Either.isLeft(e))
    assert.strictEqual(Either.isLeft(e) && e.left.message, '--tick-time: invalid tickTime="x": expected an integer')
    const d = Either.getOrThrow(Config.decodeLayers(undefined, { flags: [["clientPort", "0", "--port"], ["dataDir", "/x", "--data-dir"]] }))
    assert.deepStrictEqual([d.config.clientPort, d.config.dataDir, d.config.dataLogDir, d.config.clientPortAddress], [0, "/x", "/x", "127.0.0.1"])
  })

  it("make/layer: derived values follow the overrides", () =>
    Effect.runPromise(
      Effect.gen(function* () {
        const c = Config.make({ tickTime: 1000, dataDir: "/t" })
        assert.deepStrictEqual([c.minSessionTimeout, c.maxSessionTimeout, c.dataLogDir], [2000, 20000, "/t"])
        const fromLayer = yield* Effect.provide(Config.ZkConfig, Config.layer({ clientPort: 0 }))
        assert.strictEqual(fromLayer.clientPort, 0)
        assert.strictEqual(fromLayer.tickTime, 2000)
      })
    ))

  it("load logs unknown-key warnings and info notes, and keeps going (captured log)", () =>
    Effect.runPromise(
      Effect.gen(function* () {
        const dir = mkdtempSync(join(tmpdir(), "ezk-config-"))
        const path = join(dir, "zoo.cfg")
        writeFileSync(path, "tickTime=2000\ndataDir=/d\nclientPort=2181\nmysteryKey=1\nadmin.enableServer=false\n")
        const logs: Array<string> = []
        const capture = Logger.make(({ logLevel, message }) => logs.push(`${logLevel.label} ${String(message)}`))
        const config = yield* Config.load({ configFile: path }).pipe(
          Effect.provide(Logger.replace(Logger.defaultLogger, capture))
        )
        assert.strictEqual(config.tickTime, 2000)
        assert.deepStrictEqual(logs, [
          `WARN ${path}:4: unknown key mysteryKey; ignored`,
          `INFO ${path}:5: admin.enableServer does not apply to ezk; ignored`
        ])
        const missing = yield* Effect.flip(Config.load({ configFile: join(dir, "nope.cfg") }))
        assert.strictEqual(missing.reason, "Read")
        assert.match(missing.message, /cannot read config file .*nope\.cfg: ENOENT/)
      })
    ))

  it("layerFromZooCfg provides the tag", () =>
    Effect.runPromise(
      Effect.gen(function* () {
        const dir = mkdtempSync(join(tmpdir(), "ezk-config-"))
        const path = join(dir, "zoo.cfg")
        writeFileSync(path, "dataDir=/d\nclientPort=2181\n")
        const c = yield* Effect.provide(Config.ZkConfig, Config.layerFromZooCfg(path, { tickTime: "500" }))
        assert.deepStrictEqual([c.tickTime, c.minSessionTimeout, c.source], [500, 1000, path])
      })
    ))
})
