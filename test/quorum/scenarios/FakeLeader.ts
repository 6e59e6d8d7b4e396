/**
 * A scripted leader for packet-level scenarios: a real follower (QuorumServer peer 1 of 3, with a
 * memory disk it can lose power on) follows host s3, where the test itself listens and speaks
 * QuorumPackets step by step. Everything runs on the memory network and TestClock.
 */
import { Duration, Effect, ExecutionStrategy, Exit, Fiber, Option, Queue, Scope, TestClock } from "effect"
import * as Disk from "../../../src/disk/Disk.js"
import * as Memory from "../../../src/net/Memory.js"
import { type Socket, Transport } from "../../../src/net/Transport.js"
import * as PacketChannel from "../../../src/quorum/PacketChannel.js"
import * as QuorumServer from "../../../src/quorum/QuorumServer.js"
import * as Testing from "../../../src/quorum/Testing.js"
import * as SnapStream from "../../../src/storage/SnapStream.js"
import { DataTree } from "../../../src/tree/DataTree.js"
import type { ACL } from "../../../src/wire/ClientRecords.js"
import { Op } from "../../../src/wire/Codes.js"
import { PacketType, packetTypeName, PROTOCOL_VERSION, type QuorumPacket, writeIntData, writeProposal } from "../../../src/wire/Quorum.js"
import { readTxnEntry } from "../../../src/wire/TxnRecords.js"
import * as Zxid from "../../../src/wire/Zxid.js"

/** Runs `eff` (forked) while advancing TestClock in small steps, until it completes. */
export const drive = <A, E>(eff: Effect.Effect<A, E, Scope.Scope>, stepMs = 10, maxSteps = 20_000) =>
  Effect.gen(function* () {
    const fiber = yield* Effect.fork(Effect.scoped(eff))
    for (let i = 0; i < maxSteps && Option.isNone(yield* Fiber.poll(fiber)); i++) yield* TestClock.adjust(Duration.millis(stepMs))
    if (Option.isNone(yield* Fiber.poll(fiber))) yield* Fiber.interrupt(fiber)
    return yield* Fiber.join(fiber)
  })

/** Lets the clock run for `ms` (the follower works meanwhile). */
export const idle = (ms: number) => drive(Effect.sleep(Duration.millis(ms)))

export const packet = (type: number, zxid: number, data: Uint8Array | null = null): QuorumPacket => ({ type, zxid, data, authinfo: null })

const OPEN_ACL: ReadonlyArray<ACL> = [{ perms: 31, id: { scheme: "world", id: "anyone" } }]

/** A PROPOSAL/INFORM payload: the txn entry creating `path` at `zxid`. */
export const createEntry = (zxid: number, path: string): Uint8Array =>
  writeProposal({
    header: { clientId: 0n, cxid: 0, zxid, time: 0, type: Op.create },
    txn: { type: Op.create, path, data: new TextEncoder().encode(path), acl: OPEN_ACL, ephemeral: false, parentCVersion: -1 },
    digest: null
  })

export const proposal = (zxid: number, path: string) => packet(PacketType.PROPOSAL, zxid, createEntry(zxid, path))

/** A leader's tree holding the creates of `paths` at `zxids` (what it SNAPs a learner with). */
export const treeOf = (...created: ReadonlyArray<readonly [zxid: number, path: string]>): DataTree => {
  const tree = new DataTree({ extendedTypes: false, digestEnabled: true })
  for (const [zxid, path] of created) {
    const e = readTxnEntry(createEntry(zxid, path))
    tree.processTxn(e.header, e.txn)
  }
  return tree
}

export const z = Zxid.make

/** One connection from the follower, seen from the fake leader's side. */
export interface LeaderSide {
  readonly send: (...packets: ReadonlyArray<QuorumPacket>) => void
  /** SNAP at `zxid` followed by the snapshot stream of `tree` (the packets sent next wait behind it). */
  readonly sendSnap: (zxid: number, tree: DataTree) => Effect.Effect<void>
  /** The next packet from the follower (skipping its PINGs), or null when the connection closed. */
  readonly recv: Effect.Effect<QuorumPacket | null>
  readonly close: Effect.Effect<void>
}

export interface Harness {
  readonly network: Memory.Network
  readonly disk: Disk.MemoryDiskControl
  /** The follower peer while it runs. */
  readonly follower: () => QuorumServer.RunningPeer | null
  readonly startFollower: Effect.Effect<void>
  /** Power loss: sockets break, the peer stops, unsynced writes are lost. */
  readonly crashFollower: Effect.Effect<void>
  /** Connections from the follower not yet accepted. */
  readonly pendingConnections: Effect.Effect<number>
  /** The next connection from the follower (its FOLLOWERINFO not yet read). */
  readonly accept: Effect.Effect<LeaderSide, never, Scope.Scope>
  /** accept + discovery for `epoch`; returns the connection and the ACKEPOCH. */
  readonly discover: (epoch: number) => Effect.Effect<{ readonly leader: LeaderSide; readonly ackEpoch: QuorumPacket }, never, Scope.Scope>
}

export const make = (): Effect.Effect<Harness, never, Scope.Scope> =>
  Effect.gen(function* () {
    const outer = yield* Effect.scope
    const network = yield* Memory.makeNetwork({ seed: 7, latencyMs: 1 })
    const config = Testing.ensembleConfig({ nodes: 3 })
    const sockets = yield* Queue.unbounded<Socket>()
    yield* Effect.orDie(network.transportFor("s3").listen({ host: "s3", port: 2888 }, (s) => {
      // Held until the channel has its handlers: bytes delivered to no handler are gone.
      s.pause()
      Queue.unsafeOffer(sockets, s)
    }))
    const { disk, control } = Disk.makeMemory()
    let scope: Scope.CloseableScope | null = null
    let running: QuorumServer.RunningPeer | null = null

    const startFollower = Effect.gen(function* () {
      const s = yield* Scope.fork(outer, ExecutionStrategy.sequential)
      running = yield* QuorumServer.make({ ...config, clientPortAddress: "s1" }, { sid: 1, elector: QuorumServer.fixedLeader(3) }).pipe(
        Effect.provideService(Transport, network.transportFor("s1")),
        Effect.provideService(Disk.Disk, disk),
        Scope.extend(s),
        Effect.orDie
      )
      scope = s
    })
    const crashFollower = Effect.gen(function* () {
      network.reset("s1")
      // The disk refuses everything while the dead process's finalizers run (they must not flush
      // the log after the power is gone), then loses what was not synced.
      yield* control.setFaults({ writeLimitBytes: control.bytesWritten(), failSync: true })
      const s = scope
      scope = null
      running = null
      if (s !== null) yield* Scope.close(s, Exit.void)
      yield* control.crash()
      yield* control.setFaults({ writeLimitBytes: null, failSync: false })
    })

    const accept = Effect.gen(function* () {
      const socket = yield* drive(Queue.take(sockets))
      const channel = yield* PacketChannel.make(socket)
      socket.resume()
      const recv: Effect.Effect<QuorumPacket | null> = drive(
        Effect.gen(function* () {
          for (;;) {
            const item = yield* Queue.take(channel.inbox)
            if (item._tag === "Closed") return null
            if (item._tag === "Packet" && item.packet.type !== PacketType.PING) return item.packet
          }
        })
      )
      return {
        send: (...packets: ReadonlyArray<QuorumPacket>) => packets.forEach((p) => channel.send(p)),
        sendSnap: (zxid: number, tree: DataTree) => {
          channel.send(packet(PacketType.SNAP, zxid))
          const raw = channel.stream()
          return drive(SnapStream.send(SnapStream.encoder(tree), raw.write)).pipe(Effect.orDie, Effect.tap(() => raw.end()))
        },
        recv,
        close: channel.close
      } satisfies LeaderSide
    })

    const expect = (leader: LeaderSide, type: number) =>
      Effect.flatMap(leader.recv, (p) =>
        p !== null && p.type === type ? Effect.succeed(p) : Effect.dieMessage(`expected ${packetTypeName(type)}, got ${p === null ? "a closed connection" : packetTypeName(p.type)}`)
      )

    const discover = (epoch: number) =>
      Effect.gen(function* () {
        const leader = yield* accept
        yield* expect(leader, PacketType.FOLLOWERINFO)
        leader.send(packet(PacketType.LEADERINFO, Zxid.epochStart(epoch), writeIntData(PROTOCOL_VERSION)))
        const ackEpoch = yield* expect(leader, PacketType.ACKEPOCH)
        return { leader, ackEpoch }
      })

    return { network, disk: control, follower: () => running, startFollower, crashFollower, pendingConnections: Queue.size(sockets), accept, discover }
  })

/** NEWLEADER for `epoch` (learners do not read its config text). */
export const newLeader = (epoch: number) => packet(PacketType.NEWLEADER, Zxid.epochStart(epoch), new TextEncoder().encode("version=0"))
