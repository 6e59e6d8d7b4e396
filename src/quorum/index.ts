/**
 * Replicated ensembles as a library: `import { QuorumServer, Ensembles } from "ezk/quorum"`.
 */

/** An ensemble member as a Layer (`QuorumServer.layer(config, { sid })`), `QuorumServer.run(config)` from a zoo.cfg. */
export * as QuorumServer from "./QuorumServer.js"

/** In-process ensembles on the simulated network and memory disks, with handles to stop, crash, restart and wipe peers. */
export * as Ensembles from "./Testing.js"
