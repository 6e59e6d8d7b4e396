#!/usr/bin/env node
/**
 * The complete `ezk` command (the @effect/cli program): help, completions and error messages for
 * anything the fast path (FastMain.ts) does not take. bin/ezk.cjs runs the bundles of both.
 */
import * as NodeContext from "@effect/platform-node/NodeContext"
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import * as Effect from "effect/Effect"
import { makeCli } from "./Cli.js"
import * as FastCli from "./FastCli.js"
import { startServer } from "./StartServer.js"

const fast = FastCli.parse(process.argv.slice(2))
NodeRuntime.runMain(
  fast !== undefined ? FastCli.run(fast, startServer) : makeCli(startServer)(process.argv).pipe(Effect.provide(NodeContext.layer))
)
