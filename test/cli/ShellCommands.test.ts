/**
 * `ezk shell` in one process: the real server and the shell's client on the memory network and
 * TestClock, a script of typed lines, and every line the shell printed (stdout, stderr, watch events
 * apart) compared exactly. The expected texts are zkCli.sh 3.8's (ShellInterop.test.ts runs zkCli
 * itself side by side).
 */
import { assert, describe, it } from "@effect/vitest"
import { Context, Duration, Effect, Fiber, Layer, Option, TestClock } from "effect"
import { ZooKeeper } from "../../src/client/index.js"
import type { CommandContext } from "../../src/cli/shell/Command.js"
import { commandNames } from "../../src/cli/shell/Commands.js"
import type { Io } from "../../src/cli/shell/Session.js"
import { runShell } from "../../src/cli/shell/Shell.js"
import { complete } from "../../src/cli/shell/Terminal.js"
import * as Disk from "../../src/disk/Disk.js"
import * as Memory from "../../src/net/Memory.js"
import { Transport } from "../../src/net/Transport.js"
import * as Server from "../../src/server/Server.js"
import * as Testing from "../../src/server/Testing.js"

type Printed = Array<string>
type Hook = (ctx: CommandContext) => Effect.Effect<void>

/** Io that records `out: ..`, `err: ..` and `event: ..` lines in order. */
const recordingIo = (printed: Printed): Io => ({
  out: (l) => void printed.push(`out: ${l}`),
  err: (l) => void printed.push(`err: ${l}`),
  event: (ls) => void printed.push(...ls.filter((l) => l !== "").map((l) => `event: ${l}`))
})

/** Runs a fiber to completion, moving TestClock on in small steps (timers, simulated latency). */
const drive = <A, E>(fiber: Fiber.Fiber<A, E>) =>
  Effect.gen(function*() {
    for (let i = 0; i < 2000 && Option.isNone(yield* Fiber.poll(fiber)); i++) yield* TestClock.adjust(Duration.millis(5))
    return yield* Fiber.join(fiber)
  })

/** A server on the memory network and a way to run the shell (and a plain client) against it. */
const setup = Effect.gen(function*() {
  const net = yield* Memory.makeNetwork({ seed: 5, latencyMs: 1 })
  yield* Layer.build(
    Testing.layerOnDisk({ clientPort: 2181, extendedTypesEnabled: true }).pipe(
      Layer.provide(Disk.layerMemory()),
      Layer.provide(Layer.succeed(Transport, net.transportFor("server")))
    )
  ).pipe(Effect.map(Context.get(Server.ZkServer)))
  const client = Transport.pipe(Effect.as(undefined), Effect.provideService(Transport, net.transportFor("client")))
  yield* client
  /**
   * Runs `ezk shell <argv>` reading `lines`; a function instead of a line runs at that point of
   * the input (e.g. a Tab press). Returns the exit code and what the shell printed.
   */
  const shell = (argv: ReadonlyArray<string>, lines: ReadonlyArray<string | Hook> = []) =>
    Effect.gen(function*() {
      const printed: Printed = []
      const queue = [...lines]
      const run = runShell(argv, recordingIo(printed), (ctx) =>
        Effect.succeed(Effect.gen(function*() {
          for (let next = queue.shift(); next !== undefined; next = queue.shift()) {
            if (typeof next === "string") return next
            yield* next(ctx)
          }
          return undefined
        }))).pipe(Effect.provideService(Transport, net.transportFor("client")))
      const code = yield* drive(yield* Effect.fork(run))
      return { code, printed }
    })
  /** Runs `f` with a plain client session. */
  const withClient = <A, E>(f: (zk: ZooKeeper.Client) => Effect.Effect<A, E>) =>
    Effect.gen(function*() {
      const fiber = yield* Effect.fork(
        Effect.scoped(Effect.flatMap(ZooKeeper.make({ connectString: "server:2181" }), f)).pipe(
          Effect.provideService(Transport, net.transportFor("client"))
        )
      )
      return yield* drive(fiber)
    })
  return { shell, withClient }
})

const CONNECTED = ["event: WATCHER::", "event: WatchedEvent state:SyncConnected type:None path:null"]
const BANNER = ["out: Connecting to server:2181", "out: Welcome to ZooKeeper!"]
/** Stat lines with times and zxids replaced: they depend on the clock and the txn count. */
const normalize = (printed: Printed) =>
  printed.map((l) => l.replace(/^(out: [cmp](?:Zxid|time) = ).*$/, "$1*").replace(/^(out: ephemeralOwner = 0x)[0-9a-f]{4,}$/, "$1<session>"))

describe("ezk shell commands (in process)", () => {
  it.scoped("node operations print what zkCli prints, with its error texts and exit codes", () =>
    Effect.gen(function*() {
      const { shell } = yield* setup
      const { code, printed } = yield* shell(["-server", "server:2181"], [
        "create /t hello",
        "create /t dup",
        "create -e /t/eph e1",
        "create -s /t/seq- s1",
        "ls /t",
        "get /t",
        "set -v 5 /t x",
        "set -s /t world",
        "stat /t/eph",
        "delete /t",
        "create /t2",
        "get /t2",
        "get t2",
        "ls -R /t",
        "getAllChildrenNumber /t",
        "getEphemerals /t",
        "deleteall /t",
        "ls /",
        "create -c -e /x",
        "nosuch /x",
        "ls -x /"
      ])
      assert.deepStrictEqual(normalize(printed), [
        ...BANNER,
        ...CONNECTED,
        "err: Created /t",
        "err: Node already exists: /t",
        "err: Created /t/eph",
        "err: Created /t/seq-0000000001",
        "out: [eph, seq-0000000001]",
        "out: hello",
        "err: version No is not valid : /t",
        "out: cZxid = *",
        "out: ctime = *",
        "out: mZxid = *",
        "out: mtime = *",
        "out: pZxid = *",
        "out: cversion = 2",
        "out: dataVersion = 1",
        "out: aclVersion = 0",
        "out: ephemeralOwner = 0x0",
        "out: dataLength = 5",
        "out: numChildren = 2",
        "out: cZxid = *",
        "out: ctime = *",
        "out: mZxid = *",
        "out: mtime = *",
        "out: pZxid = *",
        "out: cversion = 0",
        "out: dataVersion = 0",
        "out: aclVersion = 0",
        "out: ephemeralOwner = 0x<session>",
        "out: dataLength = 2",
        "out: numChildren = 0",
        "err: Node not empty: /t",
        "err: Created /t2",
        "out: null",
        "err: Path must start with / character",
        "out: /t",
        "out: /t/eph",
        "out: /t/seq-0000000001",
        "out: 2",
        "out: [/t/eph]",
        "out: [t2, zookeeper]",
        "err: -c cannot be combined with -s or -e. Containers cannot be ephemeral or sequential.",
        ...usage("err"),
        "err: Command not found: Command not found nosuch",
        "err: org.apache.commons.cli.UnrecognizedOptionException: Unrecognized option: -x"
      ])
      assert.strictEqual(code, 1) // the last command failed
    }))

  it.scoped("one command from argv: its output and exit code, nothing read from input", () =>
    Effect.gen(function*() {
      const { shell } = yield* setup
      const created = yield* shell(["-server", "server:2181", "create", "/one", "a b"], ["ls /"])
      assert.deepStrictEqual(created.printed, ["out: Connecting to server:2181", ...CONNECTED, "err: Created /one"])
      assert.strictEqual(created.code, 0)
      const got = yield* shell(["-server", "server:2181", "get", "/one"])
      assert.deepStrictEqual(got.printed.slice(-1), ["out: a b"])
      assert.strictEqual(got.code, 0)
      const missing = yield* shell(["-server", "server:2181", "get", "/none"])
      assert.deepStrictEqual(missing.printed.slice(-1), ["err: Node does not exist: /none"])
      assert.strictEqual(missing.code, 1)
      const unknown = yield* shell(["-server", "server:2181", "frobnicate"])
      assert.strictEqual(unknown.code, 127)
    }))

  it.scoped("a bad connect string is reported; commands then fail instead of waiting", () =>
    Effect.gen(function*() {
      const { shell } = yield* setup
      const { code, printed } = yield* shell(["-server", "server:port"], ["get /a"])
      assert.include(printed, `err: Cannot connect to server:port: BadArguments: connect string: invalid server "server:port"`)
      assert.strictEqual(code, 1)
    }))

  it.scoped("watches print once per event, as zkCli's single default watcher does", () =>
    Effect.gen(function*() {
      const { shell } = yield* setup
      const { printed } = yield* shell(["-server", "server:2181"], [
        "create /w a",
        "get -w /w",
        "stat -w /w",
        "set /w b", // one NodeDataChanged for both watches
        "ls -w /w",
        "create /w/c",
        "addWatch -m PERSISTENT /w/c",
        "set /w/c x",
        "removewatches /w/c",
        "set /w/c y", // no longer watched
        "printwatches off",
        "get -w /w",
        "set /w c",
        "printwatches"
      ])
      const events = printed.filter((l) => l.startsWith("event: WatchedEvent")).map((l) => l.slice("event: WatchedEvent ".length))
      assert.deepStrictEqual(events, [
        "state:SyncConnected type:None path:null",
        "state:SyncConnected type:NodeDataChanged path:/w",
        "state:SyncConnected type:NodeChildrenChanged path:/w",
        "state:SyncConnected type:NodeDataChanged path:/w/c",
        "state:SyncConnected type:PersistentWatchRemoved path:/w/c"
      ])
      assert.deepStrictEqual(printed.slice(-1), ["out: printwatches is off"])
    }))

  it.scoped("binary data prints escaped; text prints as is", () =>
    Effect.gen(function*() {
      const { shell, withClient } = yield* setup
      yield* withClient((zk) =>
        Effect.all([
          zk.create("/bin", new Uint8Array([0x00, 0xff, 0x41, 0x5c, 0x0a, 0xc3, 0xa9])),
          zk.create("/text", "h\u00e9llo\tw\\rld")
        ]))
      const { printed } = yield* shell(["-server", "server:2181"], ["get /bin", "get /text"])
      assert.deepStrictEqual(printed.slice(-2), ["out: \\x00\\xffA\\\\\\n\u00e9", "out: h\u00e9llo\tw\\rld"])
    }))

  it.scoped("ACLs and auth: zkCli's getAcl lines, permission errors, whoami", () =>
    Effect.gen(function*() {
      const { shell } = yield* setup
      const { printed } = yield* shell(["-server", "server:2181"], [
        "create /acl a digest:bob:0ezhUayTjEymfNB3K9C0+wkMLMo=:cdrwa",
        "get /acl",
        "create /bad x world:anyone",
        "addauth digest bob:bobpw",
        "whoami",
        "getAcl /acl",
        "setAcl -v 3 /acl world:anyone:r",
        "setAcl /acl world:anyone:r",
        "getAcl /acl"
      ])
      // whoami also lists the connection's ip id, which the memory network makes up.
      const shown = printed.slice(CONNECTED.length + BANNER.length).filter((l) => !l.startsWith("out: ip: "))
      assert.deepStrictEqual(shown, [
        "err: Created /acl",
        "err: Insufficient permission : /acl",
        "err: world:anyone does not have the form scheme:id:perm",
        "err: KeeperErrorCode = InvalidACL",
        "err: Acl is not valid : null",
        "out: Auth scheme: User",
        "out: digest: bob",
        "out: 'digest,'bob:0ezhUayTjEymfNB3K9C0+wkMLMo=",
        "out: : cdrwa",
        "err: version No is not valid : /acl",
        "out: 'world,'anyone",
        "out: : r"
      ])
    }))

  it.scoped("close, Not connected, connect again; history and redo; quit stops reading", () =>
    Effect.gen(function*() {
      const { shell } = yield* setup
      const { code, printed } = yield* shell(["-server", "server:2181"], [
        "create /h x",
        "close",
        "get /h",
        "connect server:2181",
        "get /h",
        "history",
        "redo 4",
        "redo 9",
        "quit",
        "create /never"
      ])
      assert.deepStrictEqual(printed.slice(BANNER.length + CONNECTED.length), [
        "err: Created /h",
        "event: WATCHER::",
        "event: WatchedEvent state:Closed type:None path:null",
        "out: Not connected",
        ...CONNECTED,
        "out: x",
        "out: 0 - create /h x",
        "out: 1 - close",
        "out: 2 - get /h",
        "out: 3 - connect server:2181",
        "out: 4 - get /h",
        "out: 5 - history",
        "out: x",
        "err: Command index out of range"
      ])
      assert.strictEqual(code, 1) // quit exits with the code of the command before it
    }))

  it.scoped("a lost connection prints Disconnected then SyncConnected, and the session goes on", () =>
    Effect.gen(function*() {
      const { shell } = yield* setup
      const states: Array<string> = []
      const { code, printed } = yield* shell(["-server", "server:2181"], [
        "create -e /eph x",
        (ctx) =>
          ctx.session.client.pipe(
            Effect.flatMap((zk) => zk.dropConnection),
            Effect.zipRight(Effect.sleep("5 seconds")),
            Effect.zipRight(Effect.sync(() => states.push(ctx.session.promptState()))),
            Effect.orDie
          ),
        "get /eph"
      ])
      const events = printed.filter((l) => l.startsWith("event: WatchedEvent")).map((l) => l.slice("event: WatchedEvent ".length))
      assert.deepStrictEqual(events, [
        "state:SyncConnected type:None path:null",
        "state:Disconnected type:None path:null",
        "state:SyncConnected type:None path:null"
      ])
      assert.deepStrictEqual(states, ["CONNECTED"])
      assert.deepStrictEqual(printed.slice(-1), ["out: x"]) // same session: the ephemeral is still there
      assert.strictEqual(code, 0)
    }))

  it.scoped("tab completion: command names, then znode paths from the server", () =>
    Effect.gen(function*() {
      const { shell, withClient } = yield* setup
      yield* withClient((zk) => Effect.all([zk.create("/apple"), zk.create("/app"), zk.create("/app/beta"), zk.create("/app/alpha")]))
      const results: Array<readonly [Array<string>, string]> = []
      const press = (line: string): Hook => (ctx) => Effect.map(complete(ctx.session, line), (r) => void results.push(r))
      yield* shell(["-server", "server:2181"], [
        "sync /", // the session is up before the first Tab
        press("ge"),
        press("get /ap"),
        press("get /app/"),
        press("ls -s /app/b"),
        press("get /zz"),
        press("get /nope/x"),
        press("create /app/alpha "),
        press("")
      ])
      assert.deepStrictEqual(results, [
        [["get", "getAcl", "getAllChildrenNumber", "getEphemerals"], "ge"],
        [["/app", "/apple"], "/ap"],
        [["/app/alpha", "/app/beta"], "/app/"],
        [["/app/beta"], "/app/b"],
        [[], "/zz"],
        [[], "/nope/x"],
        [[], ""],
        [commandNames(), ""]
      ])
    }))
})

const usage = (stream: string) =>
  [
    "ZooKeeper -server host:port -client-configuration properties-file cmd args",
    "\taddWatch [-m mode] path # optional mode is one of [PERSISTENT, PERSISTENT_RECURSIVE] - default is PERSISTENT_RECURSIVE",
    "\taddauth scheme auth",
    "\tclose ",
    "\tconfig [-c] [-w] [-s]",
    "\tconnect host:port",
    "\tcreate [-s] [-e] [-c] [-t ttl] path [data] [acl]",
    "\tdelete [-v version] path",
    "\tdeleteall path [-b batch size]",
    "\tget [-s] [-w] path",
    "\tgetAcl [-s] path",
    "\tgetAllChildrenNumber path",
    "\tgetEphemerals path",
    "\thelp ",
    "\thistory ",
    "\tls [-s] [-w] [-R] path",
    "\tprintwatches on|off",
    "\tquit ",
    "\tredo cmdno",
    "\tremovewatches path [-c|-d|-a] [-l]",
    "\tset [-s] [-v version] path data",
    "\tsetAcl [-s] [-v version] [-R] path acl",
    "\tstat [-w] path",
    "\tsync path",
    "\tversion ",
    "\twhoami "
  ].map((l) => `${stream}: ${l}`)
