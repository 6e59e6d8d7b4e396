/**
 * zkCli.sh 3.8's commands on ACLs, auth, watches, the configuration and the session
 * (cli/GetAclCommand.java, SetAclCommand, AddAuthCommand, WhoAmICommand, AddWatchCommand,
 * RemoveWatchesCommand, GetConfigCommand, CloseCommand, VersionCommand).
 */
import { Effect } from "effect"
import type { ZkError } from "../../client/ZooKeeperError.js"
import { EZK_VERSION } from "../../Version.js"
import { AddWatchMode } from "../../wire/Codes.js"
import { CliFailure, type Command, intOption, printStat, request, toFailure, usageOf } from "./Command.js"
import { aclLines, keeperMessage, parseAcl, pathError } from "./Format.js"

export const getAcl: Command = {
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

export const setAcl: Command = {
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

export const addAuth: Command = {
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

export const whoAmI: Command = {
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

const addWatchUsage = "[-m mode] path # optional mode is one of [PERSISTENT, PERSISTENT_RECURSIVE] - default is PERSISTENT_RECURSIVE"

export const addWatch: Command = {
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

export const removeWatches: Command = {
  name: "removewatches",
  usage: "path [-c|-d|-a] [-l]",
  options: { c: false, d: false, a: false, l: false },
  minArgs: 2,
  run: (ctx, p) => {
    const kind = p.flags.has("c") ? "Children" : p.flags.has("d") ? "Data" : "Any"
    return request(ctx, p.args[1]!, (zk) => zk.removeWatches(p.args[1]!, kind))
  }
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

export const config: Command = {
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

export const close: Command = { name: "close", usage: "", options: {}, minArgs: 0, run: (ctx) => ctx.session.close }

export const version: Command = {
  name: "version",
  usage: "",
  options: {},
  minArgs: 0,
  run: (ctx) => Effect.sync(() => ctx.io.out(`ZooKeeper CLI version: ezk ${EZK_VERSION} (ZooKeeper 3.8 compatible)`))
}

