/**
 * Entry of `ezk shell` (bundled as dist/ezk-shell.cjs; bin/ezk.cjs loads it for `ezk shell ...`,
 * main.ts for an unbundled build). Its own entry keeps the shell's start-up free of @effect/cli and
 * the server, and the server's fast path free of the client.
 */
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import { runShell } from "./shell/Shell.js"
import { processIo, stdinLines } from "./shell/Terminal.js"

/** Runs `ezk shell` with `argv` (the words after `shell`) and exits with zkCli's exit code. */
export const runShellMain = (argv: ReadonlyArray<string>): void => {
  const io = processIo()
  NodeRuntime.runMain(Effect.scoped(runShell(argv, io, stdinLines(io))), {
    disableErrorReporting: false,
    teardown: (exit) => process.exit(Exit.isSuccess(exit) && typeof exit.value === "number" ? exit.value : 1)
  })
}
