/**
 * Session expiry on real processes, side by side with Apache ZooKeeper (tickTime 500, so the
 * smallest session timeout is 1000 ms): a session whose connection stays open but silent is expired
 * by the server's own timer — its ephemerals vanish, another session's watch fires NodeDeleted, the
 * server closes the silent connection, and re-attaching with the old id gets timeOut 0. Only a lower
 * bound on time is checked (never before the timeout); the exact instants (tick-aligned deadlines,
 * dropped connections, pinging sessions) are tested in-process on TestClock in
 * test/server/Expiry.test.ts.
 */
import { assert, it } from "@effect/vitest"
import { readConnectResponse } from "../../src/wire/ClientRecords.js"
import { CreateMode, Err, EventType, Op } from "../../src/wire/Codes.js"
import { JuteReader } from "../../src/wire/Jute.js"
import { connectFrame, openRaw } from "../interop/rawClient.js"
import { describeTargets } from "../support/targets.js"
import { closedWithin, enc, openAcl, rawSession, uniquePath } from "./support.js"

const TICK = 500

describeTargets(
  "session expiry",
  (t) => {
    it("a silent session expires: ephemerals go, watchers see NodeDeleted, the link is closed, the old id gets timeOut 0", async () => {
      const port = t.server().port
      const observer = await rawSession(port, 20 * TICK) // the largest timeout: outlives the test without pings
      const silent = await rawSession(port, 2 * TICK)
      try {
        assert.strictEqual(silent.timeOut, 2 * TICK, "negotiated timeout")
        const base = uniquePath("expiry")
        const mk = async (s: typeof silent, path: string, flags: number) =>
          assert.strictEqual((await s.call({ type: Op.create, path, data: enc("x"), acl: openAcl, flags, ttl: -1 })).header.err, Err.Ok, path)
        await mk(observer, base, CreateMode.PERSISTENT)
        await mk(silent, `${base}/silent`, CreateMode.EPHEMERAL)
        await mk(silent, `${base}/silent-seq-`, CreateMode.EPHEMERAL_SEQUENTIAL)
        const lastHeard = Date.now() // the silent session's last request was just answered
        const watched = await observer.call({ type: Op.exists, path: `${base}/silent`, watch: true })
        assert.strictEqual(watched.header.err, Err.Ok)
        assert.strictEqual(watched.response?.type === "stat" ? watched.response.stat.ephemeralOwner : undefined, silent.sessionId)

        const event = await observer.nextEvent(10_000)
        const after = Date.now() - lastHeard
        assert.deepStrictEqual({ type: event.type, path: event.path }, { type: EventType.NodeDeleted, path: `${base}/silent` })
        assert.isAtLeast(after, 2 * TICK - 100, `expired ${after}ms after its last request, before its timeout`)
        const children = await observer.call({ type: Op.getChildren, path: base, watch: false })
        assert.deepStrictEqual(children.response?.type === "children" ? children.response.children : undefined, [])
        // The server closes the expired session's connection.
        await closedWithin(silent.conn, 10_000, "the expired session's connection")

        // Re-attaching with the old id and password: timeOut 0 (expired), then the server closes.
        const again = await openRaw(port)
        again.write(connectFrame(2 * TICK, { sessionId: silent.sessionId, passwd: silent.passwd }))
        const reply = readConnectResponse(new JuteReader(await again.nextFrame()))
        assert.strictEqual(reply.timeOut, 0)
        assert.strictEqual(reply.sessionId, 0n)
        assert.deepStrictEqual([...reply.passwd], new Array(16).fill(0))
        await closedWithin(again, 10_000, "the refused re-attach")
      } finally {
        for (const s of [observer, silent]) s.close()
      }
    })
  },
  { tickTime: TICK }
)
