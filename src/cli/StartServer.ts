/** What `ezk server` runs once its config is resolved: the server (or ensemble member) on the node Disk until interrupted. */
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Disk from "../disk/Disk.js"
import * as QuorumServer from "../quorum/QuorumServer.js"
import { isQuorum, type ZkConfig } from "../server/Config.js"
import * as Server from "../server/Server.js"

/** A config with server.N peers runs an ensemble member; otherwise a standalone server. */
export const startServer = (config: ZkConfig) =>
  (isQuorum(config.quorum) ? QuorumServer.run(config) : Server.run(config)).pipe(
    Effect.provide(Disk.layerNode),
    // A server that cannot start prints one line and exits non-zero.
    Effect.catchTag("ServerError", (e) =>
      Console.error(`ezk: ${e.message}`).pipe(Effect.zipRight(Effect.sync(() => process.exit(1))), Effect.zipRight(Effect.never))
    )
  )
