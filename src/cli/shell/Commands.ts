/**
 * The zkCli.sh 3.8 commands that talk to the server, each as zkCli implements it (cli/*Command.java):
 * the same flags, the same output on stdout/stderr and the same failures. A failure carries the
 * message and exit code zkCli's CliException would; the REPL prints it on stderr.
 */
import { Data, Effect, Option } from "effect"
import { AddWatchMode, CreateMode } from "../../wire/Codes.js"
import type { Client } from "../../client/ZooKeeper.js"
import type { ZkError } from "../../client/ZooKeeperError.js"
import { EZK_VERSION } from "../../Version.js"
import { type OptionSpec, type Parsed } from "./CommandLine.js"
import {
  aclLines,
  childList,
  cliErrorMessage,
  errNumber,
  javaList,
  keeperMessage,
  parseAcl,
  pathError,
  renderData,
  statLines
} from "./Format.js"
import { NotConnected, type Io, type Session } from "./Session.js"

/** A failed command: zkCli prints `message` on stderr and exits with `exitCode` (1 unless said). */
export class CliFailure extends Data.TaggedError("CliFailure")<{ readonly message: string; readonly exitCode: number }> {
  constructor(message: string, exitCode = 1) {
    super({ message, exitCode })
  }
}

/** What a command may use. */
export interface CommandContext {
  readonly session: Session
  readonly io: Io
}

/** One server command: its flags, usage text (zkCli's option string) and body. */
export interface Command {
  readonly name: string
  readonly usage: string
  readonly options: OptionSpec
  /** Fewer plain arguments (counting the command itself) is a usage error. */
  readonly minArgs: number
  /**
   * zkCli 3.4's forms (`get path watch`, `delete path version`): a third argument prints this
   * deprecation note; with `rewrite`, zkCli then reads the third word as `-w`.
   */
  readonly legacy?: { readonly note: string; readonly rewrite: boolean }
  readonly run: (ctx: CommandContext, p: Parsed) => Effect.Effect<void, CliFailure | NotConnected>
}

const usageOf = (c: Pick<Command, "name" | "usage">) => `${c.name} ${c.usage}`

/** Validates a path first (the Java client does, before sending), then runs `f` with the client. */
const request = <A>(
  ctx: CommandContext,
  path: string,
  f: (zk: Client) => Effect.Effect<A, ZkError>,
  options: { readonly sequential?: boolean } = {}
): Effect.Effect<A, CliFailure | NotConnected> => {
  const bad = pathError(path, options.sequential)
  if (bad !== undefined) return Effect.fail(new CliFailure(bad))
  return ctx.session.client.pipe(Effect.flatMap(f), Effect.mapError((e) => toFailure(e, path)))
}

/** A request's failure as zkCli prints it. */
export const toFailure = (e: ZkError | NotConnected | CliFailure, path: string): CliFailure | NotConnected => {
  switch (e._tag) {
    case "CliFailure":
    case "NotConnected":
      return e
    case "KeeperError":
      return new CliFailure(cliErrorMessage(e.code, e.path === "" ? path : e.path))
    case "ConnectionLoss":
      return new CliFailure(keeperMessage("ConnectionLoss", path))
    case "SessionExpired":
      return new CliFailure(keeperMessage("SessionExpired", path))
  }
}

const intOption = (p: Parsed, key: string, fallback: number): Effect.Effect<number, CliFailure> => {
  const text = p.values.get(key)
  if (text === undefined) return Effect.succeed(fallback)
  // Integer.parseInt's failure surfaces in zkCli as the NumberFormatException text.
  return /^[-+]?\d+$/.test(text) && Math.abs(Number(text)) <= 2 ** 31
    ? Effect.succeed(Number(text))
    : Effect.fail(new CliFailure(`For input string: "${text}"`))
}

const printStat = (ctx: CommandContext, show: boolean) => (stat: import("../../wire/ClientRecords.js").Stat) =>
  Effect.sync(() => {
    if (show) for (const l of statLines(stat)) ctx.io.out(l)
  })

const ls: Command = {
  name: "ls",
  usage: "[-s] [-w] [-R] path",
  options: { "?": false, s: false, w: false, R: false },
  minArgs: 1,
  legacy: { note: "'ls path [watch]' has been deprecated. Please use 'ls [-w] path' instead.", rewrite: true },
  run: (ctx, p) => {
    if (p.args.length < 2) return Effect.fail(new CliFailure(usageOf(ls)))
    const path = p.args[1]!
    const watch = p.flags.has("w")
    if (p.flags.has("R")) return request(ctx, path, (zk) => listTree(ctx, zk, path, watch))
    return request(ctx, path, (zk) =>
      Effect.gen(function*() {
        if (watch) {
          const r = yield* zk.getChildren2Watch(path)
          yield* ctx.session.printOneShot(r.watch)
          return r
        }
        return yield* zk.getChildren2(path)
      })).pipe(
        Effect.tap((r) => ctx.io.out(childList(r.children))),
        Effect.flatMap((r) => printStat(ctx, p.flags.has("s"))(r.stat))
      )
  }
}

/** ZKUtil.visitSubTreeDFS: the root, then each node's sorted children before their subtrees. */
const listTree = (ctx: CommandContext, zk: Client, root: string, watch: boolean): Effect.Effect<void, ZkError> =>
  Effect.gen(function*() {
    if (watch) yield* ctx.session.printOneShot((yield* zk.getDataWatch(root)).watch)
    else yield* zk.getData(root)
    ctx.io.out(root)
    const visit = (path: string): Effect.Effect<void, ZkError> =>
      Effect.gen(function*() {
        const read = watch
          ? zk.getChildrenWatch(path).pipe(Effect.tap((r) => ctx.session.printOneShot(r.watch)), Effect.map((r) => r.children))
          : zk.getChildren(path)
        // A node deleted between listing and visiting is skipped, as ZKUtil does.
        const children = yield* read.pipe(Effect.catchIf((e) => e._tag === "KeeperError" && e.code === "NoNode", () => Effect.succeed([])))
        const paths = [...children].sort().map((c) => (path === "/" ? `/${c}` : `${path}/${c}`))
        for (const c of paths) ctx.io.out(c)
        for (const c of paths) yield* visit(c)
      })
    yield* visit(root)
  })

const get: Command = {
  name: "get",
  usage: "[-s] [-w] path",
  options: { s: false, w: false },
  minArgs: 2,
  legacy: { note: "'get path [watch]' has been deprecated. Please use 'get [-s] [-w] path' instead.", rewrite: true },
  run: (ctx, p) => {
    const path = p.args[1]!
    return request(ctx, path, (zk) =>
      p.flags.has("w")
        ? zk.getDataWatch(path).pipe(Effect.tap((r) => ctx.session.printOneShot(r.watch)))
        : zk.getData(path)).pipe(
        Effect.tap((r) => ctx.io.out(renderData(r.data))),
        Effect.flatMap((r) => printStat(ctx, p.flags.has("s"))(r.stat))
      )
  }
}

const set: Command = {
  name: "set",
  usage: "[-s] [-v version] path data",
  options: { s: false, v: true },
  minArgs: 3,
  run: (ctx, p) =>
    intOption(p, "v", -1).pipe(
      Effect.flatMap((version) => request(ctx, p.args[1]!, (zk) => zk.setData(p.args[1]!, p.args[2]!, version))),
      Effect.flatMap(printStat(ctx, p.flags.has("s")))
    )
}

/** EphemeralType.TTL's largest value (40 bits). */
const MAX_TTL = 0xffffffffff

const createMode = (p: Parsed): number | CliFailure => {
  const [e, s, c, t] = ["e", "s", "c", "t"].map((f) => p.flags.has(f))
  if (c && (e || s)) return new CliFailure("-c cannot be combined with -s or -e. Containers cannot be ephemeral or sequential.")
  const ttlText = p.values.get("t")
  if (t && !/^[-+]?\d+$/.test(ttlText ?? "")) return new CliFailure("-t argument must be a long value")
  if (t && e) return new CliFailure("TTLs cannot be used with Ephemeral znodes")
  if (t && c) return new CliFailure("TTLs cannot be used with Container znodes")
  if (t && (Number(ttlText) <= 0 || Number(ttlText) > MAX_TTL)) {
    return new CliFailure(`ttl must be positive and cannot be larger than: ${MAX_TTL}`)
  }
  if (e) return s ? CreateMode.EPHEMERAL_SEQUENTIAL : CreateMode.EPHEMERAL
  if (s) return t ? CreateMode.PERSISTENT_SEQUENTIAL_WITH_TTL : CreateMode.PERSISTENT_SEQUENTIAL
  if (c) return CreateMode.CONTAINER
  return t ? CreateMode.PERSISTENT_WITH_TTL : CreateMode.PERSISTENT
}

const create: Command = {
  name: "create",
  usage: "[-s] [-e] [-c] [-t ttl] path [data] [acl]",
  options: { e: false, s: false, c: false, t: true },
  minArgs: 2,
  run: (ctx, p) => {
    const mode = createMode(p)
    if (mode instanceof CliFailure) return Effect.fail(mode)
    const path = p.args[1]!
    const ttl = p.values.get("t")
    let acl
    if (p.args[3] !== undefined) {
      const parsed = parseAcl(p.args[3])
      for (const w of parsed.warnings) ctx.io.err(w)
      acl = parsed.acl
    }
    if (acl !== undefined && acl.length === 0) return invalidAcl(ctx)
    const options = { mode, ...(acl !== undefined ? { acl } : {}), ...(ttl !== undefined ? { ttl: Number(ttl) } : {}) }
    const sequential = mode === CreateMode.PERSISTENT_SEQUENTIAL || mode === CreateMode.EPHEMERAL_SEQUENTIAL ||
      mode === CreateMode.PERSISTENT_SEQUENTIAL_WITH_TTL
    return request(ctx, path, (zk) => zk.create(path, p.args[2] ?? null, options), { sequential }).pipe(
      Effect.tap((created) => ctx.io.err(`Created ${created}`)),
      Effect.tapError((e) =>
        // zkCli prints the raw InvalidACL message too, before its friendly one.
        Effect.sync(() => {
          if (e._tag === "CliFailure" && e.message.startsWith("Acl is not valid")) ctx.io.err(keeperMessage("InvalidACL", path))
        })
      ),
      Effect.asVoid
    )
  }
}

/** The Java client refuses an empty ACL before sending (InvalidACLException without a path). */
const invalidAcl = (ctx: CommandContext) =>
  Effect.suspend(() => {
    ctx.io.err(keeperMessage("InvalidACL", ""))
    return Effect.fail(new CliFailure("Acl is not valid : null"))
  })

const remove: Command = {
  name: "delete",
  usage: "[-v version] path",
  options: { v: true },
  minArgs: 2,
  legacy: { note: "'delete path [version]' has been deprecated. Please use 'delete [-v version] path' instead.", rewrite: false },
  run: (ctx, p) =>
    intOption(p, "v", -1).pipe(Effect.flatMap((version) => request(ctx, p.args[1]!, (zk) => zk.delete(p.args[1]!, version))))
}

const deleteAll: Command = {
  name: "deleteall",
  usage: "path [-b batch size]",
  options: { b: true },
  minArgs: 2,
  run: (ctx, p) => {
    const text = p.values.get("b")
    if (text !== undefined && !/^[-+]?\d+$/.test(text)) return Effect.fail(new CliFailure("-b argument must be an int value"))
    const batch = Math.max(1, text === undefined ? 1000 : Number(text))
    const root = p.args[1]!
    return request(ctx, root, (zk) =>
      Effect.gen(function*() {
        // ZKUtil.deleteRecursive: list the tree breadth-first, delete leaves first in multi batches.
        const tree = [root]
        for (let i = 0; i < tree.length; i++) {
          const node = tree[i]!
          for (const c of yield* zk.getChildren(node)) tree.push(node === "/" ? `/${c}` : `${node}/${c}`)
        }
        const ops = tree.reverse()
        for (let i = 0; i < ops.length; i += batch) {
          const ok = yield* zk.multi(ops.slice(i, i + batch).map((path) => ({ _tag: "Delete" as const, path, version: -1 }))).pipe(
            Effect.as(true),
            Effect.catchTag("MultiError", () => Effect.succeed(false))
          )
          if (!ok) {
            ctx.io.err("Failed to delete some node(s) in the subtree!")
            return
          }
        }
      }))
  }
}

const stat: Command = {
  name: "stat",
  usage: "[-w] path",
  options: { w: false },
  minArgs: 2,
  legacy: { note: "'stat path [watch]' has been deprecated. Please use 'stat [-w] path' instead.", rewrite: true },
  run: (ctx, p) => {
    const path = p.args[1]!
    return request(ctx, path, (zk) =>
      p.flags.has("w")
        ? zk.existsWatch(path).pipe(Effect.tap((r) => ctx.session.printOneShot(r.watch)), Effect.map((r) => r.stat))
        : zk.exists(path)).pipe(
        Effect.flatMap(Option.match({
          onNone: () => Effect.fail(new CliFailure(cliErrorMessage("NoNode", path))),
          onSome: printStat(ctx, true)
        }))
      )
  }
}

const getAcl: Command = {
  name: "getAcl",
  usage: "[-s] path",
  options: { s: false },
  minArgs: 2,
  run: (ctx, p) =>
    request(ctx, p.args[1]!, (zk) => zk.getACL(p.args[1]!)).pipe(
      Effect.tap((r) => {
        for (const a of r.acl) for (const l of aclLines(a)) ctx.io.out(l)
      }),
      Effect.flatMap((r) => printStat(ctx, p.flags.has("s"))(r.stat))
    )
}

const setAcl: Command = {
  name: "setAcl",
  usage: "[-s] [-v version] [-R] path acl",
  options: { s: false, v: true, R: false },
  minArgs: 3,
  run: (ctx, p) =>
    Effect.gen(function*() {
      const root = p.args[1]!
      const parsed = parseAcl(p.args[2]!)
      for (const w of parsed.warnings) ctx.io.err(w)
      const version = yield* intOption(p, "v", -1)
      if (parsed.acl.length === 0) return yield* Effect.fail(new CliFailure("Acl is not valid : null"))
      if (!p.flags.has("R")) {
        return yield* request(ctx, root, (zk) => zk.setACL(root, parsed.acl, version)).pipe(
          Effect.flatMap(printStat(ctx, p.flags.has("s")))
        )
      }
      // -R: every node of the subtree; a node's failure is printed (zkCli: without a newline) and skipped.
      yield* request(ctx, root, (zk) =>
        Effect.gen(function*() {
          yield* zk.getData(root)
          const visit = (path: string): Effect.Effect<void, ZkError> =>
            Effect.gen(function*() {
              yield* zk.setACL(path, parsed.acl, version).pipe(
                Effect.catchTag("KeeperError", (e) => Effect.sync(() => ctx.io.out(keeperMessage(e.code, path))))
              )
              const children = yield* zk.getChildren(path).pipe(Effect.orElseSucceed(() => []))
              for (const c of [...children].sort()) yield* visit(path === "/" ? `/${c}` : `${path}/${c}`)
            })
          yield* visit(root)
        }))
    })
}

const addAuth: Command = {
  name: "addauth",
  usage: "scheme auth",
  options: {},
  minArgs: 2,
  // zkCli sends the auth packet and returns; a rejected one shows up as the AuthFailed session event.
  run: (ctx, p) =>
    ctx.session.client.pipe(
      Effect.flatMap((zk) => zk.addAuth(p.args[1]!, p.args[2] ?? new Uint8Array(0))),
      Effect.catchIf((e) => e._tag !== "NotConnected", () => Effect.void)
    )
}

const whoAmI: Command = {
  name: "whoami",
  usage: "",
  options: {},
  minArgs: 0,
  run: (ctx) =>
    request(ctx, "/", (zk) => zk.whoAmI).pipe(
      Effect.mapError((e) => (e._tag === "CliFailure" ? new CliFailure(e.message.replace(/ for \/$/, "")) : e)),
      Effect.tap((ids) => {
        ctx.io.out("Auth scheme: User")
        for (const id of ids) ctx.io.out(`${id.scheme}: ${id.user}`)
      }),
      Effect.asVoid
    )
}

const sync: Command = {
  name: "sync",
  usage: "path",
  options: {},
  minArgs: 2,
  run: (ctx, p) => {
    const path = p.args[1]!
    const bad = pathError(path)
    if (bad !== undefined) return Effect.fail(new CliFailure(bad))
    // zkCli waits for the callback and prints its result code rather than failing.
    return ctx.session.client.pipe(
      Effect.flatMap((zk) => zk.sync(path)),
      Effect.as("Sync is OK"),
      Effect.catchAll((e) =>
        e._tag === "NotConnected"
          ? Effect.fail(e)
          : Effect.succeed(
            `Sync has failed. rc=${errNumber(e._tag === "KeeperError" ? e.code : e._tag === "ConnectionLoss" ? "ConnectionLoss" : "SessionExpired")}`
          )
      ),
      Effect.map((line) => ctx.io.out(line))
    )
  }
}

const addWatchUsage = "[-m mode] path # optional mode is one of [PERSISTENT, PERSISTENT_RECURSIVE] - default is PERSISTENT_RECURSIVE"

const addWatch: Command = {
  name: "addWatch",
  usage: addWatchUsage,
  options: { m: true },
  minArgs: 2,
  run: (ctx, p) => {
    const mode = (p.values.get("m") ?? "PERSISTENT_RECURSIVE").toUpperCase()
    if (p.args.length !== 2 || !(mode in AddWatchMode)) return Effect.fail(new CliFailure(usageOf(addWatch)))
    const path = p.args[1]!
    const bad = pathError(path)
    if (bad !== undefined) return Effect.fail(new CliFailure(bad))
    return ctx.session.addPersistent(path, mode === "PERSISTENT" ? "Persistent" : "PersistentRecursive").pipe(
      Effect.mapError((e) => toFailure(e, path))
    )
  }
}

const removeWatches: Command = {
  name: "removewatches",
  usage: "path [-c|-d|-a] [-l]",
  options: { c: false, d: false, a: false, l: false },
  minArgs: 2,
  run: (ctx, p) => {
    const kind = p.flags.has("c") ? "Children" : p.flags.has("d") ? "Data" : "Any"
    return request(ctx, p.args[1]!, (zk) => zk.removeWatches(p.args[1]!, kind))
  }
}

const getEphemerals: Command = {
  name: "getEphemerals",
  usage: "path",
  options: {},
  minArgs: 0,
  run: (ctx, p) =>
    request(ctx, p.args[1] ?? "/", (zk) => zk.getEphemerals(p.args[1] ?? "/")).pipe(
      Effect.map((paths) => ctx.io.out(javaList(paths)))
    )
}

const getAllChildrenNumber: Command = {
  name: "getAllChildrenNumber",
  usage: "path",
  options: {},
  minArgs: 0,
  run: (ctx, p) =>
    p.args.length < 2
      ? Effect.fail(new CliFailure(usageOf(getAllChildrenNumber)))
      : request(ctx, p.args[1]!, (zk) => zk.getAllChildrenNumber(p.args[1]!)).pipe(Effect.map((n) => ctx.io.out(String(n))))
}

/** ConfigUtils.getClientConfigStr: `version host:clientPort,...` from the dynamic config text. */
export const clientConfig = (config: string): string => {
  let version = ""
  const clients: Array<string> = []
  for (const raw of config.split("\n")) {
    const eq = raw.indexOf("=")
    if (eq < 0) continue
    const key = raw.slice(0, eq).trim()
    const value = raw.slice(eq + 1).trim()
    if (key === "version") version = value
    if (!key.startsWith("server.")) continue
    // server.N=host:quorum:election[:role][;[clientHost:]clientPort]
    const client = value.split(";")[1]
    if (client === undefined) continue
    // A client port without a host binds the wildcard address.
    clients.push(client.includes(":") ? client : `0.0.0.0:${client}`)
  }
  return `${version} ${clients.join(",")}`
}

const config: Command = {
  name: "config",
  usage: "[-c] [-w] [-s]",
  options: { c: false, w: false, s: false },
  minArgs: 1,
  run: (ctx, p) =>
    request(ctx, "/zookeeper/config", (zk) =>
      p.flags.has("w")
        ? zk.getDataWatch("/zookeeper/config").pipe(Effect.tap((r) => ctx.session.printOneShot(r.watch)))
        : zk.getConfig).pipe(
        Effect.tap((r) => {
          const text = r.data === null ? "null" : new TextDecoder().decode(r.data)
          ctx.io.out(p.flags.has("c") ? clientConfig(text) : text)
        }),
        Effect.flatMap((r) => printStat(ctx, p.flags.has("s"))(r.stat))
      )
}

const close: Command = { name: "close", usage: "", options: {}, minArgs: 0, run: (ctx) => ctx.session.close }

const version: Command = {
  name: "version",
  usage: "",
  options: {},
  minArgs: 0,
  run: (ctx) => Effect.sync(() => ctx.io.out(`ZooKeeper CLI version: ezk ${EZK_VERSION} (ZooKeeper 3.8 compatible)`))
}

/** Every server command by name. */
export const COMMANDS: ReadonlyMap<string, Command> = new Map(
  [
    ls, get, set, create, remove, deleteAll, stat, getAcl, setAcl, addAuth, whoAmI, sync, addWatch, removeWatches,
    getEphemerals, getAllChildrenNumber, config, close, version
  ].map((c) => [c.name, c])
)

/** The shell's own commands (ZooKeeperMain handles them) with their usage text. */
export const BUILTINS: ReadonlyMap<string, string> = new Map([
  ["connect", "host:port"],
  ["history", ""],
  ["redo", "cmdno"],
  ["printwatches", "on|off"],
  ["quit", ""],
  ["help", ""]
])

/** ZooKeeperMain.usage(): the usage line, then every command sorted, tab-indented. */
export const usageLines = (): Array<string> => [
  "ZooKeeper -server host:port -client-configuration properties-file cmd args",
  ...[...BUILTINS.entries(), ...[...COMMANDS.values()].map((c): [string, string] => [c.name, c.usage])]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([name, usage]) => `\t${name} ${usage}`)
]

/** Names for tab completion. */
export const commandNames = (): Array<string> => [...BUILTINS.keys(), ...COMMANDS.keys()].sort()
