/**
 * Until replication runs, a config with server.N peers must not start: each node would otherwise
 * serve its own standalone database and clients would take three databases for one ensemble.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Exit, Layer } from "effect"
import * as Config from "../../src/server/Config.js"
import * as Disk from "../../src/disk/Disk.js"
import * as Server from "../../src/server/Server.js"
import * as Testing from "../../src/server/Testing.js"

const quorum = (servers: number, standaloneEnabled = true): Config.ZkConfig["quorum"] => ({
  ...Config.defaults.quorum,
  initLimit: 10,
  syncLimit: 5,
  standaloneEnabled,
  servers: Array.from({ length: servers }, (_, i) => ({
    sid: i + 1,
    addresses: [{ host: "127.0.0.1", quorumPort: 2888 + i, electionPort: 3888 + i }],
    type: "participant" as const,
    clientAddress: undefined,
    spec: `127.0.0.1:${2888 + i}:${3888 + i}`
  }))
})

const start = (q: Config.ZkConfig["quorum"]) =>
  Effect.scoped(Layer.build(Server.layer(Testing.testConfig({ quorum: q })).pipe(Layer.provide(Disk.layerMemory()))))

describe("a quorum config", () => {
  it.live("with three server.N lines is refused with a clear error", () =>
    Effect.gen(function* () {
      const exit = yield* Effect.exit(start(quorum(3)))
      assert.isTrue(Exit.isFailure(exit))
      const error = Exit.isFailure(exit) ? String(exit.cause) : ""
      assert.match(error, /server\.N peers: that is a replicated ensemble member/)
    }))

  it.live("with one server.N line and standaloneEnabled=false is refused", () =>
    Effect.gen(function* () {
      assert.isTrue(Exit.isFailure(yield* Effect.exit(start(quorum(1, false)))))
    }))

  it.live("with one server.N line and standaloneEnabled=true runs standalone, as in ZooKeeper", () =>
    Effect.gen(function* () {
      assert.isTrue(Exit.isSuccess(yield* Effect.exit(start(quorum(1)))))
    }))
})
