/** ZkConfig: the .properties reader, ZooKeeper's defaults and rules, layering of flags, warnings. */
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Logger from "effect/Logger"
import * as LogLevel from "effect/LogLevel"
import { existsSync, mkdtempSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import * as Disk from "../../src/disk/Disk.js"
import * as Config from "../../src/server/Config.js"
import * as Ensemble from "../../src/server/Ensemble.js"
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
        "peerType=observer\nstandaloneEnabled=false\nelectionAlg=3\nquorumListenOnAllIPs=true\n"
    )
    const q = r.config.quorum
    assert.deepStrictEqual(r.notes, [])
    assert.deepStrictEqual([q.initLimit, q.syncLimit, q.electionAlg], [10, 5, 3])
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
    assert.deepStrictEqual([q.standaloneEnabled, q.quorumListenOnAllIPs], [false, true])
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
      "zoo.cfg:9: zookeeper.nio.numWorkerThreads does not apply to ezk; ignored"
    ])
    assert.deepStrictEqual(by("Warning"), [
      "zoo.cfg:10: secureClientPort: TLS is not supported by ezk; ignored",
      "zoo.cfg:11: ssl.keyStore.location: TLS is not supported by ezk; ignored",
      "zoo.cfg:12: unknown key fooBarUnknown; ignored",
      "zoo.cfg:13: unknown key zookeeper.tickTime; ignored",
      "zoo.cfg:14: skipACL: ezk always checks ACLs; ignored"
    ])
    // Applied keys are silent and typed (the zookeeper. prefix is accepted for system-property keys).
    assert.deepStrictEqual([r.config.preAllocSizeBytes, r.config.globalOutstandingLimit], [16 * 1024, 1000])
    assert.isFalse(ok(MIN + "zookeeper.digest.enabled=false\n").config.digestEnabled)
  })

  it("applied tuning keys: typed, defaulted, and validated with the key named", () => {
    const cases: ReadonlyArray<readonly [line: string, field: keyof Config.ZkConfig, expected: unknown]> = [
      ["", "digestEnabled", true],
      ["digest.enabled=false", "digestEnabled", false],
      ["", "preAllocSizeBytes", 65536 * 1024],
      ["zookeeper.preAllocSize=16", "preAllocSizeBytes", 16 * 1024],
      ["", "globalOutstandingLimit", 1000],
      ["globalOutstandingLimit=5", "globalOutstandingLimit", 5],
      ["", "sessionlessCnxnTimeoutMs", 10000],
      ["zookeeper.nio.sessionlessCnxnTimeout=250", "sessionlessCnxnTimeoutMs", 250],
      ["", "containerCheckIntervalMs", 60000],
      ["znode.container.checkIntervalMs=0x10", "containerCheckIntervalMs", 16],
      ["", "containerMaxNeverUsedIntervalMs", 0],
      ["znode.container.maxNeverUsedIntervalMs=500", "containerMaxNeverUsedIntervalMs", 500],
      ["", "containerMaxPerMinute", 10000],
      ["znode.container.maxPerMinute=7", "containerMaxPerMinute", 7],
      ["", "superUser", undefined],
      ["zookeeper.superUser=admin", "superUser", "admin"]
    ]
    for (const [line, field, expected] of cases) {
      const r = ok(MIN + line + "\n")
      assert.deepStrictEqual(r.config[field], expected, line)
      assert.deepStrictEqual(r.notes, [], line)
    }
    const bad: ReadonlyArray<readonly [line: string, message: RegExp]> = [
      ["preAllocSize=0", /invalid preAllocSize="0": must be positive/],
      ["globalOutstandingLimit=-1", /invalid globalOutstandingLimit="-1": must be positive/],
      ["nio.sessionlessCnxnTimeout=0", /invalid nio.sessionlessCnxnTimeout="0": must be positive/],
      ["znode.container.checkIntervalMs=0", /invalid znode.container.checkIntervalMs="0": must be positive/],
      ["znode.container.maxPerMinute=0", /invalid znode.container.maxPerMinute="0": must be positive/],
      ["znode.container.maxNeverUsedIntervalMs=-5", /invalid znode.container.maxNeverUsedIntervalMs="-5"/]
    ]
    for (const [line, message] of bad) assert.match(err(MIN + line + "\n").message, message, line)
    // An unparsable system-property integer falls back with a warning, as Integer.getInteger does.
    const fallback = ok(MIN + "globalOutstandingLimit=lots\n")
    assert.strictEqual(fallback.config.globalOutstandingLimit, 1000)
    assert.match(fallback.notes[0]!.message, /globalOutstandingLimit=lots is not an integer/)
  })

  it("keys ezk does not apply are reported as ignored, never silently accepted", () => {
    for (const key of ["leaderServes", "kerberos.removeHostFromPrincipal", "kerberos.removeRealmFromPrincipal", "forceSync", "nio.numWorkerThreads"]) {
      assert.deepStrictEqual(ok(MIN + `${key}=true\n`).notes.map((n) => n.message), [`zoo.cfg:3: ${key} does not apply to ezk; ignored`], key)
    }
  })

  it("quorum keys ezk does not honour: ignored (info), unsupported (warning) or refused when honouring less would weaken the ensemble", () => {
    const notes: ReadonlyArray<readonly [line: string, level: "Info" | "Warning", message: string]> = [
      ["syncEnabled=false", "Info", "syncEnabled does not apply to ezk; ignored"],
      ["localSessionsEnabled=true", "Info", "localSessionsEnabled does not apply to ezk; ignored"],
      ["connectToLearnerMasterLimit=7", "Info", "connectToLearnerMasterLimit does not apply to ezk; ignored"],
      ["observerMasterPort=2191", "Info", "observerMasterPort does not apply to ezk; ignored"],
      ["multiAddress.enabled=true", "Info", "multiAddress.enabled does not apply to ezk; ignored"],
      ["reconfigEnabled=true", "Warning", "reconfigEnabled: dynamic reconfiguration is not supported by ezk (reconfig requests are refused); ignored"],
      ["quorum.auth.enableSasl=false", "Warning", "quorum.auth.enableSasl: quorum SASL is not supported by ezk; peers do not authenticate each other; ignored"],
      ["sslQuorum=false", "Warning", "sslQuorum: TLS is not supported by ezk; ignored"],
      ["oraclePath=/o", "Warning", "oraclePath: the two-server oracle is not supported by ezk; ignored"]
    ]
    for (const [line, level, message] of notes) {
      assert.deepStrictEqual(ok(MIN + line + "\n").notes, [{ level, message: `zoo.cfg:3: ${message}` }], line)
    }
    // Asking for more protection, or another quorum, than ezk gives is refused, never quietly weakened.
    assert.match(err(MIN + "sslQuorum=true\n").message, /invalid sslQuorum="true": TLS between peers is not supported by ezk; refusing to replicate in plaintext/)
    for (const key of ["quorum.auth.enableSasl", "quorum.auth.serverRequireSasl", "quorum.auth.learnerRequireSasl"]) {
      assert.match(err(MIN + `${key}=true\n`).message, /quorum SASL is not supported by ezk; refusing to run with peers that do not authenticate each other/, key)
    }
    assert.match(err(MIN + "group.1=1:2:3\n").message, /invalid group.1="1:2:3": hierarchical quorums are not supported by ezk; refusing/)
    assert.match(err(MIN + "weight.1=2\n").message, /invalid weight.1="2": hierarchical quorums/)
    assert.match(err(MIN + "dynamicConfigFile=/etc/zoo.cfg.dynamic\n").message, /invalid dynamicConfigFile=.*: dynamic config files are not supported by ezk; list the server.N lines in zoo.cfg/)
    assert.match(err(MIN + "electionAlg=1\n").message, /invalid electionAlg="1": only 3 \(FastLeaderElection\) is supported/)
  })

  it("enforce.auth (ZooKeeper 3.8 AuthenticationHelper rules)", () => {
    const sasl = "authProvider.1=org.apache.zookeeper.server.auth.SASLAuthenticationProvider\n"
    const cases: ReadonlyArray<readonly [cfg: string, schemes: ReadonlyArray<string>]> = [
      ["", []],
      ["enforce.auth.schemes=digest\n", []],
      ["enforce.auth.enabled=false\nenforce.auth.schemes=digest\n", []],
      ["enforce.auth.enabled=true\nenforce.auth.schemes=digest\n", ["digest"]],
      ["zookeeper.enforce.auth.enabled=true\nzookeeper.enforce.auth.schemes= digest , ip,digest\n", ["digest", "ip"]],
      [sasl + "enforce.auth.enabled=true\nenforce.auth.schemes=sasl,digest\n", ["sasl", "digest"]],
      // sessionRequireClientSASLAuth wins and means exactly sasl; the enforce.auth keys are not read.
      [sasl + "sessionRequireClientSASLAuth=true\nenforce.auth.enabled=true\nenforce.auth.schemes=digest\n", ["sasl"]],
      [sasl + "sessionRequireClientSASLAuth=false\n", []]
    ]
    for (const [cfg, schemes] of cases) assert.deepStrictEqual(ok(MIN + cfg).config.enforceAuthSchemes, schemes, cfg)
    const bad: ReadonlyArray<readonly [cfg: string, message: RegExp]> = [
      ["enforce.auth.enabled=true\n", /enforce.auth.enabled is true but enforce.auth.schemes is not set/],
      ["enforce.auth.enabled=true\nenforce.auth.schemes= , \n", /enforce.auth.schemes is not set/],
      ["enforce.auth.enabled=true\nenforce.auth.schemes=sasl\n", /invalid enforce.auth.schemes="sasl": authentication scheme sasl is not available/],
      ["enforce.auth.enabled=true\nenforce.auth.schemes=digest,kerberos\n", /scheme kerberos is not available/],
      ["sessionRequireClientSASLAuth=true\n", /invalid sessionRequireClientSASLAuth="true": authentication scheme sasl is not available/]
    ]
    for (const [cfg, message] of bad) assert.match(err(MIN + cfg).message, message, cfg)
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

describe("ensemble configuration (QuorumPeerConfig rules)", () => {
  const ENSEMBLE =
    "tickTime=100\ndataDir=/data\ninitLimit=10\nsyncLimit=5\n" +
    "server.1=h1:2888:3888;2181\nserver.2=h2:2889:3889;127.0.0.1:2182\nserver.3=h3:2890:3890\nserver.4=h4:2891:3891:observer;2184\n"
  const resolve = (extra: string, myid: number) => Config.decodeLayers(Either.getOrThrow(Config.settingsFromZooCfgText(ENSEMBLE + extra, "zoo.cfg")), { configFile: "zoo.cfg" }).pipe(
    Either.flatMap((d) => Ensemble.resolve(d.config, myid))
  )

  it("resolves this peer: role, voters, observers, addresses and limits in ms", () => {
    const r = Either.getOrThrow(resolve("", 2))
    const e = r.ensemble
    assert.deepStrictEqual(
      [e.myid, e.role, [...e.voters], [...e.observers], e.clientAddress, e.listenHost, e.self.addresses[0]],
      [2, "participant", [1, 2, 3], [4], { host: "127.0.0.1", port: 2182 }, "h2", { host: "h2", quorumPort: 2889, electionPort: 3889 }]
    )
    assert.deepStrictEqual(
      [e.tickTimeMs, e.initLimitTicks, e.syncLimitTicks, e.initLimitMs, e.syncLimitMs, e.cnxTimeoutMs, e.electionPortBindRetry, e.minNotificationIntervalMs, e.maxNotificationIntervalMs],
      [100, 10, 5, 1000, 500, 5000, 3, 200, 60000]
    )
    assert.deepStrictEqual([...e.servers.keys()], [1, 2, 3, 4])
    assert.deepStrictEqual(r.notes, [])
  })

  it("table: what each extra key or myid resolves to, or the error naming the problem", () => {
    type Expect = { readonly ok: (e: Ensemble.EnsembleConfig, notes: ReadonlyArray<Config.Note>) => void } | { readonly error: RegExp }
    const cases: ReadonlyArray<readonly [extra: string, myid: number, expect: Expect]> = [
      ["", 4, { ok: (e) => assert.deepStrictEqual([e.role, e.clientAddress.port, e.voters.has(4)], ["observer", 2184, false]) }],
      ["", 9, { error: /^myid 9 is not among the configured servers \(server\.1, server\.2, server\.3, server\.4\)$/ }],
      ["clientPort=2181\n", 1, { ok: (e) => assert.deepStrictEqual(e.clientAddress, { host: undefined, port: 2181 }) }],
      ["clientPort=2190\n", 1, { error: /client address for this server \(id = 1\) is 0\.0\.0\.0:2190 .* but 0\.0\.0\.0:2181 in server\.1/ }],
      ["clientPortAddress=10.0.0.1\nclientPort=2182\n", 2, { error: /is 10\.0\.0\.1:2182 .* but 127\.0\.0\.1:2182 in server\.2/ }],
      ["clientPort=2183\n", 3, { ok: (e) => assert.deepStrictEqual(e.clientAddress, { host: undefined, port: 2183 }) }],
      ["", 3, { error: /^no client port for server\.3: set clientPort or add ;port/ }],
      ["peerType=observer\n", 1, {
        ok: (e, notes) => {
          assert.strictEqual(e.role, "participant")
          assert.deepStrictEqual(notes.map((n) => n.message), ["peerType=observer does not match server.1 (participant); using participant from the servers list, as ZooKeeper does"])
        }
      }],
      ["quorumListenOnAllIPs=true\n", 1, { ok: (e) => assert.strictEqual(e.listenHost, "0.0.0.0") }],
      ["zookeeper.cnxTimeout=1500\nelectionPortBindRetry=0\nfastleader.maxNotificationInterval=1000\n", 1, {
        ok: (e) => assert.deepStrictEqual([e.cnxTimeoutMs, e.electionPortBindRetry, e.maxNotificationIntervalMs], [1500, 0, 1000])
      }]
    ]
    for (const [extra, myid, expect] of cases) {
      const r = resolve(extra, myid)
      if ("error" in expect) {
        if (Either.isRight(r)) assert.fail(`${extra} myid=${myid}: expected an error`)
        else assert.match(r.left.message, expect.error, `${extra} myid=${myid}`)
      } else {
        if (Either.isLeft(r)) assert.fail(`${extra} myid=${myid}: ${r.left.message}`)
        else expect.ok(r.right.ensemble, r.right.notes)
      }
    }
  })

  it("table: quorum keys that stop decoding, with the key named", () => {
    const three = "server.1=a:1:2\nserver.2=b:1:2\nserver.3=c:1:2\n"
    const cases: ReadonlyArray<readonly [cfg: string, message: RegExp]> = [
      ["dataDir=/d\nsyncLimit=2\n" + three, /^initLimit is not set \(required with server\.N entries\)$/],
      ["dataDir=/d\ninitLimit=5\n" + three, /^syncLimit is not set/],
      ["dataDir=/d\ninitLimit=0\nsyncLimit=2\n" + three, /invalid initLimit="0": must be a positive number of ticks/],
      ["dataDir=/d\ninitLimit=5\nsyncLimit=-1\n" + three, /invalid syncLimit="-1": must be a positive number of ticks/],
      ["dataDir=/d\ninitLimit=5\nsyncLimit=2\nserver.1=a:1:2\nserver.2=a:1:3\n", /^server\.1 \(quorum port\) and server\.2 \(quorum port\) both use a:1$/],
      ["dataDir=/d\ninitLimit=5\nsyncLimit=2\nserver.1=a:1:2\nserver.2=b:3:3\n", /^server\.2 \(quorum port\) and server\.2 \(election port\) both use b:3$/],
      ["dataDir=/d\ninitLimit=5\nsyncLimit=2\nserver.1=a:1:2\nserver.2=b:4:5|a:2:6\n", /^server\.1 \(election port\) and server\.2 \(quorum port\) both use a:2$/],
      ["dataDir=/d\ninitLimit=5\nsyncLimit=2\ncnxTimeout=0\n" + three, /invalid cnxTimeout="0": must be a positive number of ms/],
      ["dataDir=/d\ninitLimit=5\nsyncLimit=2\nfastleader.minNotificationInterval=500\nfastleader.maxNotificationInterval=100\n" + three, /maxNotificationInterval \(100\) must not be below fastleader\.minNotificationInterval \(500\)/]
    ]
    for (const [cfg, message] of cases) assert.match(err(cfg).message, message, cfg)
    const retry = ok("dataDir=/d\ninitLimit=5\nsyncLimit=2\nelectionPortBindRetry=-1\n" + three)
    assert.strictEqual(retry.config.quorum.electionPortBindRetry, 3)
    assert.deepStrictEqual(retry.notes.map((n) => n.message), ["zoo.cfg:4: electionPortBindRetry=-1 must be >= 0; using 3, as ZooKeeper does"])
    // snapshotSizeFactor (the txn-log DIFF budget): default 0.33, the system-property spelling, negative = off.
    const base = "dataDir=/d\ninitLimit=5\nsyncLimit=2\n" + three
    assert.strictEqual(ok(base).config.quorum.snapshotSizeFactor, 0.33)
    assert.strictEqual(ok(base + "zookeeper.snapshotSizeFactor=-1\n").config.quorum.snapshotSizeFactor, -1)
    assert.strictEqual(ok(base + "snapshotSizeFactor=0.5\n").config.quorum.snapshotSizeFactor, 0.5)
    const bad = ok(base + "snapshotSizeFactor=lots\n")
    assert.strictEqual(bad.config.quorum.snapshotSizeFactor, 0.33)
    assert.deepStrictEqual(bad.notes.map((n) => n.message), [`zoo.cfg:${base.split("\n").length}: snapshotSizeFactor=lots is not a number; using 0.33`])
    assert.match(Either.flip(Ensemble.resolve(ok(MIN).config, 1)).pipe(Either.getOrThrow).message, /has no server\.N peers: not an ensemble/)
  })

  it("table: the myid file in dataDir", () =>
    Effect.runPromise(
      Effect.gen(function* () {
        const cases: ReadonlyArray<readonly [content: string | undefined, expect: number | RegExp]> = [
          [undefined, /^\/data\/myid file is missing: an ensemble peer reads its server id there/],
          ["2\n", 2],
          [" 3 \nignored second line", 3],
          ["17", 17],
          ["", /^\/data\/myid: serverid "" is not a number$/],
          ["abc\n", /serverid "abc" is not a number/],
          ["-1\n", /serverid "-1" is not a number/],
          ["1.5\n", /serverid "1.5" is not a number/]
        ]
        for (const [content, expect] of cases) {
          const { disk } = Disk.makeMemory()
          yield* disk.mkdirp("/data")
          if (content !== undefined) yield* disk.writeFile("/data/myid", new TextEncoder().encode(content))
          const r = yield* Effect.either(Ensemble.readMyid("/data").pipe(Effect.provideService(Disk.Disk, disk)))
          if (typeof expect === "number") assert.deepStrictEqual(r, Either.right(expect), content)
          else if (Either.isRight(r)) assert.fail(`${content}: expected an error`)
          else assert.match(r.left.message, expect, content)
        }
        // load = readMyid + resolve, from the config's dataDir.
        const { disk } = Disk.makeMemory()
        yield* disk.mkdirp("/data")
        yield* disk.writeFile("/data/myid", new TextEncoder().encode("4\n"))
        const config = ok(ENSEMBLE).config
        const e = yield* Ensemble.load(config).pipe(Effect.provideService(Disk.Disk, disk))
        assert.deepStrictEqual([e.myid, e.role], [4, "observer"])
      })
    ))
})
