/** How a learner reaches its leader's quorum port. */
import { Clock, Effect } from "effect"
import { Transport } from "../net/Transport.js"
import { type Member, type PeerContext, PeerError } from "./PeerContext.js"

/**
 * Connects to the leader's quorum port within initLimit ticks: right after an election the new leader
 * may not be listening yet. Retries back off from 5 ms to 100 ms (ZooKeeper waits a flat 100 ms,
 * leaderConnectDelayDuringRetryMs): the leader usually listens within milliseconds, and a refused
 * connect costs next to nothing, so the first retries come quickly (failover was ~100 ms slower).
 */
export const connectToLeader = (ctx: PeerContext, leader: Member) =>
  Effect.gen(function* () {
    const transport = yield* Transport
    const me = ctx.members.find((m) => m.sid === ctx.sid)
    const deadline = (yield* Clock.currentTimeMillis) + ctx.tickTime * ctx.initLimit
    let lastError = ""
    let delayMs = 5
    for (;;) {
      const left = deadline - (yield* Clock.currentTimeMillis)
      if (left <= 0) break
      const socket = yield* Effect.either(
        transport.connect({ host: leader.host, port: leader.quorumPort, timeoutMs: left, ...(me !== undefined ? { localHost: me.host } : {}) })
      )
      if (socket._tag === "Right") return socket.right
      lastError = socket.left.message
      yield* Effect.sleep(Math.min(delayMs, left))
      delayMs = Math.min(delayMs * 2, 100)
    }
    return yield* new PeerError({ phase: "connect", detail: `cannot reach leader ${leader.sid} at ${leader.host}:${leader.quorumPort}: ${lastError}` })
  })
