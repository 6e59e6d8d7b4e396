/**
 * The leader role, in its own Scope: accept learners on the quorum port, establish a new epoch
 * with a quorum (discovery), bring each learner up to date (DIFF / TRUNC / SNAP + NEWLEADER), serve
 * once a quorum acknowledged NEWLEADER, then broadcast: every write is logged here and proposed to
 * the followers, committed when a quorum has logged it, strictly in zxid order. It steps down
 * (the role fails, the peer looks again) when it cannot keep a synced quorum for syncLimit ticks.
 */
import { Clock, Deferred, Duration, Effect, FiberSet, Queue, Schedule, type Scope } from "effect"
import { Transport, type Socket } from "../net/Transport.js"
import type { CommitStage, PendingWrite } from "../server/commit/CommitStage.js"
import type { ServerCore } from "../server/ServerCore.js"
import * as SnapStream from "../storage/SnapStream.js"
import { readRequest } from "../wire/ClientRecords.js"
import { Op } from "../wire/Codes.js"
import { JuteReader } from "../wire/Jute.js"
import {
  PacketType,
  packetTypeName,
  PROTOCOL_VERSION,
  type QuorumPacket,
  readForwardedRequest,
  readIntData,
  readLearnerInfo,
  readRevalidateRequest,
  readSessionTouches,
  writeIntData,
  writeRevalidateReply
} from "../wire/Quorum.js"
import * as Zxid from "../wire/Zxid.js"
import * as Discovery from "./core/Discovery.js"
import { ProposalTracker } from "./core/ProposalTracker.js"
import { Flaws } from "./Flaws.js"
import * as HopTimes from "../server/HopTimes.js"
import { type LearnerHandle, type SnapshotToSend, syncLearner } from "./LeaderSync.js"
import * as LogSync from "./LogSync.js"
import * as PacketChannel from "./PacketChannel.js"
import { packet } from "./PacketChannel.js"
import { initLimitDuration, type PeerContext, PeerError } from "./PeerContext.js"

/** A proposal's bytes and write, kept in the ProposalTracker's order until it commits. */
interface Outstanding {
  readonly zxid: number
  readonly raw: Uint8Array
  readonly write: PendingWrite
  readonly proposedMs: number
  /** HopTimes.now() at the proposal (0 unless EZK_HOPS is on). */
  readonly proposedAt: number
}

export const run = (ctx: PeerContext): Effect.Effect<never, PeerError, Scope.Scope> =>
  Effect.gen(function* () {
    const flaws = yield* Flaws
    yield* LogSync.reconcile(ctx)
    const transport = yield* Transport
    const clock = yield* Effect.clock
    const me = ctx.members.find((m) => m.sid === ctx.sid)!
    const initLimit = initLimitDuration(ctx)
    const syncLimitMs = ctx.tickTime * ctx.syncLimit
    const learners = new Map<number, LearnerHandle>()
    const log = ctx.store.log
    const committedLog = ctx.committedLog
    const outstanding: Array<Outstanding> = []
    let core: ServerCore | null = null
    /** Forwarded syncs waiting for every proposal up to `upTo` to commit. */
    const pendingSyncs: Array<{ readonly learner: LearnerHandle; readonly upTo: number }> = []
    const fatal = yield* Deferred.make<never, PeerError>()

    // --- Discovery: the pure core decides the epoch; this shell persists, then wakes the handlers.
    const epochDecided = yield* Deferred.make<number>()
    const epochAcked = yield* Deferred.make<void>()
    const newLeaderAcked = new Set<number>([ctx.sid])
    const serving = yield* Deferred.make<void>()
    const own = { currentEpoch: ctx.epochs.current, lastZxid: ctx.store.tree.lastProcessedZxid }
    let discovery = Discovery.makeLeader(ctx.sid, ctx.verifier, ctx.epochs.accepted, own)
    // The state moves on synchronously, before the epoch file write yields: a quorum completed by two
    // handlers at once decides (and writes acceptedEpoch) once.
    const discover = (input: Discovery.LeaderInput): Effect.Effect<void, PeerError> =>
      Effect.suspend(() => {
        const step = Discovery.stepLeader(discovery, input)
        discovery = step.state
        return Effect.forEach(
          step.outputs,
          (o): Effect.Effect<void, PeerError> => {
            switch (o._tag) {
              case "EpochChosen":
                return Effect.zipRight(ctx.epochs.setAccepted(o.newEpoch), Deferred.succeed(epochDecided, o.newEpoch))
              case "EpochAcked":
                return Deferred.succeed(epochAcked, undefined)
              case "FollowerAhead": {
                // We may lack txns it has committed: leading would lose them. Look again.
                const e = new PeerError({
                  phase: "discovery",
                  detail: `follower ${o.sid} is ahead of the leader (epoch ${o.summary.currentEpoch}, zxid ${Zxid.toHex(o.summary.lastZxid)})`
                })
                return Effect.zipRight(Deferred.fail(fatal, e), Effect.fail(e))
              }
              case "LearnerEpochAhead": {
                const e = new PeerError({
                  phase: "discovery",
                  detail: `learner ${o.sid} accepted epoch ${o.acceptedEpoch}, above ours: stepping down so that the next epoch is above it`
                })
                return Effect.zipRight(Deferred.fail(fatal, e), Effect.fail(e))
              }
            }
          },
          { discard: true }
        )
      })

    // --- Broadcast: the core's ProposalTracker counts ACKs (the leader's own once its log is durable);
    // `outstanding` holds the same proposals, in the same order, with what committing them needs.
    const tracker = new ProposalTracker(
      flaws.commitWithoutQuorum ? { ...ctx.verifier, containsQuorum: () => true } : ctx.verifier,
      ctx.store.tree.lastProcessedZxid
    )
    const committed = (zxids: ReadonlyArray<number>): void => {
      if (zxids.length === 0) return
      const batch: Array<PendingWrite> = []
      const now = clock.unsafeCurrentTimeMillis()
      for (let i = 0; i < zxids.length; i++) {
        const o = outstanding.shift()!
        HopTimes.record("leader: proposed → committed", o.proposedAt)
        committedLog.add({ zxid: o.zxid, raw: o.raw })
        core?.proposalLatencyMs.record(now - o.proposedMs)
        for (const l of learners.values()) {
          if (!l.forwarding) continue
          if (l.observer) l.channel.send(packet(PacketType.INFORM, o.zxid, o.raw))
          else l.channel.send(packet(PacketType.COMMIT, o.zxid))
        }
        batch.push(o.write)
      }
      core?.commit(batch)
      const upTo = outstanding.length > 0 ? outstanding[0]!.zxid - 1 : Infinity
      while (pendingSyncs.length > 0 && pendingSyncs[0]!.upTo <= upTo) pendingSyncs.shift()!.learner.channel.send(packet(PacketType.SYNC, 0))
    }
    let ownDurable = 0
    const sync = yield* LogSync.start(log, (upTo, ms) => {
      core?.stats.fsyncMs.record(ms)
      if (HopTimes.enabled) for (const o of outstanding) if (o.zxid <= upTo && o.zxid > ownDurable) HopTimes.record("leader: proposed → own log durable", o.proposedAt)
      ownDurable = upTo
      committed(tracker.ack(ctx.sid, upTo))
    })
    let abdicated = false
    const proposals = { count: 0, last: -1, min: -1, max: -1 }
    const stage: CommitStage = {
      role: "leader",
      append: (write, entry) => {
        const raw = entry.slice()
        const now = clock.unsafeCurrentTimeMillis()
        log.append(write.header.zxid, raw)
        tracker.propose(write.header.zxid, now)
        outstanding.push({ zxid: write.header.zxid, raw, write, proposedMs: now, proposedAt: HopTimes.now() })
        proposals.count++
        proposals.last = raw.length
        proposals.min = proposals.min < 0 ? raw.length : Math.min(proposals.min, raw.length)
        proposals.max = Math.max(proposals.max, raw.length)
        for (const l of learners.values()) if (l.forwarding && !l.observer) l.channel.send(packet(PacketType.PROPOSAL, write.header.zxid, raw))
        sync.wake()
      },
      forward: () => {
        throw new Error("a leader does not forward requests")
      },
      epochExhausted: () => {
        // The counter is used up: step down so that an election starts a new epoch.
        if (!abdicated) {
          abdicated = true
          Deferred.unsafeDone(fatal, Effect.fail(new PeerError({ phase: "broadcast", detail: "zxid counter exhausted: stepping down for a new epoch" })))
        }
        return false
      }
    }

    /** Streams a SNAP's snapshot, yielding between chunks: broadcast and commits go on meanwhile. */
    let snapsInFlight = 0
    const streamSnapshot = (l: LearnerHandle, s: SnapshotToSend) =>
      Effect.gen(function* () {
        const started = yield* Clock.currentTimeMillis
        snapsInFlight++
        const sent = yield* SnapStream.send(s.encoder, s.raw.write).pipe(
          Effect.ensuring(Effect.sync(() => snapsInFlight--)),
          Effect.mapError((e) => new PeerError({ phase: "sync", detail: `streaming the snapshot to ${l.sid}: ${e.message}` }))
        )
        s.raw.end()
        const took = (yield* Clock.currentTimeMillis) - started
        yield* Effect.logInfo(`leader ${ctx.sid}: streamed ${sent.nodes} znodes (${sent.bytes} bytes) to ${l.sid} in ${took} ms`)
      })

    const onBroadcastPacket = (l: LearnerHandle, p: QuorumPacket, now: number): void => {
      switch (p.type) {
        case PacketType.ACK:
          if (HopTimes.enabled) for (const o of outstanding) if (o.zxid === p.zxid) HopTimes.record(`leader: proposed → ACK from ${l.sid}`, o.proposedAt)
          return committed(tracker.ack(l.sid, p.zxid))
        case PacketType.PING: {
          const c = core
          if (c === null) return
          for (const t of readSessionTouches(p.data)) {
            const s = c.tracker.get(t.sessionId)
            if (s !== undefined) c.tracker.touch(s)
          }
          return
        }
        case PacketType.REQUEST: {
          const c = core
          if (c === null) return
          const q = readForwardedRequest(p.data)
          const caller = { sessionId: q.sessionId, ids: p.authinfo ?? [], isSuper: false }
          if (q.type === Op.sync) {
            const last = outstanding.length > 0 ? outstanding[outstanding.length - 1]!.zxid : 0
            if (last === 0) l.channel.send(packet(PacketType.SYNC, 0))
            else pendingSyncs.push({ learner: l, upTo: last })
            return
          }
          if (q.type === Op.createSession) {
            c.prepareRemote(caller, q.cxid, { type: Op.createSession, timeOut: new JuteReader(q.body).int() }, now)
            return
          }
          const request = readRequest(new JuteReader(q.body), q.type)
          if (request === null) return
          c.prepareRemote(caller, q.cxid, request, now)
          return
        }
        case PacketType.REVALIDATE: {
          const r = readRevalidateRequest(p.data)
          const s = core?.tracker.get(r.sessionId)
          const valid = s !== undefined && !s.closing
          if (valid) core!.tracker.touch(s!)
          l.channel.send({ type: PacketType.REVALIDATE, zxid: p.zxid, data: writeRevalidateReply({ sessionId: r.sessionId, valid }), authinfo: null })
          return
        }
        default:
          throw new PeerError({ phase: "broadcast", detail: `unexpected ${packetTypeName(p.type)} from ${l.sid}` })
      }
    }

    /** One learner connection, from FOLLOWERINFO to its loss. */
    const handle = (socket: Socket) =>
      Effect.gen(function* () {
        const channel = yield* PacketChannel.make(socket)
        const take = Queue.take(channel.inbox).pipe(
          Effect.flatMap((i) => (i._tag === "Packet" ? Effect.succeed(i.packet) : Effect.fail(new PeerError({ phase: "sync", detail: i._tag === "Closed" ? i.reason : "unexpected snapshot stream" }))))
        )
        const takeWithin = take.pipe(Effect.timeoutFail({ duration: initLimit, onTimeout: () => new PeerError({ phase: "sync", detail: `${channel.peer} silent for initLimit` }) }))
        const hello = yield* takeWithin
        if (hello.type !== PacketType.FOLLOWERINFO && hello.type !== PacketType.OBSERVERINFO) {
          return yield* new PeerError({ phase: "discovery", detail: `${channel.peer} sent ${packetTypeName(hello.type)} instead of FOLLOWERINFO` })
        }
        const info = yield* Effect.try({ try: () => readLearnerInfo(hello.data), catch: (e) => new PeerError({ phase: "discovery", detail: `bad LearnerInfo: ${String(e)}` }) })
        const member = ctx.members.find((m) => m.sid === info.sid)
        const observer = hello.type === PacketType.OBSERVERINFO
        if (member === undefined || (member.type === "observer") !== observer) {
          return yield* new PeerError({ phase: "discovery", detail: `${channel.peer} says it is server ${info.sid}, which is not a ${observer ? "observer" : "participant"} here` })
        }
        const l: LearnerHandle = { sid: info.sid, observer, channel, lastHeard: yield* Clock.currentTimeMillis, synced: false, forwarding: false }
        const previous = learners.get(l.sid)
        if (previous !== undefined) yield* previous.channel.close
        learners.set(l.sid, l)
        yield* Effect.addFinalizer(() => Effect.sync(() => learners.get(l.sid) === l && learners.delete(l.sid)))

        yield* discover({ _tag: "LearnerInfo", sid: l.sid, acceptedEpoch: Zxid.epochOf(hello.zxid) })
        const newEpoch = yield* Deferred.await(epochDecided)
        channel.send(packet(PacketType.LEADERINFO, Zxid.epochStart(newEpoch), writeIntData(PROTOCOL_VERSION)))
        const ack = yield* takeWithin
        if (ack.type !== PacketType.ACKEPOCH) return yield* new PeerError({ phase: "discovery", detail: `${l.sid} sent ${packetTypeName(ack.type)} instead of ACKEPOCH` })
        yield* discover({ _tag: "AckEpoch", sid: l.sid, currentEpoch: readIntData(ack.data), lastZxid: ack.zxid })
        yield* Deferred.await(epochAcked)
        // Read before the decision, which then runs in one turn with the learner's registration; the
        // decision checks the read still reaches the committed log, which may have moved meanwhile.
        const txnLog = yield* committedLog.readTxnLog(ctx.store, ack.zxid)
        const { kind, snapshot } = syncLearner(ctx, outstanding, l, ack.zxid, newEpoch, txnLog)
        yield* Effect.logInfo(`leader ${ctx.sid}: syncing ${observer ? "observer" : "follower"} ${l.sid} (last zxid ${Zxid.toHex(ack.zxid)}) with ${kind}`)
        if (snapshot !== null) yield* streamSnapshot(l, snapshot)

        while (!l.synced) {
          const item = yield* Queue.take(channel.inbox)
          if (item._tag !== "Packet") return yield* new PeerError({ phase: "sync", detail: item._tag === "Closed" ? item.reason : "unexpected snapshot stream" })
          const p = item.packet
          const now = yield* Clock.currentTimeMillis
          l.lastHeard = now
          if (p.type === PacketType.ACK && p.zxid === Zxid.epochStart(newEpoch)) {
            l.synced = true
            if (!observer) newLeaderAcked.add(l.sid)
            if (yield* Deferred.isDone(serving)) channel.send(packet(PacketType.UPTODATE, -1))
            else if (ctx.verifier.containsQuorum(newLeaderAcked)) yield* Deferred.succeed(serving, undefined)
            continue
          }
          yield* Effect.try({ try: () => onBroadcastPacket(l, p, now), catch: (e) => (e instanceof PeerError ? e : new PeerError({ phase: "broadcast", detail: String(e) })) })
        }
        // Synced: its packets are handled in the socket's data callback as they arrive (no fiber
        // wakes per ACK); this fiber waits for the channel to close (a handler error closes it).
        yield* channel.direct((p, at) => {
          if (HopTimes.enabled) HopTimes.record(`leader: ${packetTypeName(p.type)} in → handled`, at)
          const now = clock.unsafeCurrentTimeMillis()
          l.lastHeard = now
          onBroadcastPacket(l, p, now)
        })
        const end = yield* Queue.take(channel.inbox)
        return yield* new PeerError({ phase: "broadcast", detail: end._tag === "Closed" ? end.reason : "unexpected snapshot stream" })
      }).pipe(
        Effect.tapError((e) => Effect.logWarning(`leader ${ctx.sid}: dropping learner: ${e.message}`)),
        Effect.ignore,
        Effect.scoped
      )

    // --- Accept learners for as long as we lead.
    const handlers = yield* FiberSet.make()
    const runFork = yield* FiberSet.runtime(handlers)<never>()
    yield* transport
      .listen({ host: ctx.quorumListenHost, port: me.quorumPort }, (socket) => void runFork(handle(socket)))
      .pipe(Effect.mapError((e) => new PeerError({ phase: "connect", detail: `quorum port ${ctx.quorumListenHost}:${me.quorumPort}: ${e.message}` })))
    yield* Effect.logInfo(`leader ${ctx.sid}: waiting for followers on ${ctx.quorumListenHost}:${me.quorumPort}`)

    // Discovery: a quorum (ourselves included) must join and acknowledge the epoch within initLimit each.
    const timeout = (what: string) => () => new PeerError({ phase: "discovery", detail: `no quorum ${what} within initLimit (${ctx.initLimit} ticks)` })
    // Our own info and ack: they decide at once when we alone are a quorum.
    yield* discover({ _tag: "LearnerInfo", sid: ctx.sid, acceptedEpoch: ctx.epochs.accepted })
    // Each phase waits for a quorum, or ends with the role (a follower ahead of us: `fatal`).
    const orFatal = <A>(d: Deferred.Deferred<A>) => Effect.raceFirst(Deferred.await(d), Deferred.await(fatal))
    const newEpoch = yield* orFatal(epochDecided).pipe(Effect.timeoutFail({ duration: initLimit, onTimeout: timeout("of followers connected") }))
    yield* discover({ _tag: "AckEpoch", sid: ctx.sid, ...own })
    yield* orFatal(epochAcked).pipe(Effect.timeoutFail({ duration: initLimit, onTimeout: timeout("acknowledged the new epoch") }))
    yield* ctx.epochs.setCurrent(newEpoch)
    if (ctx.verifier.containsQuorum(newLeaderAcked)) yield* Deferred.succeed(serving, undefined)
    yield* orFatal(serving).pipe(Effect.timeoutFail({ duration: initLimit, onTimeout: timeout("acknowledged NEWLEADER") }))

    // Serve: a fresh core whose zxids start the new epoch.
    core = yield* ctx.serve(stage)
    core.mode = "leader"
    core.quorumCounters = () => {
      const all = [...learners.values()]
      return {
        learners: all.length,
        synced_followers: all.filter((l) => l.synced && !l.observer).length,
        synced_observers: all.filter((l) => l.synced && l.observer).length,
        pending_syncs: pendingSyncs.length,
        snapshots_streaming: snapsInFlight,
        last_proposal_size: proposals.last,
        min_proposal_size: proposals.min,
        max_proposal_size: proposals.max,
        proposal_count: proposals.count
      }
    }
    core.zxids.startEpoch(newEpoch)
    for (const l of learners.values()) if (l.synced) l.channel.send(packet(PacketType.UPTODATE, -1))
    yield* Effect.logInfo(`leader ${ctx.sid}: serving epoch ${newEpoch} with ${[...newLeaderAcked].sort().join(",")}`)

    // Tick loop: PING every half tick; drop learners silent for syncLimit; step down without a synced quorum.
    const tick = Effect.gen(function* () {
      const now = yield* Clock.currentTimeMillis
      const last = outstanding.length > 0 ? outstanding[outstanding.length - 1]!.zxid : ctx.store.tree.lastProcessedZxid
      const synced = [ctx.sid]
      for (const l of [...learners.values()]) {
        // A learner still syncing (a large SNAP) has initLimit, as in ZooKeeper; a synced one syncLimit.
        if (now - l.lastHeard > (l.synced ? syncLimitMs : ctx.tickTime * ctx.initLimit)) {
          yield* Effect.logWarning(`leader ${ctx.sid}: learner ${l.sid} silent for more than ${l.synced ? "syncLimit" : "initLimit"}; dropping it`)
          yield* l.channel.close
          learners.delete(l.sid)
          continue
        }
        if (l.synced && !l.observer) synced.push(l.sid)
        // Only synced learners are pinged: a ZooKeeper learner still syncing exits on a PING.
        if (l.synced) l.channel.send(packet(PacketType.PING, last))
      }
      if (!ctx.verifier.containsQuorum(synced)) {
        return yield* new PeerError({ phase: "broadcast", detail: `not sufficient followers synced, only synced with sids [${synced.join(",")}]` })
      }
    })
    return yield* Effect.raceFirst(
      tick.pipe(Effect.repeat(Schedule.spaced(Duration.millis(ctx.tickTime / 2))), Effect.zipRight(Effect.never)),
      Deferred.await(fatal)
    )
  })

