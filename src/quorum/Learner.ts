/**
 * A follower or observer for one leader, as a role in its own Scope: connect, discovery
 * (FOLLOWERINFO → LEADERINFO → ACKEPOCH), sync (DIFF / TRUNC / SNAP, proposals, NEWLEADER,
 * UPTODATE) and broadcast (log + ACK proposals, apply on COMMIT or INFORM, answer PINGs with
 * session touches, forward client writes as REQUEST). Any failure or silence beyond the limits
 * ends the role; the peer goes back to LOOKING and closing the scope closes everything here.
 *
 * Durability contract of the sync phase (the ZooKeeper data-loss bugs it avoids):
 * at NEWLEADER every txn received during sync is written and fsynced (ZOOKEEPER-3911, -4646,
 * -4785) — and a SNAP-received tree snapshotted — before currentEpoch is written
 * (ZOOKEEPER-4643), and only then is NEWLEADER acknowledged. Txns committed before UPTODATE are
 * applied once, in zxid order (ZOOKEEPER-4394). A proposal that does not follow the last one is
 * refused and the role ends (ZOOKEEPER-4925).
 */
import { Clock, Effect, Queue, type Scope } from "effect"
import { Transport } from "../net/Transport.js"
import type { CommitStage, ForwardedRequest } from "../server/commit/CommitStage.js"
import type { ServerCore } from "../server/ServerCore.js"
import { Op } from "../wire/Codes.js"
import {
  PacketType,
  packetTypeName,
  PROTOCOL_VERSION,
  type QuorumPacket,
  writeForwardedRequest,
  writeIntData,
  writeLearnerInfo,
  writeSessionTouches
} from "../wire/Quorum.js"
import { readTxnEntry, type TxnEntry } from "../wire/TxnRecords.js"
import * as Zxid from "../wire/Zxid.js"
import { follows } from "./core/ZxidOrder.js"
import { Flaws } from "./Flaws.js"
import * as LogSync from "./LogSync.js"
import * as PacketChannel from "./PacketChannel.js"
import { initLimitDuration, type Member, type PeerContext, PeerError, syncLimitDuration } from "./PeerContext.js"

export type LearnerKind = "follower" | "observer"

/** How a learner's sync began (for logs and tests). */
export type SyncKind = "DIFF" | "TRUNC" | "SNAP"

interface Proposal {
  readonly zxid: number
  readonly raw: Uint8Array
  readonly entry: TxnEntry
}

const packet = (type: number, zxid: number, data: Uint8Array | null = null): QuorumPacket => ({ type, zxid, data, authinfo: null })

const decodeEntry = (data: Uint8Array | null, what: string): TxnEntry => {
  if (data === null) throw new PeerError({ phase: "sync", detail: `${what} without a txn` })
  return readTxnEntry(data)
}

/**
 * Connects to the leader's quorum port, retrying every 100 ms (ZooKeeper's leaderConnectDelayDuringRetryMs)
 * within initLimit ticks: right after an election the new leader may not be listening yet.
 */
const connect = (ctx: PeerContext, leader: Member) =>
  Effect.gen(function* () {
    const transport = yield* Transport
    const me = ctx.members.find((m) => m.sid === ctx.sid)
    const deadline = (yield* Clock.currentTimeMillis) + ctx.tickTime * ctx.initLimit
    let lastError = ""
    for (;;) {
      const left = deadline - (yield* Clock.currentTimeMillis)
      if (left <= 0) break
      const socket = yield* Effect.either(
        transport.connect({ host: leader.host, port: leader.quorumPort, timeoutMs: left, ...(me !== undefined ? { localHost: me.host } : {}) })
      )
      if (socket._tag === "Right") return socket.right
      lastError = socket.left.message
      yield* Effect.sleep(Math.min(100, left))
    }
    return yield* new PeerError({ phase: "connect", detail: `cannot reach leader ${leader.sid} at ${leader.host}:${leader.quorumPort}: ${lastError}` })
  })

/** Runs the learner role until the leader is lost; always ends in failure (the peer then looks again). */
export const run = (ctx: PeerContext, leader: Member, kind: LearnerKind): Effect.Effect<never, PeerError, Scope.Scope> =>
  Effect.gen(function* () {
    const flaws = yield* Flaws
    yield* LogSync.reconcile(ctx)
    const socket = yield* connect(ctx, leader)
    const channel = yield* PacketChannel.make(socket, { tree: ctx.treeOptions })
    yield* Effect.logInfo(`${kind} ${ctx.sid}: connected to leader ${leader.sid} at ${channel.peer}`)

    const next = (limit: ReturnType<typeof initLimitDuration>, phase: PeerError["phase"]) =>
      Queue.take(channel.inbox).pipe(
        Effect.timeoutFail({ duration: limit, onTimeout: () => new PeerError({ phase, detail: `leader ${leader.sid} silent for ${limit.toString()}` }) }),
        Effect.flatMap((item) =>
          item._tag === "Closed" ? Effect.fail(new PeerError({ phase, detail: item.reason })) : Effect.succeed(item)
        )
      )
    const nextPacket = (limit: ReturnType<typeof initLimitDuration>, phase: PeerError["phase"]) =>
      Effect.flatMap(next(limit, phase), (item) =>
        item._tag === "Packet" ? Effect.succeed(item.packet) : Effect.fail(new PeerError({ phase, detail: "a snapshot stream without SNAP" }))
      )
    const initLimit = initLimitDuration(ctx)
    const syncLimit = syncLimitDuration(ctx)

    // --- Discovery
    const info = writeLearnerInfo({ sid: ctx.sid, protocolVersion: PROTOCOL_VERSION, configVersion: 0 })
    channel.send(packet(kind === "follower" ? PacketType.FOLLOWERINFO : PacketType.OBSERVERINFO, Zxid.epochStart(ctx.epochs.accepted), info))
    const leaderInfo = yield* nextPacket(initLimit, "discovery")
    if (leaderInfo.type !== PacketType.LEADERINFO) {
      return yield* new PeerError({ phase: "discovery", detail: `expected LEADERINFO, got ${packetTypeName(leaderInfo.type)}` })
    }
    const newEpoch = Zxid.epochOf(leaderInfo.zxid)
    let ackData: number
    if (newEpoch > ctx.epochs.accepted) {
      ackData = ctx.epochs.current
      yield* ctx.epochs.setAccepted(newEpoch)
    } else if (newEpoch === ctx.epochs.accepted) {
      ackData = -1
    } else {
      return yield* new PeerError({ phase: "discovery", detail: `leader ${leader.sid} proposes epoch ${newEpoch}, below our accepted epoch ${ctx.epochs.accepted}` })
    }
    const lastLogged = Math.max(ctx.store.log.lastAppendedZxid, ctx.store.tree.lastProcessedZxid)
    channel.send(packet(PacketType.ACKEPOCH, lastLogged, writeIntData(ackData)))

    // --- Synchronization
    const started = yield* Clock.currentTimeMillis
    const first = yield* nextPacket(initLimit, "sync")
    let syncKind: SyncKind
    let snapshotNeeded = false
    switch (first.type) {
      case PacketType.DIFF:
        syncKind = "DIFF"
        break
      case PacketType.TRUNC: {
        syncKind = "TRUNC"
        yield* ctx.store.log.sync.pipe(Effect.mapError((e) => new PeerError({ phase: "storage", detail: e.message })))
        if (!flaws.ignoreTrunc) yield* ctx.store.truncateLog(first.zxid).pipe(Effect.mapError((e) => new PeerError({ phase: "storage", detail: `TRUNC to ${Zxid.toHex(first.zxid)}: ${e.message}` })))
        yield* ctx.reload
        break
      }
      case PacketType.SNAP: {
        syncKind = "SNAP"
        const item = yield* next(initLimit, "sync")
        if (item._tag !== "Snapshot") return yield* new PeerError({ phase: "sync", detail: "SNAP without its snapshot stream" })
        ctx.store.replaceTree(item.snapshot.tree)
        ctx.committedLog.clear()
        snapshotNeeded = true
        break
      }
      default:
        return yield* new PeerError({ phase: "sync", detail: `expected DIFF, TRUNC or SNAP, got ${packetTypeName(first.type)}` })
    }
    yield* Effect.logInfo(`${kind} ${ctx.sid}: ${syncKind} ${Zxid.toHex(first.zxid)} from leader ${leader.sid}, epoch ${newEpoch}`)

    // Proposals logged or waiting to be logged, in zxid order; committed ones are applied in order.
    const proposals: Array<Proposal> = []
    const committed = new Set<number>()
    let lastReceived = ctx.store.tree.lastProcessedZxid
    const accept = (p: QuorumPacket): Proposal => {
      const entry = decodeEntry(p.data, packetTypeName(p.type))
      if (entry.header.zxid !== p.zxid) throw new PeerError({ phase: "sync", detail: `proposal ${Zxid.toHex(p.zxid)} carries txn ${Zxid.toHex(entry.header.zxid)}` })
      if (!follows(lastReceived, p.zxid)) {
        throw new PeerError({ phase: "sync", detail: `proposal ${Zxid.toHex(p.zxid)} does not follow ${Zxid.toHex(lastReceived)}: refusing a log with a hole` })
      }
      lastReceived = p.zxid
      return { zxid: p.zxid, raw: p.data!, entry }
    }
    const guard = <A>(f: () => A): Effect.Effect<A, PeerError> =>
      Effect.try({ try: f, catch: (e) => (e instanceof PeerError ? e : new PeerError({ phase: "sync", detail: String(e) })) })

    // Until NEWLEADER: buffer proposals, remember commits.
    let newLeader: QuorumPacket | null = null
    while (newLeader === null) {
      const p = yield* nextPacket(initLimit, "sync")
      switch (p.type) {
        case PacketType.PROPOSAL:
          proposals.push(yield* guard(() => accept(p)))
          break
        case PacketType.COMMIT:
          committed.add(p.zxid)
          break
        case PacketType.INFORM: {
          const prop = yield* guard(() => accept(p))
          proposals.push(prop)
          committed.add(prop.zxid)
          break
        }
        case PacketType.NEWLEADER:
          newLeader = p
          break
        case PacketType.PING:
          channel.send(packet(PacketType.PING, p.zxid, writeSessionTouches([])))
          break
        default:
          return yield* new PeerError({ phase: "sync", detail: `unexpected ${packetTypeName(p.type)} before NEWLEADER` })
      }
    }

    // NEWLEADER: persist everything received, then currentEpoch, then ACK.
    const storage = (what: string) => (e: { readonly message: string }) => new PeerError({ phase: "storage", detail: `${what}: ${e.message}` })
    if (snapshotNeeded) yield* ctx.store.snapshotNow.pipe(Effect.mapError(storage("snapshot of the SNAP-synced tree")))
    for (const p of proposals) ctx.store.log.append(p.zxid, p.raw)
    if (!flaws.epochBeforeSync) yield* ctx.store.log.sync.pipe(Effect.mapError(storage("logging the synced txns")))
    yield* ctx.epochs.setCurrent(newEpoch)
    channel.send(packet(PacketType.ACK, Zxid.epochStart(newEpoch)))
    let logged = proposals.length

    // Until UPTODATE: proposals and commits keep coming; they are logged as in broadcast.
    for (;;) {
      const p = yield* nextPacket(initLimit, "sync")
      if (p.type === PacketType.UPTODATE) break
      if (p.type === PacketType.PROPOSAL || p.type === PacketType.INFORM) {
        const prop = yield* guard(() => accept(p))
        proposals.push(prop)
        if (p.type === PacketType.INFORM) committed.add(prop.zxid)
      } else if (p.type === PacketType.COMMIT) committed.add(p.zxid)
      else if (p.type === PacketType.PING) channel.send(packet(PacketType.PING, p.zxid, writeSessionTouches([])))
      else return yield* new PeerError({ phase: "sync", detail: `unexpected ${packetTypeName(p.type)} before UPTODATE` })
    }

    // --- Broadcast: serve clients through a learner stage.
    const stage: CommitStage = {
      role: "learner",
      append: () => {
        throw new Error("a learner does not prepare txns")
      },
      forward: (q: ForwardedRequest) =>
        flaws.syncWithoutCatchUp && q.type === Op.sync ? core.syncAnswered() : channel.send({
          type: PacketType.REQUEST,
          zxid: -1,
          data: writeForwardedRequest({ sessionId: q.sessionId, cxid: q.cxid, type: q.type, body: q.body }),
          authinfo: q.authInfo === null ? null : [...q.authInfo]
        }),
      epochExhausted: () => false
    }
    const core: ServerCore = yield* ctx.serve(stage)
    core.mode = kind

    // Log what arrived after NEWLEADER, then apply every committed txn in order, once.
    const log = ctx.store.log
    const sync = yield* LogSync.start(log, kind === "follower" ? (upTo) => ackUpTo(upTo) : () => {})
    const unacked: Array<number> = []
    const ackUpTo = (upTo: number): void => {
      let n = 0
      while (n < unacked.length && unacked[n]! <= upTo) channel.send(packet(PacketType.ACK, unacked[n++]!))
      unacked.splice(0, n)
    }
    const logNew = (): void => {
      for (; logged < proposals.length; logged++) {
        const p = proposals[logged]!
        if (!(flaws.logHole && p.zxid % 2 ** 32 === 5)) log.append(p.zxid, p.raw)
        if (kind === "follower") flaws.ackBeforeFsync ? channel.send(packet(PacketType.ACK, p.zxid)) : unacked.push(p.zxid)
      }
      sync.wake()
    }
    logNew()
    let applied = 0
    const applyCommitted = (now: number): void => {
      const batch = []
      while (applied < proposals.length && committed.has(proposals[applied]!.zxid)) {
        const p = proposals[applied++]!
        committed.delete(p.zxid)
        ctx.committedLog.add({ zxid: p.zxid, raw: p.raw })
        batch.push(core.committedFromLeader(p.entry.header, p.entry.txn, p.entry.digest ?? null, now))
      }
      if (batch.length > 0) core.commit(batch)
      if (applied > 1024) {
        proposals.splice(0, applied)
        logged -= applied
        applied = 0
      }
    }
    applyCommitted(yield* Clock.currentTimeMillis)
    channel.send(packet(PacketType.ACK, Zxid.epochStart(newEpoch)))
    yield* Effect.logInfo(
      `${kind} ${ctx.sid}: serving in epoch ${newEpoch} after ${syncKind} sync in ${(yield* Clock.currentTimeMillis) - started} ms, last zxid ${Zxid.toHex(lastReceived)}`
    )

    // Broadcast: whatever has arrived is handled as one batch (one timeout, one log sync and one
    // socket write for many packets), synchronously.
    const clock = yield* Effect.clock
    const handle = (p: QuorumPacket): void => {
      switch (p.type) {
        case PacketType.PROPOSAL:
          proposals.push(accept(p))
          return logNew()
        case PacketType.INFORM: {
          const prop = accept(p)
          proposals.push(prop)
          committed.add(prop.zxid)
          logNew()
          return applyCommitted(clock.unsafeCurrentTimeMillis())
        }
        case PacketType.COMMIT:
          committed.add(p.zxid)
          return applyCommitted(clock.unsafeCurrentTimeMillis())
        case PacketType.PING:
          return channel.send(packet(PacketType.PING, p.zxid, writeSessionTouches(core.takeTouches())))
        case PacketType.SYNC:
          return core.syncAnswered()
        case PacketType.REVALIDATE:
          return
        default:
          throw new PeerError({ phase: "broadcast", detail: `unexpected ${packetTypeName(p.type)} from leader ${leader.sid}` })
      }
    }
    for (;;) {
      const items = yield* Queue.takeBetween(channel.inbox, 1, 4096).pipe(
        Effect.timeoutFail({ duration: syncLimit, onTimeout: () => new PeerError({ phase: "broadcast", detail: `leader ${leader.sid} silent for ${syncLimit.toString()}` }) })
      )
      yield* guard(() => {
        for (const item of items) {
          if (item._tag === "Closed") throw new PeerError({ phase: "broadcast", detail: item.reason })
          if (item._tag === "Snapshot") throw new PeerError({ phase: "broadcast", detail: "a snapshot stream in broadcast" })
          handle(item.packet)
        }
      })
    }
  }).pipe(Effect.catchAllDefect((d) => Effect.fail(d instanceof PeerError ? d : new PeerError({ phase: "broadcast", detail: String(d) }))))

