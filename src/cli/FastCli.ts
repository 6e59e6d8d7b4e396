/**
 * Startup fast path for the `ezk` binary. Importing @effect/cli (+ NodeContext, which it needs) costs
 * ~0.35 s of CPU on this machine, more than the rest of a cold start, so the common invocations —
 * `ezk server [flags]`, `ezk 4lw <word> [...]`, `ezk version` — are parsed with node:util's parseArgs
 * from the same flag table (ServerCommand.FLAG_KEYS). Anything else (help, completions, a typo) goes to
 * the full @effect/cli program (main.ts), so behaviour and messages stay those of the full CLI. Nothing
 * here may import Cli.ts, even lazily: the bundled fast path (dist/ezk.cjs) must not contain it.
 */
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import { parseArgs } from "node:util"
import type * as Config from "../server/Config.js"
import { FOUR_LETTER_WORDS } from "../server/fourLetter/ServerView.js"
import { fourLetterCommand } from "./FourLetterClient.js"
import { EZK_VERSION, FLAG_KEYS, type ServerFlags, serverCommand } from "./ServerCommand.js"

/** An invocation the fast path understood. */
export type FastCommand =
  | { readonly _tag: "Server"; readonly flags: ServerFlags }
  | {
    readonly _tag: "FourLetter"
    readonly word: string
    readonly server: string
    readonly mask: bigint | undefined
    readonly timeoutMs: number | undefined
  }
  | { readonly _tag: "Version" }

type ParseOptions = NonNullable<Parameters<typeof parseArgs>[0]>["options"]

const SERVER_OPTIONS: ParseOptions = {
  config: { type: "string", short: "c" },
  set: { type: "string", multiple: true },
  ...Object.fromEntries(
    FLAG_KEYS.map(([flag]) => [flag, { type: flag === "extended-types" ? ("boolean" as const) : ("string" as const) }])
  )
}

const tryParse = (args: ReadonlyArray<string>, options: ParseOptions, positionals: boolean) => {
  try {
    return parseArgs({ args: [...args], options, strict: true, allowPositionals: positionals })
  } catch {
    return undefined
  }
}

/**
 * Parses argv after `node ezk` (i.e. `process.argv.slice(2)`); undefined means "let @effect/cli decide".
 * Values are not validated here beyond shape: the server's flags go through the same Config decode as
 * zoo.cfg values, which reports bad ones by key.
 */
export const parse = (args: ReadonlyArray<string>): FastCommand | undefined => {
  const [sub, ...rest] = args
  if (sub === "version") return rest.length === 0 ? { _tag: "Version" } : undefined
  if (sub === "server") {
    const p = tryParse(rest, SERVER_OPTIONS, false)
    if (p === undefined) return undefined
    const v = p.values as Record<string, string | boolean | Array<string> | undefined>
    const flags: Record<string, unknown> = { config: v["config"], set: v["set"] }
    for (const [flag, , field] of FLAG_KEYS) flags[field] = v[flag]
    return { _tag: "Server", flags: flags as ServerFlags }
  }
  if (sub === "4lw") {
    const p = tryParse(rest, { server: { type: "string" }, mask: { type: "string" }, timeout: { type: "string" } }, true)
    if (p === undefined || p.positionals.length !== 1) return undefined
    const word = p.positionals[0]!
    const { server, mask, timeout } = p.values as Record<string, string | undefined>
    if (!(FOUR_LETTER_WORDS as ReadonlyArray<string>).includes(word)) return undefined
    if (mask !== undefined && !/^-?\d+$/.test(mask)) return undefined
    if (timeout !== undefined && !/^\d+$/.test(timeout)) return undefined
    return {
      _tag: "FourLetter",
      word,
      server: server ?? "127.0.0.1:2181",
      mask: mask === undefined ? undefined : BigInt(mask),
      timeoutMs: timeout === undefined ? undefined : Number(timeout)
    }
  }
  return undefined
}

/** Runs a parsed fast-path command. */
export const run = <E, R>(
  command: FastCommand,
  startServer: (config: Config.ZkConfig) => Effect.Effect<never, E, R>
): Effect.Effect<void, E, Exclude<R, Config.ZkConfig>> => {
  switch (command._tag) {
    case "Server":
      return serverCommand(command.flags, startServer)
    case "FourLetter":
      return fourLetterCommand(command.word, command.server, { mask: command.mask, timeoutMs: command.timeoutMs })
    case "Version":
      return Console.log(`ezk ${EZK_VERSION} (ZooKeeper 3.8 compatible)`)
  }
}
