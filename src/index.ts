/**
 * ezk: a ZooKeeper-compatible coordination service on Effect.
 * `ezk/client` has the typed client, `ezk/server` the server Layer; both are re-exported here.
 */
export * from "./client/index.js"
export { Config, Server, ServerError, Testing } from "./server/index.js"
export * as Disk from "./disk/Disk.js"
