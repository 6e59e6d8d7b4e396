/**
 * zkCli.sh 3.8's commands on znodes (cli/LsCommand.java, GetCommand, SetCommand, CreateCommand,
 * DeleteCommand, DeleteAllCommand, StatCommand, SyncCommand, GetEphemeralsCommand,
 * GetAllChildrenNumberCommand): the same flags, output on the same stream, the same failures.
 */
import { Effect, Option } from "effect"
import type { Client } from "../../client/ZooKeeper.js"
import type { ZkError } from "../../client/ZooKeeperError.js"
import { CreateMode } from "../../wire/Codes.js"
import type { Parsed } from "./CommandLine.js"
import { CliFailure, type Command, type CommandContext, intOption, printStat, request, usageOf } from "./Command.js"
import { childList, cliErrorMessage, errNumber, javaList, keeperMessage, parseAcl, pathError, renderData } from "./Format.js"

export const ls: Command = {
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

export const get: Command = {
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

export const set: Command = {
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

export const create: Command = {
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

export const remove: Command = {
  name: "delete",
  usage: "[-v version] path",
  options: { v: true },
  minArgs: 2,
  legacy: { note: "'delete path [version]' has been deprecated. Please use 'delete [-v version] path' instead.", rewrite: false },
  run: (ctx, p) =>
    intOption(p, "v", -1).pipe(Effect.flatMap((version) => request(ctx, p.args[1]!, (zk) => zk.delete(p.args[1]!, version))))
}

export const deleteAll: Command = {
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

export const stat: Command = {
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

export const sync: Command = {
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

export const getEphemerals: Command = {
  name: "getEphemerals",
  usage: "path",
  options: {},
  minArgs: 0,
  run: (ctx, p) =>
    request(ctx, p.args[1] ?? "/", (zk) => zk.getEphemerals(p.args[1] ?? "/")).pipe(
      Effect.map((paths) => ctx.io.out(javaList(paths)))
    )
}

export const getAllChildrenNumber: Command = {
  name: "getAllChildrenNumber",
  usage: "path",
  options: {},
  minArgs: 0,
  run: (ctx, p) =>
    p.args.length < 2
      ? Effect.fail(new CliFailure(usageOf(getAllChildrenNumber)))
      : request(ctx, p.args[1]!, (zk) => zk.getAllChildrenNumber(p.args[1]!)).pipe(Effect.map((n) => ctx.io.out(String(n))))
}

