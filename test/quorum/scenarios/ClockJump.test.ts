/**
 * Session expiry follows the monotonic clock, not the wall clock (ZooKeeper's SessionTrackerImpl
 * uses elapsed time since ZOOKEEPER-1366): a leader whose wall clock is stepped back ten minutes
 * still expires a vanished client's session on time, and one stepped forward does not expire live
 * sessions early. Found by the simulation (seed 100509: an ephemeral outlived its session).
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Fiber } from "effect"
import { ZooKeeper } from "../../../src/client/index.js"
import { Transport } from "../../../src/net/Transport.js"
import * as Testing from "../../../src/quorum/Testing.js"
import { CreateMode } from "../../../src/wire/Codes.js"
import { allServing, bytes, holds } from "./Ensemble.js"
import { drive, idle } from "./FakeLeader.js"

const TEN_MINUTES = 10 * 60_000

/** A session of host "app" that creates an ephemeral through s1 (a follower) and stays open (pinging). */
const ephemeralOwner = (ens: Testing.Ensemble, sessionTimeoutMs: number) =>
  Effect.scoped(
    Effect.gen(function* () {
      const zk = yield* ZooKeeper.make({ connectString: "s1:2181", sessionTimeoutMs }).pipe(Effect.provideService(Transport, ens.clientTransport("app")))
      yield* zk.create("/owned", bytes("x"), { mode: CreateMode.EPHEMERAL })
      return yield* Effect.never
    })
  )

describe("wall-clock steps and session expiry", () => {
  it.scoped("a leader whose wall clock steps back ten minutes still expires a vanished session on time", () =>
    Effect.gen(function* () {
      const ens = yield* Testing.ensemble({ nodes: 3, leader: 3 })
      yield* allServing(ens)
      const owner = yield* Effect.fork(ephemeralOwner(ens, 6000))
      yield* idle(1000)
      assert.isTrue(holds(ens, 2, "/owned"))
      ens.peers[2]!.jumpClock(-TEN_MINUTES)
      for (const p of ens.peers) ens.network.partition("app", p.host)
      // Session timeout 6 s + a tick of bucket rounding + the closeSession's commit.
      yield* idle(12_000)
      for (let i = 0; i < 3; i++) assert.isFalse(holds(ens, i, "/owned"), `s${i + 1} still holds the ephemeral of an expired session`)
      yield* drive(Fiber.interrupt(owner))
    }))

  it.scoped("a leader whose wall clock steps forward ten minutes keeps a live session", () =>
    Effect.gen(function* () {
      const ens = yield* Testing.ensemble({ nodes: 3, leader: 3 })
      yield* allServing(ens)
      // 30 s: the client pings every 10 s, so the leader's tick-by-tick expiry check (every 2 s) runs
      // several times between touches; a deadline on the wall clock would be ten minutes past.
      const owner = yield* Effect.fork(ephemeralOwner(ens, 30_000))
      yield* idle(1000)
      ens.peers[2]!.jumpClock(TEN_MINUTES)
      yield* idle(6000)
      for (let i = 0; i < 3; i++) assert.isTrue(holds(ens, i, "/owned"), `s${i + 1} lost the ephemeral of a live session`)
      yield* drive(Fiber.interrupt(owner))
    }))
})
