/**
 * Helpers for whole-ensemble scenarios (src/quorum/Testing.ts on TestClock): clients, waiting for
 * peers to serve, and reading what each peer's tree holds.
 */
import { Duration, Effect } from "effect"
import { ZooKeeper } from "../../../src/client/index.js"
import { Transport } from "../../../src/net/Transport.js"
import type * as Peer from "../../../src/quorum/Peer.js"
import type * as Testing from "../../../src/quorum/Testing.js"
import { drive } from "./FakeLeader.js"

export const bytes = (s: string) => new TextEncoder().encode(s)

export const client = (ens: Testing.Ensemble, connectString: string) =>
  ZooKeeper.make({ connectString, sessionTimeoutMs: 30_000 }).pipe(Effect.provideService(Transport, ens.clientTransport()))

/** Waits until every running peer serves. */
export const allServing = (ens: Testing.Ensemble) =>
  drive(
    Effect.gen(function* () {
      while (ens.peers.some((p) => p.running() !== null && p.running()!.core() === null)) yield* Effect.sleep(Duration.millis(100))
    }),
    50
  )

/** Creates each path through a client of `host` (each create acknowledged before the next). */
export const createAll = (ens: Testing.Ensemble, host: string, paths: ReadonlyArray<string>) =>
  drive(
    Effect.gen(function* () {
      const zk = yield* client(ens, `${host}:2181`)
      for (const p of paths) yield* zk.create(p, bytes(p))
    }),
    50
  )

/** Whether peer `i`'s tree (serving or not) holds `path`. */
export const holds = (ens: Testing.Ensemble, i: number, path: string): boolean =>
  ens.peers[i]!.running()!.context.store.tree.get(path) !== undefined

export const state = (ens: Testing.Ensemble) => ens.peers.map((p) => p.running()?.status.state ?? "STOPPED")

/** A leader chosen by the test (the election is not under test here): `choice.leader` at each look. */
export const chosenElector = (choice: { leader: number }): Peer.Elector => ({
  lookForLeader: (ctx) =>
    Effect.sync((): Peer.Decision => ({
      leader: choice.leader,
      state: choice.leader === ctx.sid ? "LEADING" : ctx.members.find((m) => m.sid === ctx.sid)?.type === "observer" ? "OBSERVING" : "FOLLOWING"
    })).pipe(Effect.delay(ctx.tickTime)),
  synced: () => Effect.void
})
