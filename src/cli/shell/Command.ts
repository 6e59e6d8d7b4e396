/**
 * What every shell command shares: the failure zkCli's CliException stands for, the command shape,
 * and running a request the way zkCli's commands do (path checked first, failures as zkCli words them).
 */
import { Data, Effect } from "effect"
import type { Client } from "../../client/ZooKeeper.js"
import type { ZkError } from "../../client/ZooKeeperError.js"
import type { Stat } from "../../wire/ClientRecords.js"
import type { OptionSpec, Parsed } from "./CommandLine.js"
import { cliErrorMessage, keeperMessage, pathError, statLines } from "./Format.js"
import type { Io, NotConnected, Session } from "./Session.js"

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

export const usageOf = (c: Pick<Command, "name" | "usage">) => `${c.name} ${c.usage}`

/** Validates a path first (the Java client does, before sending), then runs `f` with the client. */
export const request = <A>(
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

export const intOption = (p: Parsed, key: string, fallback: number): Effect.Effect<number, CliFailure> => {
  const text = p.values.get(key)
  if (text === undefined) return Effect.succeed(fallback)
  // Integer.parseInt's failure surfaces in zkCli as the NumberFormatException text.
  return /^[-+]?\d+$/.test(text) && Math.abs(Number(text)) <= 2 ** 31
    ? Effect.succeed(Number(text))
    : Effect.fail(new CliFailure(`For input string: "${text}"`))
}

export const printStat = (ctx: CommandContext, show: boolean) => (stat: Stat) =>
  Effect.sync(() => {
    if (show) for (const l of statLines(stat)) ctx.io.out(l)
  })

