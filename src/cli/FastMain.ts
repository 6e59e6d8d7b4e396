/**
 * Entry of the bundled fast path (dist/ezk.cjs, loaded by bin/ezk.cjs): runs `server`, `4lw` and
 * `version` and reports false for anything else, which bin/ezk.cjs then hands to the full CLI bundle.
 * Cold start to the first served request is a benchmark target, so this import graph stays minimal.
 */
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import * as FastCli from "./FastCli.js"
import { startServer } from "./StartServer.js"

/** Runs argv if the fast path understands it; false otherwise. */
export const runFast = (argv: ReadonlyArray<string>): boolean => {
  const command = FastCli.parse(argv.slice(2))
  if (command === undefined) return false
  NodeRuntime.runMain(FastCli.run(command, startServer))
  return true
}
