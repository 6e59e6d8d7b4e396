#!/usr/bin/env node
/**
 * The `ezk` command: the only place that runs an Effect as a program (STYLE §2.1). Imports stay
 * on subpaths and the @effect/cli parser loads only when the fast path does not apply, because
 * cold start to the first served request is a benchmark target.
 */
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Disk from "../disk/Disk.js"
import type { ZkConfig } from "../server/Config.js"
import * as Server from "../server/Server.js"
import * as FastCli from "./FastCli.js"

const startServer = (config: ZkConfig) =>
  Server.run(config).pipe(
    Effect.provide(Disk.layerNode),
    // A server that cannot start prints one line and exits non-zero.
    Effect.catchTag("ServerError", (e) =>
      Console.error(`ezk: ${e.message}`).pipe(Effect.zipRight(Effect.sync(() => process.exit(1))), Effect.zipRight(Effect.never))
    )
  )

NodeRuntime.runMain(FastCli.main(process.argv, startServer))
