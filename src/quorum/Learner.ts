/**
 * A follower or observer for one leader, as a role in its own Scope: connect, discovery
 * (FOLLOWERINFO → LEADERINFO → ACKEPOCH), sync (DIFF / TRUNC / SNAP, proposals, NEWLEADER,
 * UPTODATE) and broadcast (log + ACK proposals, apply on COMMIT or INFORM, answer PINGs with
 * session touches, forward client writes as REQUEST). Any failure or silence beyond the limits
 * ends the role; the peer goes back to LOOKING and closing the scope closes everything here.
 *
 * The sync phase's rules are the pure core's (core/LearnerSync, which names the ZooKeeper data-loss
 * bugs they avoid); this shell performs what it decides: at NEWLEADER the snapshot a SNAP streamed
 * (written to disk as it arrived) is sealed and fsynced, every txn received is logged and fsynced,
 * then currentEpoch is written, and only then is NEWLEADER acknowledged.
 */
import { Clock, Duration, Effect, Option, Queue, type Scope } from "effect"
import type { SnapshotSink } from "../storage/SnapStream.js"
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
import * as LearnerSync from "./core/LearnerSync.js"
import { follows } from "./core/ZxidOrder.js"
import { Flaws } from "./Flaws.js"
import * as HopTimes from "../server/HopTimes.js"
import * as LogSync from "./LogSync.js"
import { connectToLeader } from "./LearnerConnect.js"
import * as PacketChannel from "./PacketChannel.js"
import { packet } from "./PacketChannel.js"
import { initLimitDuration, type Member, type PeerContext, PeerError, syncLimitDuration } from "./PeerContext.js"

export type LearnerKind = "follower" | "observer"

/** How a learner's sync began (for logs and tests). */
export type SyncKind = "DIFF" | "TRUNC" | "SNAP"

interface Proposal {
  readonly zxid: number
  readonly raw: Uint8Array
  readonly entry: TxnEntry
}

const decodeEntry = (data: Uint8Array | null, what: string): TxnEntry => {
  if (data === null) throw new PeerError({ phase: "sync", detail: `${what} without a txn` })
  return readTxnEntry(data)
}

/** Runs the learner role until the leader is lost; always ends in failure (the peer then looks again). */
export const run = (ctx: PeerContext, leader: Member, kind: LearnerKind): Effect.Effect<never, PeerError, Scope.Scope> =>
  Effect.gen(function* () {
    const flaws = yield* Flaws
    yield* LogSync.reconcile(ctx)
    const socket = yield* connectToLeader(ctx, leader)
    const channel = yield* PacketChannel.make(socket, { tree: ctx.treeOptions })
    yield* Effect.logInfo(`${kind} ${ctx.sid}: connected to leader ${leader.sid} at ${channel.peer}`)

    // What already arrived is taken without arming a timeout (a SNAP stream is hundreds of items).
    const next = (limit: ReturnType<typeof initLimitDuration>, phase: PeerError["phase"]) =>
      Queue.poll(channel.inbox).pipe(
        Effect.flatMap((polled) =>
          Option.isSome(polled)
            ? Effect.succeed(polled.value)
            : Queue.take(channel.inbox).pipe(
                Effect.timeoutFail({ duration: limit, onTimeout: () => new PeerError({ phase, detail: `leader ${leader.sid} silent for ${limit.toString()}` }) })
              )
        ),
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

    // --- Synchronization: the pure core (LearnerSync) decides, this shell performs its outputs in
    // order; whatever it logs before an ACK is durable before that ACK goes out.
    const started = yield* Clock.currentTimeMillis
    const storage = (what: string) => (e: { readonly message: string }) => new PeerError({ phase: "storage", detail: `${what}: ${e.message}` })
    const guard = <A>(f: () => A): Effect.Effect<A, PeerError> =>
      Effect.try({ try: f, catch: (e) => (e instanceof PeerError ? e : new PeerError({ phase: "sync", detail: String(e) })) })
    const decode = (p: QuorumPacket): Proposal => {
      const entry = decodeEntry(p.data, packetTypeName(p.type))
      if (entry.header.zxid !== p.zxid) throw new PeerError({ phase: "sync", detail: `proposal ${Zxid.toHex(p.zxid)} carries txn ${Zxid.toHex(entry.header.zxid)}` })
      return { zxid: p.zxid, raw: p.data!, entry }
    }
    let syncState = LearnerSync.make<Proposal>(lastLogged, newEpoch)
    /** A SNAP's snapshot file, written as the stream arrives, made durable at NEWLEADER. */
    let snapshotFile: SnapshotSink | null = null
    /** Committed during sync: applied once the learner serves. */
    const toApply: Array<Proposal> = []
    const receiveSnapshot = (zxid: number) =>
      Effect.gen(function* () {
        // PacketChannel decodes the stream as it arrives; its body goes to disk piece by piece.
        const file = yield* ctx.store.receiveSnapshot(zxid).pipe(Effect.mapError(storage("snapshot of the SNAP stream")))
        for (;;) {
          const item = yield* next(initLimit, "sync")
          if (item._tag === "SnapshotBody") {
            yield* file.write(item.bytes).pipe(Effect.mapError(storage("snapshot of the SNAP stream")))
            continue
          }
          if (item._tag !== "Snapshot") return yield* new PeerError({ phase: "sync", detail: "SNAP without its snapshot stream" })
          ctx.store.replaceTree(item.snapshot.tree)
          ctx.committedLog.clear()
          snapshotFile = file
          return
        }
      })
    /** Performs one output of the core; true once the learner may serve. */
    const perform = (o: LearnerSync.Output<Proposal>): Effect.Effect<boolean, PeerError, Scope.Scope> => {
      switch (o._tag) {
        case "Truncate":
          return Effect.gen(function* () {
            yield* ctx.store.log.sync.pipe(Effect.mapError(storage("txn log")))
            if (!flaws.ignoreTrunc) yield* ctx.store.truncateLog(o.zxid).pipe(Effect.mapError(storage(`TRUNC to ${Zxid.toHex(o.zxid)}`)))
            yield* ctx.reload
            return false
          })
        case "LoadSnapshot":
          return Effect.gen(function* () {
            // Txns logged past the snapshot are not the leader's history: replayed after a restart
            // they would come back in front of it. Drop them, as a TRUNC would.
            if (ctx.store.log.lastAppendedZxid > o.zxid) {
              yield* ctx.store.log.sync.pipe(Effect.mapError(storage("txn log")))
              const cut = yield* ctx.store.truncateLog(o.zxid).pipe(Effect.mapError(storage(`dropping logged txns past the SNAP at ${Zxid.toHex(o.zxid)}`)))
              yield* Effect.logInfo(`learner ${ctx.sid}: SNAP at ${Zxid.toHex(o.zxid)} below its log: dropped the txns after it (${[cut.truncated, ...cut.deleted].filter((f) => f !== null).join(", ")})`)
            }
            yield* receiveSnapshot(o.zxid)
            return false
          })
        case "Apply":
          toApply.push(o.proposal)
          return Effect.succeed(false)
        case "TakeSnapshot":
          return snapshotFile === null
            ? Effect.fail(new PeerError({ phase: "sync", detail: "no snapshot to make durable" }))
            : Effect.as(snapshotFile.finish.pipe(Effect.mapError(storage("snapshot of the SNAP-synced tree"))), false)
        case "Log":
          return Effect.sync(() => {
            for (const p of o.proposals) ctx.store.log.append(p.zxid, p.raw)
            return false
          })
        case "Sync":
          if (flaws.epochBeforeSync) return Effect.succeed(false)
          return Effect.as(ctx.store.log.sync.pipe(Effect.mapError(storage("logging the synced txns"))), false)
        case "PersistCurrentEpoch":
          return Effect.as(ctx.epochs.setCurrent(o.epoch), false)
        case "Ack":
          // Observers acknowledge NEWLEADER and UPTODATE, never proposals.
          if (kind === "follower" || Zxid.counterOf(o.zxid) === 0) channel.send(packet(PacketType.ACK, o.zxid))
          return Effect.succeed(false)
        case "StartServing":
          return Effect.succeed(true)
        case "Abort":
          return Effect.fail(new PeerError({ phase: "sync", detail: `${o.reason}: ${o.detail}` }))
      }
    }
    const feed = (inputs: ReadonlyArray<LearnerSync.Input<Proposal>>) =>
      Effect.gen(function* () {
        let serving = false
        for (const input of inputs) {
          const step = LearnerSync.step(syncState, input)
          syncState = step.state
          for (const o of step.outputs) if (yield* perform(o)) serving = true
        }
        return serving
      })

    const first = yield* nextPacket(initLimit, "sync")
    const modes: Record<number, SyncKind> = { [PacketType.DIFF]: "DIFF", [PacketType.TRUNC]: "TRUNC", [PacketType.SNAP]: "SNAP" }
    const syncKind = modes[first.type]
    if (syncKind === undefined) return yield* new PeerError({ phase: "sync", detail: `expected DIFF, TRUNC or SNAP, got ${packetTypeName(first.type)}` })
    yield* feed([{ _tag: syncKind === "DIFF" ? "Diff" : syncKind === "TRUNC" ? "Trunc" : "Snap", zxid: first.zxid }])
    yield* Effect.logInfo(`${kind} ${ctx.sid}: ${syncKind} ${Zxid.toHex(first.zxid)} from leader ${leader.sid}, epoch ${newEpoch}`)
    for (;;) {
      const p = yield* nextPacket(initLimit, "sync")
      let inputs: ReadonlyArray<LearnerSync.Input<Proposal>>
      switch (p.type) {
        case PacketType.PROPOSAL:
          inputs = [{ _tag: "Proposal", proposal: yield* guard(() => decode(p)) }]
          break
        case PacketType.INFORM: {
          const proposal = yield* guard(() => decode(p))
          inputs = [{ _tag: "Proposal", proposal }, { _tag: "Commit", zxid: proposal.zxid }]
          break
        }
        case PacketType.COMMIT:
          inputs = [{ _tag: "Commit", zxid: p.zxid }]
          break
        case PacketType.NEWLEADER:
          inputs = [{ _tag: "NewLeader", zxid: p.zxid }]
          break
        case PacketType.UPTODATE:
          inputs = [{ _tag: "UpToDate" }]
          break
        case PacketType.PING:
          channel.send(packet(PacketType.PING, p.zxid, writeSessionTouches([])))
          continue
        default:
          return yield* new PeerError({ phase: "sync", detail: `unexpected ${packetTypeName(p.type)} while syncing` })
      }
      if (yield* feed(inputs)) break
    }

    // Proposals logged (and acknowledged) awaiting COMMIT, then what broadcast brings, in zxid order.
    const proposals: Array<Proposal> = [...syncState.open]
    const committed = new Set<number>()
    let logged = proposals.length
    let lastReceived = syncState.lastQueued
    const accept = (p: QuorumPacket): Proposal => {
      const prop = decode(p)
      if (!follows(lastReceived, p.zxid)) {
        throw new PeerError({ phase: "broadcast", detail: `proposal ${Zxid.toHex(p.zxid)} does not follow ${Zxid.toHex(lastReceived)}: refusing a log with a hole` })
      }
      lastReceived = p.zxid
      return prop
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
    const sync = yield* LogSync.start(log, (upTo, ms) => {
      core.stats.fsyncMs.record(ms)
      if (kind === "follower") ackUpTo(upTo)
    })
    const unacked: Array<number> = []
    /** EZK_HOPS: arrival times of the unacked proposals, then ACK times of the uncommitted ones. */
    const arrivedAt = new Map<number, number>()
    const ackedAt = new Map<number, number>()
    const ackUpTo = (upTo: number): void => {
      let n = 0
      while (n < unacked.length && unacked[n]! <= upTo) {
        const zxid = unacked[n++]!
        channel.send(packet(PacketType.ACK, zxid))
        if (HopTimes.enabled) {
          const at = arrivedAt.get(zxid)
          if (at !== undefined) HopTimes.record("follower: PROPOSAL in → ACK sent", at)
          arrivedAt.delete(zxid)
          ackedAt.set(zxid, HopTimes.now())
        }
      }
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
    const now = yield* Clock.currentTimeMillis
    const synced = toApply.map((p) => {
      ctx.committedLog.add({ zxid: p.zxid, raw: p.raw })
      return core.committedFromLeader(p.entry.header, p.entry.txn, p.entry.digest ?? null, now)
    })
    if (synced.length > 0) core.commit(synced)
    yield* Effect.logInfo(
      `${kind} ${ctx.sid}: serving in epoch ${newEpoch} after ${syncKind} sync in ${(yield* Clock.currentTimeMillis) - started} ms, last zxid ${Zxid.toHex(lastReceived)}`
    )

    // Broadcast: whatever has arrived is handled as one batch (one timeout, one log sync and one
    // socket write for many packets), synchronously.
    const clock = yield* Effect.clock
    const handle = (p: QuorumPacket, at: number): void => {
      switch (p.type) {
        case PacketType.PROPOSAL:
          proposals.push(accept(p))
          if (HopTimes.enabled) arrivedAt.set(p.zxid, at)
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
          if (HopTimes.enabled) {
            const acked = ackedAt.get(p.zxid)
            if (acked !== undefined) HopTimes.record("follower: ACK sent → COMMIT in", acked)
            ackedAt.delete(p.zxid)
          }
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
    // Broadcast packets are handled in the socket's data callback as they arrive (no fiber wakes per
    // packet); this fiber only watches for the end: the channel closing (a handler error closes it)
    // or the leader's silence, by one timer re-armed from the last arrival.
    let lastHeard = clock.unsafeCurrentTimeMillis()
    const syncLimitMs = Duration.toMillis(syncLimit)
    yield* channel.direct((p, at) => {
      lastHeard = clock.unsafeCurrentTimeMillis()
      if (HopTimes.enabled) HopTimes.record(`follower: ${packetTypeName(p.type)} in → handled`, at)
      handle(p, at)
    })
    const silence = Effect.gen(function* () {
      for (;;) {
        const quietMs = clock.unsafeCurrentTimeMillis() - lastHeard
        if (quietMs >= syncLimitMs) return yield* new PeerError({ phase: "broadcast", detail: `leader ${leader.sid} silent for ${syncLimit.toString()}` })
        yield* Effect.sleep(syncLimitMs - quietMs)
      }
    })
    const closed = Effect.flatMap(Queue.take(channel.inbox), (item) =>
      Effect.fail(new PeerError({ phase: "broadcast", detail: item._tag === "Closed" ? item.reason : "a snapshot stream in broadcast" }))
    )
    return yield* Effect.raceFirst(closed, silence)
  }).pipe(Effect.catchAllDefect((d) => Effect.fail(d instanceof PeerError ? d : new PeerError({ phase: "broadcast", detail: String(d) }))))

