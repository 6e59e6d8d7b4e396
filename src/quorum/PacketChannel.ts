/**
 * One learner-port connection as the quorum code sees it: QuorumPackets out (coalesced into one
 * socket write per turn), a raw byte stream out (the SNAP snapshot, with backpressure; packets
 * sent meanwhile wait behind it), and an inbox of packets in — with the raw snapshot that follows
 * a SNAP packet decoded in place as it arrives, so a learner reads its body pieces and then
 * `Snapshot` as just more inbound items.
 */
import { Data, Effect, Queue, type Scope } from "effect"
import type { Socket } from "../net/Transport.js"
import * as HopTimes from "../server/HopTimes.js"
import * as SnapStream from "../storage/SnapStream.js"
import type { DataTreeOptions } from "../tree/DataTree.js"
import { JuteWriter } from "../wire/Jute.js"
import { type QuorumPacket, QuorumPacketReader, PacketType, writeQuorumPacket } from "../wire/Quorum.js"
import { WireError } from "../wire/WireError.js"
import { PeerError } from "./PeerContext.js"

export type Inbound =
  /** `at`: arrival time (HopTimes.now(), 0 unless EZK_HOPS is on). */
  | { readonly _tag: "Packet"; readonly packet: QuorumPacket; readonly at: number }
  /** The next piece of the SNAP stream's body, already loaded into the tree being built (to persist it). */
  | { readonly _tag: "SnapshotBody"; readonly bytes: Uint8Array }
  | { readonly _tag: "Snapshot"; readonly snapshot: SnapStream.Received }
  | { readonly _tag: "Closed"; readonly reason: string }

export interface PacketChannel {
  /** `host:port` of the other side, for logs. */
  readonly peer: string
  /** Queues a packet; everything queued in one turn leaves in one socket write, in order. */
  send(packet: QuorumPacket): void
  /**
   * Starts a raw byte stream (the SNAP snapshot) here in the output: what was sent before goes
   * first, packets sent from now on wait until the stream's `end`.
   */
  stream(): RawStream
  /**
   * From now on packets go to `handler` in the socket's data callback as they arrive (those already
   * in the inbox first), not through the inbox, which then only gets `Closed`: no fiber wakes per
   * packet. A handler that throws closes the channel, its error's detail the reason.
   */
  direct(handler: (packet: QuorumPacket, at: number) => void): Effect.Effect<void>
  /** Packets in order; ends with one `Closed`. */
  readonly inbox: Queue.Dequeue<Inbound>
  /** Closes the connection (idempotent). */
  readonly close: Effect.Effect<void>
}

/** A raw stream in a channel's output. */
export interface RawStream {
  /** Writes the next chunk (kept until sent: never reuse it); waits while the socket is full. */
  readonly write: (chunk: Uint8Array) => Effect.Effect<void, ChannelClosed>
  /** Ends the stream: the packets held behind it follow. */
  readonly end: () => void
}

export class ChannelClosed extends Data.TaggedError("ChannelClosed")<{ readonly reason: string }> {
  override get message(): string {
    return this.reason
  }
}

export interface ChannelOptions {
  /** Tree options for a SNAP-streamed tree (learners). */
  readonly tree?: DataTreeOptions
  readonly maxPacket?: number
}

/** A packet without auth info (every packet but a learner's REQUEST). */
export const packet = (type: number, zxid: number, data: Uint8Array | null = null): QuorumPacket => ({ type, zxid, data, authinfo: null })

/** Wraps a connected socket; the socket is destroyed when the current scope closes. */
export const make = (socket: Socket, options: ChannelOptions = {}): Effect.Effect<PacketChannel, never, Scope.Scope> =>
  Effect.gen(function* () {
    // Unbounded: the consumer is this server's own role fiber, which never blocks on the network
    // while reading; a flooding peer is bounded by maxPacket per packet and dropped by syncLimit.
    const inbox = yield* Queue.unbounded<Inbound>()
    const peer = `${socket.remoteAddress}:${socket.remotePort}`
    const reader = new QuorumPacketReader(options.maxPacket)
    let snap: SnapStream.SnapStreamDecoder | null = null
    let closed = false
    const out = new JuteWriter(64 * 1024)
    let flushQueued = false
    /** A raw stream is being written: packets wait in `out`. */
    let streaming = false
    let closeReason = ""
    let drained: (() => void) | null = null

    let handler: ((packet: QuorumPacket, at: number) => void) | null = null
    const deliver = (item: Inbound): void => {
      if (handler === null || item._tag === "Closed") {
        Queue.unsafeOffer(inbox, item)
        return
      }
      if (closed) return
      if (item._tag !== "Packet") return fail(`a snapshot stream from ${peer} after sync`)
      try {
        handler(item.packet, item.at)
      } catch (e) {
        fail(e instanceof PeerError ? e.detail : String(e))
      }
    }
    const fail = (reason: string): void => {
      if (closed) return
      closed = true
      closeReason = reason
      socket.destroy()
      drained?.()
      deliver({ _tag: "Closed", reason })
    }
    const onData = (chunk: Uint8Array): void => {
      if (closed) return
      try {
        let bytes: Uint8Array | null = chunk
        while (bytes !== null && !closed) {
          if (snap !== null) {
            const done = snap.feed(bytes)
            if (done === null) return
            snap = null
            deliver({ _tag: "Snapshot", snapshot: done })
            bytes = done.rest.length > 0 ? done.rest : null
            continue
          }
          let snapZxid = 0
          const at = HopTimes.now()
          for (const packet of reader.feed(bytes)) {
            if (packet.type === PacketType.SNAP) snapZxid = packet.zxid
            deliver({ _tag: "Packet", packet, at })
          }
          bytes = null
          if (reader.awaitingSnapshot) {
            // The raw snapshot follows the SNAP packet; its zxid is the streamed tree's lastProcessedZxid.
            if (options.tree === undefined) return fail(`unexpected SNAP from ${peer}`)
            snap = new SnapStream.SnapStreamDecoder(snapZxid, options.tree, undefined, (body) => deliver({ _tag: "SnapshotBody", bytes: body }))
            const rest = reader.takeRest()
            bytes = rest.length > 0 ? rest : null
          }
        }
      } catch (e) {
        if (e instanceof WireError) return fail(`garbage from ${peer}: ${e.message}`)
        throw e
      }
    }
    socket.setHandlers({
      data: onData,
      end: () => fail(`${peer} closed the connection`),
      close: (hadError) => fail(hadError ? `connection to ${peer} broke` : `${peer} closed the connection`),
      error: (e) => fail(e.message),
      drain: () => drained?.()
    })

    const flush = (): void => {
      flushQueued = false
      if (closed || streaming || out.pos === 0) return
      socket.write(out.copy())
      out.reset()
    }
    const schedule = (): void => {
      if (flushQueued) return
      flushQueued = true
      queueMicrotask(flush)
    }
    yield* Effect.addFinalizer(() => Effect.sync(() => fail("closed")))
    return {
      peer,
      send: (packet) => {
        if (closed) return
        writeQuorumPacket(out, packet)
        schedule()
      },
      stream: () => {
        flush()
        streaming = true
        const write = (chunk: Uint8Array): Effect.Effect<void, ChannelClosed> =>
          Effect.suspend(() => {
            if (closed) return Effect.fail(new ChannelClosed({ reason: closeReason }))
            if (socket.write(chunk)) return Effect.void
            return Effect.async<void, ChannelClosed>((resume) => {
              drained = () => {
                drained = null
                resume(closed ? Effect.fail(new ChannelClosed({ reason: closeReason })) : Effect.void)
              }
              return Effect.sync(() => {
                drained = null
              })
            })
          })
        return {
          write,
          end: () => {
            streaming = false
            schedule()
          }
        }
      },
      direct: (h) =>
        Effect.suspend(() => {
          // Packets arriving between the drain and the switch wait here, behind what the inbox holds.
          const held: Array<Inbound> = []
          handler = (packet, at) => void held.push({ _tag: "Packet", packet, at })
          return Queue.takeAll(inbox).pipe(
            Effect.map((queued) => {
              handler = h
              for (const item of queued) deliver(item)
              for (const item of held) deliver(item)
            })
          )
        }),
      inbox,
      close: Effect.sync(() => fail("closed"))
    }
  })
