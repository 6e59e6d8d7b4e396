/**
 * How the leader brings one learner up to date (quorum.md §3): the DIFF / TRUNC / SNAP packets the
 * committed log decides, the proposals still in flight, and NEWLEADER — all queued in one turn
 * together with the learner's registration for broadcast, so that nothing committed meanwhile
 * falls between its sync and its broadcast.
 */
import type { SnapshotEncoder } from "../storage/SnapshotWriter.js"
import * as SnapStream from "../storage/SnapStream.js"
import { PacketType, writeConfigText } from "../wire/Quorum.js"
import * as Zxid from "../wire/Zxid.js"
import type { TxnLogRead } from "./CommittedLog.js"
import type * as PacketChannel from "./PacketChannel.js"
import { packet } from "./PacketChannel.js"
import type { PeerContext } from "./PeerContext.js"

export interface LearnerHandle {
  readonly sid: number
  readonly observer: boolean
  readonly channel: PacketChannel.PacketChannel
  /** Last time anything arrived from it (ms). */
  lastHeard: number
  /** Acknowledged NEWLEADER: counts towards the synced quorum. */
  synced: boolean
  /** Receives broadcast traffic (registered atomically with its sync packets). */
  forwarding: boolean
}

export interface SnapshotToSend {
  readonly encoder: SnapshotEncoder
  readonly raw: PacketChannel.RawStream
}

/** The quorum config text NEWLEADER carries (quorum.md §1.5). */
const configText = (ctx: PeerContext): string =>
  ctx.members.map((m) => `server.${m.sid}=${m.host}:${m.quorumPort}:${m.electionPort}:${m.type}`).join("\n") + "\nversion=0"

/**
 * Sync packets for a learner whose last logged zxid is `peerLast`; registers it for broadcast in the
 * same turn. A SNAP's snapshot is returned to be streamed: the packets queued here and the broadcast
 * from now on wait behind it in the channel. `outstanding`: the proposals not yet committed, in order.
 */
export const syncLearner = (
  ctx: PeerContext,
  outstanding: ReadonlyArray<{ readonly zxid: number; readonly raw: Uint8Array }>,
  l: LearnerHandle,
  peerLast: number,
  newEpoch: number,
  txnLog: TxnLogRead | undefined
): { readonly kind: string; readonly snapshot: SnapshotToSend | null } => {
  const lastProcessed = ctx.store.tree.lastProcessedZxid
  const decision = ctx.committedLog.decide(peerLast, lastProcessed, txnLog)
  let kind: string
  let snapshot: SnapshotToSend | null = null
  if (decision.kind === "SNAP") {
    kind = `SNAP ${Zxid.toHex(lastProcessed)}`
    l.channel.send(packet(PacketType.SNAP, lastProcessed))
    // Taken now, with the zxid in the SNAP packet: every txn after it reaches the learner as broadcast.
    snapshot = { encoder: SnapStream.encoder(ctx.store.tree), raw: l.channel.stream() }
  } else {
    const fromDisk = txnLog !== undefined && decision.proposals.length > 0 && decision.proposals[0]!.zxid < ctx.committedLog.minZxid(lastProcessed)
    kind = `${decision.kind} ${Zxid.toHex(decision.zxid)} + ${decision.proposals.length} txns${fromDisk ? " (from the txn log)" : ""}`
    l.channel.send(packet(decision.kind === "DIFF" ? PacketType.DIFF : PacketType.TRUNC, decision.zxid))
    for (const t of decision.proposals) {
      if (l.observer) l.channel.send(packet(PacketType.INFORM, t.zxid, t.raw))
      else {
        l.channel.send(packet(PacketType.PROPOSAL, t.zxid, t.raw))
        l.channel.send(packet(PacketType.COMMIT, t.zxid))
      }
    }
  }
  // In-flight proposals follow, then everything broadcast from now on.
  if (!l.observer) for (const o of outstanding) l.channel.send(packet(PacketType.PROPOSAL, o.zxid, o.raw))
  l.forwarding = true
  l.channel.send(packet(PacketType.NEWLEADER, Zxid.epochStart(newEpoch), writeConfigText(configText(ctx))))
  return { kind, snapshot }
}
