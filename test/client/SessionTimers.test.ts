/**
 * The client's timers in-process on TestClock (test/support/inProcess.ts): pings while idle, and
 * dropping a link that has been silent for 2/3 of the session timeout, at exact instants.
 */
import { assert, describe, it } from "@effect/vitest"
import { Chunk, Effect, Fiber, Stream } from "effect"
import { ZooKeeper } from "../../src/client/index.js"
import * as Memory from "../../src/net/Memory.js"
import { Transport } from "../../src/net/Transport.js"
import { readConnectRequest, writeConnectResponse, writeReplyHeader } from "../../src/wire/ClientRecords.js"
import { Op, Xid } from "../../src/wire/Codes.js"
import { JuteReader, JuteWriter } from "../../src/wire/Jute.js"
import { advance, advanceTo, drivenScope, now, run, SERVER, standalone, STEP_MS } from "../support/inProcess.js"

const TIMEOUT = 4000

describe("client session timers on TestClock", () => {
  it.scoped("a silent link is dropped 2/3 of the session timeout after the last frame; the client comes back to the same session", () =>
    Effect.gen(function*() {
      const s = yield* standalone({ tickTime: 2000 })
      const zk = yield* run(s.client("c", { sessionTimeoutMs: TIMEOUT, reconnectDelayMs: 100 }))
      const { sessionId } = yield* zk.session
      const states = yield* Effect.fork(Stream.runCollect(Stream.take(zk.states, 3)))
      yield* run(zk.exists("/"))
      const lastFrame = yield* now
      s.network.partition("c", SERVER)
      yield* advanceTo(lastFrame + (2 * TIMEOUT) / 3 - 2 * STEP_MS)
      assert.strictEqual(yield* zk.state, "Connected", "dropped before 2/3 of the timeout")
      while ((yield* zk.state) === "Connected") yield* advance(STEP_MS)
      const silentFor = (yield* now) - lastFrame
      // The client checks every timeout/10: it drops the link at the first check after 2/3 of the timeout.
      assert.isAtLeast(silentFor, (2 * TIMEOUT) / 3)
      assert.isAtMost(silentFor, (2 * TIMEOUT) / 3 + TIMEOUT / 10 + 2 * STEP_MS)
      s.network.heal()
      yield* run(Fiber.join(states)).pipe(Effect.map((c) => assert.deepStrictEqual(Chunk.toArray(c), ["Connected", "Disconnected", "Connected"])))
      assert.strictEqual((yield* zk.session).sessionId, sessionId)
    }))

  it.scoped("an idle client pings (xid -2) each time it has sent nothing for timeout/3, on its one connection", () =>
    Effect.gen(function*() {
      // A scripted server: a 600 ms session, every ping answered and its arrival time logged.
      const clock = yield* Effect.clock
      const network = yield* Memory.makeNetwork({ seed: 5, latencyMs: 1 })
      const pings: Array<{ readonly at: number; readonly xid: number }> = []
      let connections = 0
      yield* network.transportFor("fake").listen({ host: "fake", port: 2181 }, (socket) => {
        connections++
        let buf = new Uint8Array(0)
        let handshaken = false
        const send = (write: (w: JuteWriter) => void) => {
          const w = new JuteWriter()
          const m = w.mark()
          write(w)
          w.patch(m)
          socket.write(w.copy())
        }
        socket.setHandlers({
          data: (chunk) => {
            const next = new Uint8Array(buf.length + chunk.length)
            next.set(buf)
            next.set(chunk, buf.length)
            buf = next
            while (buf.length >= 4) {
              const len = new DataView(buf.buffer, buf.byteOffset).getInt32(0)
              if (buf.length < 4 + len) break
              const r = new JuteReader(buf, 4, 4 + len)
              buf = buf.slice(4 + len)
              if (!handshaken) {
                handshaken = true
                readConnectRequest(r)
                send((w) => writeConnectResponse(w, { protocolVersion: 0, timeOut: 600, sessionId: 0x77n, passwd: new Uint8Array(16), readOnly: false }))
                continue
              }
              const xid = r.int()
              const type = r.int()
              if (type === Op.closeSession) send((w) => writeReplyHeader(w, { xid, zxid: 0, err: 0 }))
              if (type !== Op.ping) continue
              pings.push({ at: clock.unsafeCurrentTimeMillis(), xid })
              send((w) => writeReplyHeader(w, { xid, zxid: 0, err: 0 }))
            }
          }
        })
      })
      const zk = yield* run(ZooKeeper.make({ connectString: "fake:2181" }).pipe(Effect.provideService(Transport, network.transportFor("c")), drivenScope))
      assert.strictEqual((yield* zk.session).timeoutMs, 600)
      yield* advance(3000)
      assert.strictEqual(yield* zk.state, "Connected")
      assert.strictEqual(connections, 1)
      assert.isTrue(pings.every((p) => p.xid === Xid.ping))
      // The client looks every timeout/10 (60 ms) and pings once timeout/3 (200 ms) passed since it last sent.
      const gaps = pings.slice(1).map((p, i) => p.at - pings[i]!.at)
      assert.isAtLeast(pings.length, 10, `pings at ${pings.map((p) => p.at).join(",")}`)
      for (const gap of gaps) assert.isTrue(gap >= 200 && gap <= 200 + 60 + 2, `gaps ${gaps.join(",")}`)
    }))
})
