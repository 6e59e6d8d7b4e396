/**
 * Session expiry end to end, with tickTime 500 (so the smallest session timeout is 1000 ms): a
 * session whose connection stays open but silent — no requests, no pings — is expired by the
 * server: its ephemerals vanish, another session's exists-watch fires NodeDeleted, the server
 * closes the silent connection, and re-attaching with the old id and password gets timeOut 0.
 * A session whose client just drops the connection lasts until the same timeout; a session that
 * keeps pinging survives.
 */
import { assert, it } from "@effect/vitest"
import { readConnectResponse } from "../../src/wire/ClientRecords.js"
import { CreateMode, Err, EventType, Op } from "../../src/wire/Codes.js"
import { JuteReader } from "../../src/wire/Jute.js"
import { connectFrame, openRaw } from "../interop/rawClient.js"
import { describeTargets } from "../support/targets.js"
import { closedWithin, enc, openAcl, rawSession, sleep, uniquePath } from "./support.js"

const TICK = 500

describeTargets(
  "session expiry",
  (t) => {
    it("a silent session expires: ephemerals go, watchers see NodeDeleted, the link is closed, the old id gets timeOut 0", async () => {
      const port = t.server().port
      const observer = await rawSession(port, 20 * TICK) // the largest timeout: outlives the test without pings
      const silent = await rawSession(port, 2 * TICK)
      const pinger = await rawSession(port, 2 * TICK)
      const dropped = await rawSession(port, 2 * TICK)
      const timer = setInterval(pinger.ping, TICK / 2)
      try {
        assert.strictEqual(silent.timeOut, 2 * TICK, "negotiated timeout")
        const base = uniquePath("expiry")
        const mk = async (s: typeof silent, path: string, flags: number) =>
          assert.strictEqual((await s.call({ type: Op.create, path, data: enc("x"), acl: openAcl, flags, ttl: -1 })).header.err, Err.Ok, path)
        await mk(observer, base, CreateMode.PERSISTENT)
        await mk(silent, `${base}/silent`, CreateMode.EPHEMERAL)
        await mk(silent, `${base}/silent-seq-`, CreateMode.EPHEMERAL_SEQUENTIAL)
        await mk(pinger, `${base}/pinger`, CreateMode.EPHEMERAL)
        await mk(dropped, `${base}/dropped`, CreateMode.EPHEMERAL)
        const lastHeard = Date.now() // the silent session's last request was just answered
        // A connection that just goes away (no closeSession) leaves its session to the timeout too.
        dropped.close()

        await sleep(TICK - 100)
        const early = await observer.call({ type: Op.exists, path: `${base}/dropped`, watch: false })
        assert.strictEqual(early.header.err, Err.Ok, "a dropped connection ended its session before its timeout")
        const watched = await observer.call({ type: Op.exists, path: `${base}/silent`, watch: true })
        assert.strictEqual(watched.header.err, Err.Ok)
        assert.strictEqual(watched.response?.type === "stat" ? watched.response.stat.ephemeralOwner : undefined, silent.sessionId)

        const event = await observer.nextEvent(10_000)
        const after = Date.now() - lastHeard
        assert.deepStrictEqual({ type: event.type, path: event.path }, { type: EventType.NodeDeleted, path: `${base}/silent` })
        // Expiry happens on a tick boundary after the timeout: not before it, and not much after.
        assert.isAtLeast(after, 2 * TICK - 50, `expired after ${after}ms`)
        assert.isBelow(after, 2 * TICK + 2 * TICK + 1500, `expired after ${after}ms`)

        // The server closes the expired session's connection.
        await closedWithin(silent.conn, 3000, "the expired session's connection")

        await sleep(Math.max(0, 2 * TICK + 2 * TICK + 200 - (Date.now() - lastHeard)))
        const children = await observer.call({ type: Op.getChildren, path: base, watch: false })
        assert.deepStrictEqual(children.response?.type === "children" ? children.response.children : undefined, ["pinger"])

        // Re-attaching with the old id and password: timeOut 0 (expired), then the server closes.
        const again = await openRaw(port)
        again.write(connectFrame(2 * TICK, { sessionId: silent.sessionId, passwd: silent.passwd }))
        const reply = readConnectResponse(new JuteReader(await again.nextFrame()))
        assert.strictEqual(reply.timeOut, 0)
        assert.strictEqual(reply.sessionId, 0n)
        assert.deepStrictEqual([...reply.passwd], new Array(16).fill(0))
        await closedWithin(again, 3000, "the refused re-attach")

        // The pinging session is still alive well past its timeout.
        await sleep(Math.max(0, 4 * TICK - (Date.now() - lastHeard)))
        const alive = await pinger.call({ type: Op.exists, path: `${base}/pinger`, watch: false })
        assert.strictEqual(alive.header.err, Err.Ok)
        assert.strictEqual(alive.response?.type === "stat" ? alive.response.stat.ephemeralOwner : undefined, pinger.sessionId)
      } finally {
        clearInterval(timer)
        for (const s of [observer, silent, pinger, dropped]) s.close()
      }
    })
  },
  { tickTime: TICK }
)
