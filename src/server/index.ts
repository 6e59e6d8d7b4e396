/**
 * The ezk server as a library: `import { Server, Config, Testing } from "ezk/server"`.
 */

/** The server Layer (`Server.layer(config)`), `Server.make` for a scope, `Server.run` until interrupted. */
export * as Server from "./Server.js"

/** ZkConfig: defaults, zoo.cfg loading, flag layering. */
export * as Config from "./Config.js"

/** In-process servers on a free port with an in-memory disk, for test suites. */
export * as Testing from "./Testing.js"

export { ServerError } from "./ServerError.js"
