/**
 * The process-level faults of Testing ensembles on virtual time (SimTime): a paused peer and a
 * peer whose wall clock jumps.
 */
import { assert, describe, it } from "@effect/vitest"
import { Duration, Effect } from "effect"
import { ZooKeeper } from "../../src/client/index.js"
import { Transport } from "../../src/net/Transport.js"
import * as Testing from "../../src/quorum/Testing.js"
import * as SimTime from "../../src/sim/SimTime.js"

const bytes = (s: string) => new TextEncoder().encode(s)

const leaderOf = (ens: Testing.Ensemble) => ens.peers.find((p) => p.running()?.status.state === "LEADING" && p.running()!.core() !== null)

const until = (ready: () => boolean, limitMs = 60_000) =>
  Effect.gen(function* () {
    for (let t = 0; t < limitMs && !ready(); t += 50) yield* Effect.sleep(Duration.millis(50))
    assert.isTrue(ready(), `not reached within ${limitMs} virtual ms`)
  })

const sim = <A, E>(eff: Effect.Effect<A, E, import("effect").Scope.Scope>) => SimTime.run(Effect.scoped(eff))

describe("ensemble process faults on virtual time", () => {
  it.effect("a paused leader stops answering: the others elect a new one; resumed, it follows and catches up", () =>
    sim(
      Effect.gen(function* () {
        const ens = yield* Testing.ensemble({ nodes: 3, seed: 5, tickTime: 500 })
        yield* until(() => leaderOf(ens) !== undefined && ens.peers.every((p) => p.running()?.core() != null))
        const old = leaderOf(ens)!
        const epoch = old.running()!.context.epochs.current
        const onOld = yield* ZooKeeper.make({ connectString: `${old.host}:2181`, sessionTimeoutMs: 30_000 }).pipe(Effect.provideService(Transport, ens.clientTransport("old-client")))
        old.pause()
        yield* until(() => {
          const l = leaderOf(ens)
          return l !== undefined && l !== old && l.running()!.context.epochs.current > epoch
        })
        // The paused peer still thinks it leads: it ran nothing since.
        assert.strictEqual(old.running()!.status.state, "LEADING")
        const other = ens.peers.find((p) => p !== old)!
        const zk = yield* ZooKeeper.make({ connectString: `${other.host}:2181`, sessionTimeoutMs: 10_000 }).pipe(Effect.provideService(Transport, ens.clientTransport()))
        yield* zk.create("/after-pause", bytes("x"))
        // A session on the paused peer gets no answer, not even to a read it could serve from memory.
        const unanswered = yield* onOld.getData("/").pipe(Effect.timeout(Duration.seconds(2)), Effect.option)
        assert.isTrue(unanswered._tag === "None", "a paused peer answered a read")
        old.resume()
        yield* until(() => old.running()?.status.state === "FOLLOWING" && old.running()!.core() !== null)
        yield* until(() => new Set(ens.peers.map((p) => p.running()!.context.store.tree.lastProcessedZxid)).size === 1)
      })
    ), 120_000)

  it.effect("wall-clock jumps on the leader and a follower: sessions live on and writes commit", () =>
    sim(
      Effect.gen(function* () {
        const ens = yield* Testing.ensemble({ nodes: 3, seed: 6, tickTime: 500 })
        yield* until(() => leaderOf(ens) !== undefined && ens.peers.every((p) => p.running()?.core() != null))
        const leader = leaderOf(ens)!
        const follower = ens.peers.find((p) => p !== leader)!
        const zk = yield* ZooKeeper.make({ connectString: `${follower.host}:2181`, sessionTimeoutMs: 4000 }).pipe(Effect.provideService(Transport, ens.clientTransport()))
        yield* zk.create("/before", bytes("x"))
        leader.jumpClock(3_600_000)
        follower.jumpClock(-3_600_000)
        for (let i = 0; i < 20; i++) {
          yield* zk.setData("/before", bytes(`v${i}`))
          yield* Effect.sleep(Duration.millis(500))
        }
        assert.strictEqual(leaderOf(ens), leader)
        const { stat } = yield* zk.getData("/before")
        assert.strictEqual(stat.version, 20)
      })
    ), 120_000)
})
