#!/usr/bin/env node
/**
 * The complete `ezk` command (the @effect/cli program): help, completions and error messages for
 * anything the fast path (FastMain.ts) does not take, and `ezk shell` (ShellMain.ts). bin/ezk.cjs runs
 * the bundles of all three.
 */
import * as NodeContext from "@effect/platform-node/NodeContext"
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import * as Effect from "effect/Effect"
import { makeCli } from "./Cli.js"
import * as FastCli from "./FastCli.js"
import { runShellMain } from "./ShellMain.js"
import { startServer } from "./StartServer.js"

// `ezk shell` takes zkCli.sh's argv (`-server host:port`, then a command), which @effect/cli cannot parse.
if (process.argv[2] === "shell") runShellMain(process.argv.slice(3))
else {
  const fast = FastCli.parse(process.argv.slice(2))
  NodeRuntime.runMain(
    fast !== undefined ? FastCli.run(fast, startServer) : makeCli(startServer)(process.argv).pipe(Effect.provide(NodeContext.layer))
  )
}
