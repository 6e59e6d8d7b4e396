/** The `ezk` CLI: both argv front ends build the same ZkConfig; `4lw` talks to a socket. */
import * as NodeContext from "@effect/platform-node/NodeContext"
import { assert, describe, it, vi } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Logger from "effect/Logger"
import { existsSync, readFileSync } from "node:fs"
import * as net from "node:net"
import { makeCli } from "../../src/cli/Cli.js"
import * as FastCli from "../../src/cli/FastCli.js"
import { sendFourLetterWord, parseServerAddress } from "../../src/cli/FourLetterClient.js"
import { EZK_VERSION, serverLoadOptions } from "../../src/cli/ServerCommand.js"
import * as Config from "../../src/server/Config.js"
import { missingTool } from "../support/requireTool.js"

class Stop {
  readonly _tag = "Stop"
  constructor(readonly config: Config.ZkConfig) {}
}

/** A startServer that records the config it got (also via the ZkConfig tag) and stops. */
const capture = (config: Config.ZkConfig) =>
  Effect.gen(function* () {
    const fromContext = yield* Config.ZkConfig
    assert.strictEqual(fromContext, config)
    return yield* Effect.fail(new Stop(config))
  })

const quiet = Logger.replace(Logger.defaultLogger, Logger.none)

const SERVER_ARGV = [
  "server",
  "--port",
  "0",
  "--host",
  "::1",
  "--data-dir",
  "/tmp/ezk-cli-test",
  "--tick-time",
  "1000",
  "--extended-types",
  "--set",
  "maxClientCnxns=5",
  "--set",
  "zookeeper.snapCount=50",
  "--4lw-whitelist",
  "ruok,mntr",
  "--log-level",
  "error"
]

const checkServerConfig = (c: Config.ZkConfig) => {
  assert.strictEqual(c.clientPort, 0)
  assert.strictEqual(c.clientPortAddress, "::1")
  assert.strictEqual(c.dataDir, "/tmp/ezk-cli-test")
  assert.strictEqual(c.dataLogDir, "/tmp/ezk-cli-test")
  assert.strictEqual(c.tickTime, 1000)
  assert.strictEqual(c.minSessionTimeout, 2000)
  assert.strictEqual(c.extendedTypesEnabled, true)
  assert.strictEqual(c.maxClientCnxns, 5)
  assert.strictEqual(c.snapCount, 50)
  assert.deepStrictEqual([...c.fourLetterWordWhitelist].sort(), ["mntr", "ruok", "srvr"])
  assert.strictEqual(c.logLevel.label, "ERROR")
  assert.strictEqual(c.source, undefined)
}

const stopConfig = (exit: Exit.Exit<void, unknown>): Config.ZkConfig => {
  assert.isTrue(Exit.isFailure(exit))
  const e = Exit.isFailure(exit) ? exit.cause : undefined
  const failure = e && e._tag === "Fail" ? e.error : undefined
  assert.instanceOf(failure, Stop)
  return (failure as Stop).config
}

describe("ezk server", () => {
  it("@effect/cli front end builds the config from flags (+ embedded defaults)", () =>
    Effect.runPromise(
      Effect.gen(function* () {
        const exit = yield* Effect.exit(makeCli(capture)(["node", "ezk", ...SERVER_ARGV]))
        checkServerConfig(stopConfig(exit))
      }).pipe(Effect.provide(NodeContext.layer), Effect.provide(quiet))
    ))

  it("fast path parses the same argv into the same config", () =>
    Effect.runPromise(
      Effect.gen(function* () {
        const parsed = FastCli.parse(SERVER_ARGV)
        assert.strictEqual(parsed?._tag, "Server")
        const exit = yield* Effect.exit(FastCli.run(FastCli.parse(SERVER_ARGV)!, capture))
        checkServerConfig(stopConfig(exit))
      }).pipe(Effect.provide(quiet))
    ))

  it("fast path defers help, unknown flags and positionals to @effect/cli", () => {
    assert.isUndefined(FastCli.parse([]))
    assert.isUndefined(FastCli.parse(["--help"]))
    assert.isUndefined(FastCli.parse(["server", "--help"]))
    assert.isUndefined(FastCli.parse(["server", "--prot", "1"]))
    assert.isUndefined(FastCli.parse(["server", "extra"]))
    assert.isUndefined(FastCli.parse(["4lw"]))
    assert.isUndefined(FastCli.parse(["4lw", "nope"]))
    assert.isUndefined(FastCli.parse(["shell"]))
    assert.deepStrictEqual(FastCli.parse(["version"]), { _tag: "Version" })
    assert.deepStrictEqual(FastCli.parse(["4lw", "stmk", "--server=h:1", "--mask", "306"]), {
      _tag: "FourLetter",
      word: "stmk",
      server: "h:1",
      mask: 306n,
      timeoutMs: undefined
    })
    const p = FastCli.parse(["server", "-c", "/etc/zoo.cfg", "--port=2182"])
    assert.strictEqual(p?._tag, "Server")
    if (p?._tag === "Server") {
      assert.strictEqual(p.flags.config, "/etc/zoo.cfg")
      assert.strictEqual(p.flags.port, "2182")
      assert.isUndefined(p.flags.host)
      assert.isUndefined(p.flags.set)
    }
  })

  it("a config error prints one line and sets exit code 2 (both front ends)", () =>
    Effect.runPromise(
      Effect.gen(function* () {
        const argv = ["node", "ezk", "server", "--set", "tickTime=abc"]
        for (const run of [makeCli(capture), (a: ReadonlyArray<string>) => FastCli.run(FastCli.parse(a.slice(2))!, capture)]) {
          process.exitCode = undefined
          yield* run(argv)
          assert.strictEqual(process.exitCode, 2)
        }
        process.exitCode = undefined
      }).pipe(Effect.provide(NodeContext.layer), Effect.provide(quiet))
    ))

  it.skipIf(missingTool("/etc/zookeeper/conf/zoo.cfg", existsSync("/etc/zookeeper/conf/zoo.cfg"), "apt-get install zookeeper"))("zoo.cfg via --config: ZooKeeper defaults, flags still win", () =>
    Effect.runPromise(
      Effect.gen(function* () {
        const exit = yield* Effect.exit(
          FastCli.run(FastCli.parse(["server", "--config", "/etc/zookeeper/conf/zoo.cfg", "--port", "2999"])!, capture)
        )
        const c = stopConfig(exit)
        assert.deepStrictEqual([c.clientPort, c.tickTime, c.clientPortAddress, c.source], [2999, 2000, undefined, "/etc/zookeeper/conf/zoo.cfg"])
      }).pipe(Effect.provide(quiet))
    ))

  it("serverLoadOptions maps flags to zoo.cfg keys and rejects --set without =", () =>
    Effect.runPromise(
      Effect.gen(function* () {
        const o = yield* serverLoadOptions({ port: 1, jaas: "/j", extendedTypes: false, set: ["a=b=c"] })
        assert.deepStrictEqual(o.set, [["a", "b=c"]])
        assert.deepStrictEqual(o.flags, [
          ["clientPort", "1", "--port"],
          ["jaasLoginConfig", "/j", "--jaas"]
        ])
        const e = yield* Effect.flip(serverLoadOptions({ set: ["novalue"] }))
        assert.strictEqual(e.message, '--set expects key=value, got "novalue"')
      })
    ))
})

describe("ezk 4lw / version", () => {
  const withServer = <A>(reply: (data: Buffer) => string, f: (port: number, received: Array<Buffer>) => Promise<A>) => {
    const received: Array<Buffer> = []
    const server = net.createServer((sock) => {
      let buf = Buffer.alloc(0)
      sock.on("data", (d) => {
        buf = Buffer.concat([buf, d])
        received.push(d)
        const need = buf.subarray(0, 4).toString() === "stmk" ? 12 : 4
        if (buf.length >= need) sock.end(reply(buf))
      })
    })
    return new Promise<A>((resolve, reject) =>
      server.listen(0, "127.0.0.1", () => {
        const port = (server.address() as net.AddressInfo).port
        f(port, received).then(
          (a) => server.close(() => resolve(a)),
          (e) => server.close(() => reject(e))
        )
      })
    )
  }

  it("sends the word and returns the reply the server writes before closing", () =>
    withServer(
      (b) => (b.subarray(0, 4).toString() === "ruok" ? "imok" : `mask ${b.readBigInt64BE(4)}`),
      async (port, received) => {
        assert.strictEqual(await Effect.runPromise(sendFourLetterWord("127.0.0.1", port, "ruok")), "imok")
        assert.strictEqual(await Effect.runPromise(sendFourLetterWord("127.0.0.1", port, "stmk", { mask: 306n })), "mask 306")
        assert.strictEqual(Buffer.concat(received).length, 16)
      }
    ))

  it("connection refused is a typed error", () =>
    Effect.runPromise(
      Effect.gen(function* () {
        const e = yield* Effect.flip(sendFourLetterWord("127.0.0.1", 1, "ruok", { timeoutMs: 2000 }))
        assert.strictEqual(e.reason, "Connect")
        assert.match(e.message, /127\.0\.0\.1:1: ECONNREFUSED/)
      })
    ))

  it("parseServerAddress", () => {
    assert.deepStrictEqual(parseServerAddress("h:1"), { host: "h", port: 1 })
    assert.deepStrictEqual(parseServerAddress("h"), { host: "h", port: 2181 })
    assert.deepStrictEqual(parseServerAddress("[::1]:3"), { host: "::1", port: 3 })
    assert.isUndefined(parseServerAddress("h:99999"))
    assert.isUndefined(parseServerAddress("a:b:c"))
  })

  it.effect("version matches package.json", () =>
    Effect.gen(function* () {
      // Read here, not through src/Version.ts, so a wrong path or field there shows.
      const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version: string }
      assert.strictEqual(EZK_VERSION, pkg.version)
      const printed: Array<string> = []
      const log = vi.spyOn(console, "log").mockImplementation((...args: Array<unknown>) => void printed.push(args.join(" ")))
      yield* Effect.ensuring(
        Effect.all([makeCli(capture)(["node", "ezk", "version"]), FastCli.run(FastCli.parse(["version"])!, capture)]),
        Effect.sync(() => log.mockRestore())
      )
      const expected = `ezk ${pkg.version} (ZooKeeper 3.8 compatible)`
      assert.deepStrictEqual(printed, [expected, expected])
    }).pipe(Effect.provide(NodeContext.layer)))
})
