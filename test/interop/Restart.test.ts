/**
 * Sessions across a server crash, seen through the project's own client (src/client) against the
 * real server process: kill -9 and restart on the same port and data, and
 *  - a client that reconnects within its timeout keeps its session, its ephemerals and its watches
 *    (re-sent with setWatches), as ZooKeeper restores sessions from its log;
 *  - a client that never comes back has its session expired after the restart, and only then do its
 *    ephemerals go (they are there right after recovery).
 */
import { assert, it } from "@effect/vitest"
import { Effect, Option } from "effect"
import { CreateMode, ZooKeeper } from "../../src/client/index.js"
import { Op } from "../../src/wire/Codes.js"
import { describeTargets } from "../support/targets.js"
import { awaitState, text } from "../client/helpers.js"
import { startPipelinedSession } from "./rawClient.js"

describeTargets("sessions across kill -9 and restart (project client)", (t) => {
  // attemptTimeoutMs: a connection attempt made while the server is still starting can sit unanswered
  // in its accept backlog; retry after 3 s rather than the default sessionTimeout / #servers (20 s).
  const connect = (sessionTimeoutMs = 20_000) =>
    ZooKeeper.make({
      connectString: t.server().connectString,
      sessionTimeoutMs,
      reconnectDelayMs: 100,
      attemptTimeoutMs: 3000,
      closeTimeoutMs: 1000
    })

  it.scopedLive("a client that reconnects keeps its session, ephemerals and watches", () =>
    Effect.gen(function* () {
      const server = t.server()
      const zk = yield* connect()
      const before = yield* zk.session
      yield* zk.create("/rs", "v0")
      yield* zk.create("/rs/eph", "e", { mode: CreateMode.EPHEMERAL })
      const { watch } = yield* zk.getDataWatch("/rs")
      const lastZxid = yield* zk.lastZxid

      yield* Effect.promise(() => server.kill9())
      yield* awaitState(zk, "Disconnected")
      yield* Effect.promise(() => server.restart())
      yield* awaitState(zk, "Connected")

      const after = yield* zk.session
      assert.strictEqual(after.sessionId, before.sessionId, "the session was not kept")
      const eph = yield* zk.exists("/rs/eph")
      assert.isTrue(Option.isSome(eph), "the ephemeral vanished with the restart")
      assert.strictEqual(Option.getOrThrow(eph).ephemeralOwner, before.sessionId)
      assert.strictEqual(text((yield* zk.getData("/rs")).data), "v0")

      // Another session changes /rs: the watch set before the crash fires.
      const other = yield* connect()
      const stat = yield* other.setData("/rs", "v1")
      assert.isAbove(stat.mzxid, lastZxid)
      const event = yield* watch.pipe(Effect.timeout("10 seconds"))
      assert.deepStrictEqual(event, { type: "NodeDataChanged", path: "/rs" })
    }), 60_000)

  it.scopedLive("a client that never comes back: its session expires after the restart", () =>
    Effect.gen(function* () {
      const server = t.server()
      // A bare session with the shortest timeout (2 × tickTime) that will not reconnect.
      const gone = yield* Effect.promise(() => startPipelinedSession(server.port, 4000))
      const created = yield* Effect.promise(() =>
        gone.call({
          type: Op.create,
          path: "/orphan",
          data: null,
          acl: [{ perms: 31, id: { scheme: "world", id: "anyone" } }],
          flags: CreateMode.EPHEMERAL,
          ttl: -1
        })
      )
      assert.strictEqual(created.header.err, 0)

      yield* Effect.promise(() => server.kill9())
      gone.close()
      yield* Effect.promise(() => server.restart())
      const restartedAt = Date.now()

      const zk = yield* connect()
      const right = yield* zk.exists("/orphan")
      assert.isTrue(Option.isSome(right), "the ephemeral was not recovered (its session should still be alive)")
      assert.strictEqual(Option.getOrThrow(right).ephemeralOwner, gone.sessionId)
      // Expired within timeout + one tick of slack (plus our polling), never instantly.
      let vanishedAfter = -1
      while (Date.now() - restartedAt < 15_000) {
        if (Option.isNone(yield* zk.exists("/orphan"))) {
          vanishedAfter = Date.now() - restartedAt
          break
        }
        yield* Effect.sleep("100 millis")
      }
      assert.isAbove(vanishedAfter, 0, "the dead session's ephemeral never went away")
      assert.isAtMost(vanishedAfter, 12_000)
    }), 60_000)
})
