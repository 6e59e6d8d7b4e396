/**
 * Whole ensembles in one process (src/quorum/Testing.ts): peers on the memory network, each with
 * its own memory disk, driven by TestClock. The leader is fixed here (the roles are under test,
 * not the election).
 */
import { assert, describe, it } from "@effect/vitest"
import { Duration, Effect, Fiber, Option, type Scope, TestClock } from "effect"
import { sendFourLetterWord } from "../../src/cli/FourLetterClient.js"
import { ZooKeeper } from "../../src/client/index.js"
import { Transport } from "../../src/net/Transport.js"
import * as Testing from "../../src/quorum/Testing.js"

const bytes = (s: string) => new TextEncoder().encode(s)
const text = (b: Uint8Array | null) => (b === null ? null : new TextDecoder().decode(b))

/** Runs `eff` (forked) while advancing TestClock in steps, until it completes. */
const drive = <A, E>(eff: Effect.Effect<A, E, Scope.Scope>, stepMs = 50, maxSteps = 4000) =>
  Effect.gen(function* () {
    const fiber = yield* Effect.fork(Effect.scoped(eff))
    for (let i = 0; i < maxSteps && Option.isNone(yield* Fiber.poll(fiber)); i++) yield* TestClock.adjust(Duration.millis(stepMs))
    return yield* Fiber.join(fiber)
  })

const client = (ens: Testing.Ensemble, connectString: string) =>
  ZooKeeper.make({ connectString, sessionTimeoutMs: 10_000 }).pipe(Effect.provideService(Transport, ens.clientTransport()))

/** Waits until every running peer serves. */
const allServing = (ens: Testing.Ensemble) =>
  drive(
    Effect.gen(function* () {
      while (ens.peers.some((p) => p.running() !== null && p.running()!.core() === null)) yield* Effect.sleep(Duration.millis(100))
    })
  )

const lastZxids = (ens: Testing.Ensemble) => ens.peers.map((p) => p.running()?.context.store.tree.lastProcessedZxid)

describe("in-process ensemble (fixed leader)", () => {
  it.scoped("three peers: the leader serves after a quorum synced; writes through a follower are read on every peer", () =>
    Effect.gen(function* () {
      const ens = yield* Testing.ensemble({ nodes: 3, leader: 3 })
      yield* allServing(ens)
      assert.deepStrictEqual(ens.peers.map((p) => p.running()!.status.state), ["FOLLOWING", "FOLLOWING", "LEADING"])

      const result = yield* drive(
        Effect.gen(function* () {
          const zk = yield* client(ens, "s1:2181")
          yield* zk.create("/a", bytes("one"))
          yield* zk.setData("/a", bytes("two"))
          const reads = []
          for (const host of ["s1", "s2", "s3"]) {
            const other = yield* client(ens, `${host}:2181`)
            yield* other.sync("/a")
            reads.push(text((yield* other.getData("/a")).data))
          }
          return reads
        })
      )
      assert.deepStrictEqual(result, ["two", "two", "two"])
      const word = (host: string, w: string) =>
        drive(sendFourLetterWord(host, 2181, w).pipe(Effect.provideService(Transport, ens.clientTransport())))
      assert.match(yield* word("s1", "srvr"), /\nMode: follower\n/)
      assert.match(yield* word("s3", "srvr"), /\nMode: leader\n/)
      const mntr = yield* word("s3", "mntr")
      assert.match(mntr, /\nzk_server_state\tleader\n/)
      assert.match(mntr, /\nzk_synced_followers\t2\n/)
      // Leader and followers time their log syncs too (only the standalone group commit did).
      for (const host of ["s1", "s3"]) assert.match(yield* word(host, "mntr"), /\nzk_cnt_fsynctime\t[1-9][0-9]*\n/, `${host} recorded no fsync`)
      assert.match(mntr, /\nzk_peer_state\tleading - broadcast\n/)
      const zxids = lastZxids(ens)
      assert.strictEqual(new Set(zxids).size, 1, `last zxids ${zxids.map((z) => z?.toString(16)).join(",")}`)
      assert.strictEqual(Math.floor(zxids[0]! / 2 ** 32), 1, "the first epoch is 1")
    }))

  it.scoped("a stopped follower misses writes, the rest commit them, and it catches up when it returns", () =>
    Effect.gen(function* () {
      const ens = yield* Testing.ensemble({ nodes: 3, leader: 3 })
      yield* allServing(ens)
      yield* ens.peers[0]!.stop
      yield* drive(
        Effect.gen(function* () {
          const zk = yield* client(ens, "s2:2181")
          for (let i = 0; i < 5; i++) yield* zk.create(`/n${i}`, bytes(String(i)))
        })
      )
      yield* ens.peers[0]!.start
      yield* allServing(ens)
      const seen = yield* drive(
        Effect.gen(function* () {
          const zk = yield* client(ens, "s1:2181")
          yield* zk.sync("/")
          return (yield* zk.getChildren("/")).filter((c) => c.startsWith("n")).sort()
        })
      )
      assert.deepStrictEqual(seen, ["n0", "n1", "n2", "n3", "n4"])
      assert.strictEqual(new Set(lastZxids(ens)).size, 1)
    }))

  it.scoped("a follower whose data dir was wiped is brought back by a snapshot", () =>
    Effect.gen(function* () {
      const ens = yield* Testing.ensemble({ nodes: 3, leader: 3 })
      yield* allServing(ens)
      yield* drive(
        Effect.gen(function* () {
          const zk = yield* client(ens, "s3:2181")
          for (let i = 0; i < 3; i++) yield* zk.create(`/w${i}`, bytes(String(i)))
        })
      )
      yield* ens.peers[1]!.stop
      yield* ens.peers[1]!.wipe
      yield* ens.peers[1]!.start
      yield* allServing(ens)
      const data = yield* drive(
        Effect.gen(function* () {
          const zk = yield* client(ens, "s2:2181")
          return text((yield* zk.getData("/w2")).data)
        })
      )
      assert.strictEqual(data, "2")
    }))
})

describe("in-process ensemble (FastLeaderElection)", () => {
  it.scoped("three peers elect the highest sid; the leader crashes; the others elect a new one and lose nothing acknowledged", () =>
    Effect.gen(function* () {
      const ens = yield* Testing.ensemble({ nodes: 3 })
      yield* allServing(ens)
      assert.deepStrictEqual(ens.peers.map((p) => p.running()!.status.state), ["FOLLOWING", "FOLLOWING", "LEADING"])
      yield* drive(
        Effect.gen(function* () {
          const zk = yield* client(ens, "s1:2181")
          for (let i = 0; i < 5; i++) yield* zk.create(`/before${i}`, bytes(String(i)))
        })
      )
      yield* ens.peers[2]!.crash
      yield* allServing(ens)
      const states = ens.peers.slice(0, 2).map((p) => p.running()!.status.state)
      assert.deepStrictEqual([...states].sort(), ["FOLLOWING", "LEADING"])
      const epochs = ens.peers.slice(0, 2).map((p) => p.running()!.context.epochs.current)
      assert.deepStrictEqual(epochs, [2, 2], "the new leader started epoch 2")
      const seen = yield* drive(
        Effect.gen(function* () {
          const zk = yield* client(ens, "s1:2181,s2:2181")
          yield* zk.create("/after", bytes("x"))
          yield* zk.sync("/")
          return (yield* zk.getChildren("/")).filter((c) => c.startsWith("before") || c === "after").sort()
        })
      )
      assert.deepStrictEqual(seen, ["after", "before0", "before1", "before2", "before3", "before4"])
      // The old leader returns as a follower and catches up.
      yield* ens.peers[2]!.start
      yield* allServing(ens)
      assert.strictEqual(ens.peers[2]!.running()!.status.state, "FOLLOWING")
      assert.strictEqual(new Set(lastZxids(ens)).size, 1, `last zxids ${lastZxids(ens).map((z) => z?.toString(16)).join(",")}`)
    }))
})

describe("in-process ensemble: without a quorum", () => {
  it.scoped("a peer that lost its quorum stops serving; four-letter words say so, as ZooKeeper's do", () =>
    Effect.gen(function* () {
      const ens = yield* Testing.ensemble({ nodes: 3 })
      yield* allServing(ens)
      yield* ens.peers[0]!.crash
      yield* ens.peers[1]!.crash
      const word = (w: string) => drive(sendFourLetterWord("s3", 2181, w).pipe(Effect.provideService(Transport, ens.clientTransport())))
      const srvr = yield* drive(
        Effect.gen(function* () {
          for (;;) {
            const reply = yield* word("srvr")
            if (!reply.includes("Mode:")) return reply
            yield* Effect.sleep(Duration.millis(500))
          }
        })
      )
      assert.strictEqual(srvr, "This ZooKeeper instance is not currently serving requests\n")
      assert.strictEqual(yield* word("ruok"), "imok")
      assert.strictEqual(ens.peers[2]!.running()!.status.state, "LOOKING")
    }))
})

describe("in-process ensemble: a leader's committed log spans its roles", () => {
  it.scoped("a peer restarted, then following, then leading DIFFs its followers from what it applied since (no stale TRUNC)", () =>
    Effect.gen(function* () {
      const ens = yield* Testing.ensemble({ nodes: 3 })
      yield* allServing(ens)
      const write = (host: string, prefix: string, n: number) =>
        drive(
          Effect.gen(function* () {
            const zk = yield* client(ens, `${host}:2181`)
            for (let i = 0; i < n; i++) yield* zk.create(`/${prefix}${i}`, bytes(String(i)))
          })
        )
      yield* write("s1", "a", 5)
      // Restart everyone: each recovers with the first writes as its replayed tail.
      for (const p of ens.peers) yield* p.stop
      for (const p of ens.peers) yield* p.start
      yield* allServing(ens)
      yield* write("s1", "b", 5)
      // s1 falls behind; the leader goes while s1 is away; s1 returns to a follower-turned-leader
      // (s2) whose replayed tail ends long before s1's last zxid.
      yield* ens.peers[0]!.stop
      yield* drive(Effect.gen(function* () { const zk = yield* client(ens, "s2:2181"); yield* zk.create("/b5", bytes("5")); yield* zk.create("/b6", bytes("6")) }))
      yield* ens.peers[2]!.crash
      yield* ens.peers[0]!.start
      yield* allServing(ens)
      assert.strictEqual(ens.peers[1]!.running()!.status.state, "LEADING")
      yield* write("s1", "c", 2)
      const children = yield* drive(
        Effect.gen(function* () {
          const out = []
          for (const host of ["s1", "s2"]) {
            const zk = yield* client(ens, `${host}:2181`)
            yield* zk.sync("/")
            out.push((yield* zk.getChildren("/")).filter((c) => /^[abc]\d$/.test(c)).length)
          }
          return out
        })
      )
      assert.deepStrictEqual(children, [14, 14])
      const zxids = lastZxids(ens).slice(0, 2)
      assert.strictEqual(new Set(zxids).size, 1, `last zxids ${zxids.map((z) => z?.toString(16)).join(",")}`)
    }))

  it.scoped("a participant whose quorum port another process holds refuses to start, with the port named", () =>
    Effect.gen(function* () {
      const ens = yield* Testing.ensemble({ nodes: 3, leader: 3 })
      yield* allServing(ens)
      yield* ens.peers[1]!.stop
      // Only a leader listens there: unchecked, this peer would win elections it cannot serve, again and again.
      yield* ens.network.transportFor("s2").listen({ host: "s2", port: 2888 }, (socket) => socket.destroy())
      const started = yield* Effect.either(ens.peers[1]!.start)
      assert.isTrue(started._tag === "Left", "the peer started")
      if (started._tag === "Left") assert.match(started.left.message, /quorum port s2:2888: .*in use/)
    }))
})
