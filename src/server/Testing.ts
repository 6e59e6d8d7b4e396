/**
 * An in-process server for tests (ours and users'): a free loopback port, an in-memory disk,
 * TTL nodes on. `MemoryDisk` stays available so a test can crash the disk and restart.
 */
import { Layer } from "effect"
import * as Disk from "../disk/Disk.js"
import * as Config from "./Config.js"
import { ServerError } from "./ServerError.js"
import * as Server from "./Server.js"

/** The config of a test server: port 0 on 127.0.0.1, data under a memory-disk path. */
export const testConfig = (overrides: Partial<Config.ZkConfig> = {}): Config.ZkConfig =>
  Config.make({
    clientPort: 0,
    clientPortAddress: "127.0.0.1",
    dataDir: "/ezk-test/data",
    extendedTypesEnabled: true,
    ...overrides
  })

/** ZkServer on a fresh in-memory disk; read `host`/`port` from the ZkServer service. */
export const layer = (overrides: Partial<Config.ZkConfig> = {}): Layer.Layer<Server.ZkServer | Disk.MemoryDisk, ServerError> =>
  Server.layer(testConfig(overrides)).pipe(Layer.provideMerge(Disk.layerMemory()))

/** ZkServer on the Disk (and MemoryDisk) already in context, e.g. to restart over a crashed memory disk. */
export const layerOnDisk = (overrides: Partial<Config.ZkConfig> = {}): Layer.Layer<Server.ZkServer, ServerError, Disk.Disk> =>
  Server.layer(testConfig(overrides))
