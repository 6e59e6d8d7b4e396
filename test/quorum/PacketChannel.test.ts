/**
 * PacketChannel's direct mode (the broadcast hot path): packets handed to a callback in the
 * socket's data callback, after those already queued, in order; a throwing handler closes the
 * channel with its error's detail; `Closed` still reaches the inbox.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Queue } from "effect"
import type { Socket, SocketHandlers } from "../../src/net/Transport.js"
import * as PacketChannel from "../../src/quorum/PacketChannel.js"
import { PeerError } from "../../src/quorum/PeerContext.js"
import { JuteWriter } from "../../src/wire/Jute.js"
import { PacketType, type QuorumPacket, writeQuorumPacket } from "../../src/wire/Quorum.js"

/** A socket whose incoming bytes the test pushes. */
const fakeSocket = () => {
  let handlers: SocketHandlers = {}
  const state = { destroyed: false }
  const socket: Socket = {
    remoteAddress: "127.0.0.1",
    remotePort: 2888,
    localAddress: "127.0.0.1",
    localPort: 40000,
    writableLength: 0,
    write: () => true,
    end: () => {},
    destroy: () => {
      state.destroyed = true
    },
    pause: () => {},
    resume: () => {},
    setHandlers: (h) => {
      handlers = { ...handlers, ...h }
    }
  }
  const push = (...packets: ReadonlyArray<QuorumPacket>): void => {
    const w = new JuteWriter(256)
    for (const p of packets) writeQuorumPacket(w, p)
    handlers.data!(w.copy())
  }
  return { socket, push, state }
}

const ack = (zxid: number): QuorumPacket => ({ type: PacketType.ACK, zxid, data: null, authinfo: null })

describe("PacketChannel direct mode", () => {
  it.scoped("hands queued packets first, then each arrival in order, without the inbox", () =>
    Effect.gen(function* () {
      const { socket, push } = fakeSocket()
      const channel = yield* PacketChannel.make(socket)
      push(ack(1), ack(2))
      const seen: Array<number> = []
      yield* channel.direct((p) => seen.push(p.zxid))
      assert.deepStrictEqual(seen, [1, 2])
      push(ack(3))
      push(ack(4), ack(5))
      assert.deepStrictEqual(seen, [1, 2, 3, 4, 5])
      assert.strictEqual(yield* Queue.size(channel.inbox), 0)
    }))

  it.scoped("a throwing handler closes the channel with its detail; nothing after it is handled", () =>
    Effect.gen(function* () {
      const { socket, push, state } = fakeSocket()
      const channel = yield* PacketChannel.make(socket)
      const seen: Array<number> = []
      yield* channel.direct((p) => {
        if (p.zxid === 2) throw new PeerError({ phase: "broadcast", detail: "proposal 2 does not follow 0" })
        seen.push(p.zxid)
      })
      push(ack(1), ack(2), ack(3))
      assert.deepStrictEqual(seen, [1])
      assert.isTrue(state.destroyed)
      const end = yield* Queue.take(channel.inbox)
      assert.deepStrictEqual(end, { _tag: "Closed", reason: "proposal 2 does not follow 0" })
    }))
})
