/**
 * The peer's elector from FastLeaderElection over the election port (ElectionNet on the Transport),
 * opened in the peer's scope: it keeps answering LOOKING peers for as long as the peer runs.
 */
import { Effect, type Scope } from "effect"
import type { TransportError } from "../net/Transport.js"
import * as ElectionNet from "./election/ElectionNet.js"
import * as FastLeaderElection from "./election/FastLeaderElection.js"
import type { Decision, Elector } from "./Peer.js"
import type { PeerContext } from "./PeerContext.js"

export interface ElectionSettings {
  /** Election connect timeout (`cnxTimeout`). */
  readonly cnxTimeoutMs: number
  /** Bind the election port on all interfaces (`quorumListenOnAllIPs`). */
  readonly listenOnAllIPs: boolean
  readonly finalizeWaitMs?: number
  readonly maxNotificationIntervalMs?: number
}

export const fastLeaderElection = (ctx: PeerContext, settings: ElectionSettings): Effect.Effect<Elector, TransportError, Scope.Scope> =>
  Effect.gen(function* () {
    const net = yield* ElectionNet.make({
      sid: ctx.sid,
      members: ctx.members.map((m) => ({ sid: m.sid, host: m.host, electionPort: m.electionPort, type: m.type })),
      cnxTimeoutMs: settings.cnxTimeoutMs,
      handshakeTimeoutMs: ctx.tickTime * ctx.syncLimit,
      listenOnAllIPs: settings.listenOnAllIPs
    })
    const fle = yield* FastLeaderElection.make({
      sid: ctx.sid,
      verifier: ctx.verifier,
      net,
      config: FastLeaderElection.quorumConfigText(ctx.members),
      ...(settings.finalizeWaitMs !== undefined ? { finalizeWaitMs: settings.finalizeWaitMs } : {}),
      ...(settings.maxNotificationIntervalMs !== undefined ? { maxNotificationIntervalMs: settings.maxNotificationIntervalMs } : {})
    })
    return {
      lookForLeader: (c) =>
        Effect.map(
          fle.lookForLeader({ lastLoggedZxid: c.store.tree.lastProcessedZxid, currentEpoch: c.epochs.current }),
          (d): Decision => ({ leader: d.leader, state: d.state })
        ),
      synced: (epoch) => fle.synced(epoch)
    }
  })
