/**
 * The election port (quorum.md §1, ZooKeeper's QuorumCnxManager) on the Transport port.
 *
 * - One listener on my election address; one connection per pair of servers, the one initiated by
 *   the larger sid (§1.2): a smaller sid that connects only sends its initial message and closes,
 *   and the larger side connects back.
 * - Per-peer send queue of `sendQueueCapacity` frames (1 in ZooKeeper 3.8: newer replaces older).
 *   A (re)established connection with nothing queued re-sends the last frame sent to that peer, so
 *   receivers see duplicates, as ZooKeeper's do.
 * - A peer without a connection is connected to on the next `send` (and on `connectAll`), which
 *   is how broken connections come back.
 * - Incoming notifications land in one sliding inbox (oldest dropped when full, like 3.8's
 *   CircularBlockingQueue).
 * - Garbage (bad initial message, frame outside 1..512 KiB, undecodable notification, a stranger's
 *   sid) closes only that connection, with a log line.
 *
 * Unknown sids: only servers listed in the configuration (participants and observers) may connect;
 * any other sid is refused. ZooKeeper 3.8 also answers observers that are missing from its view
 * (sids it learns from their initial message); ezk needs every observer on every `server.N` list.
 *
 * Socket callbacks run synchronously (decode, queue); effects they need (logs, connect-back) are
 * forked into the net's FiberSet, so closing the scope stops everything.
 */
import { Effect, FiberSet, Queue, type Scope } from "effect"
import { type Socket, Transport, type TransportError } from "../../net/Transport.js"
import {
  decodeNotification,
  ElectionStreamReader,
  encodeNotificationFrame,
  type InitialMessage,
  type Notification,
  PROTOCOL_V1,
  writeInitialMessage
} from "../../wire/Election.js"
import { JuteWriter } from "../../wire/Jute.js"
import type { PeerType, Sid } from "../core/QuorumVerifier.js"

/** One `server.N` line as the election needs it. */
export interface Member {
  readonly sid: Sid
  readonly host: string
  readonly electionPort: number
  readonly type: PeerType
}

/** How to run the election port. */
export interface Options {
  readonly sid: Sid
  /** Every server of the configuration, me included. */
  readonly members: ReadonlyArray<Member>
  /** Connect timeout (`zookeeper.cnxTimeout`, 5000 ms in ZooKeeper). */
  readonly cnxTimeoutMs: number
  /** How long an accepted connection may take to send its initial message (tickTime·syncLimit). */
  readonly handshakeTimeoutMs: number
  /** Listen on 0.0.0.0 instead of my `server.N` host (`quorumListenOnAllIPs`). */
  readonly listenOnAllIPs?: boolean
  /** Frames kept per peer while it is unreachable (ZooKeeper 3.8: 1). */
  readonly sendQueueCapacity?: number
  /** Notifications kept in the inbox before the oldest is dropped. */
  readonly inboxCapacity?: number
}

/** A notification and who sent it (the sid of the connection it came on). */
export interface Received {
  readonly from: Sid
  readonly notification: Notification
}

/** The running election port. */
export interface ElectionNet {
  readonly sid: Sid
  /** The bound listen address (its port is my election port). */
  readonly address: { readonly host: string; readonly port: number }
  /** Queues a notification for one server (connecting to it if needed); never blocks. */
  readonly send: (to: Sid, notification: Notification) => Effect.Effect<void>
  /** Sends to every other participant (FLE never sends to observers on its own). */
  readonly sendAll: (notification: Notification) => Effect.Effect<void>
  /** Every received notification, oldest dropped when full. */
  readonly inbox: Queue.Dequeue<Received>
  /** Starts a connection to every other server without one (FLE calls this when nothing arrives). */
  readonly connectAll: Effect.Effect<void>
  /** Sids with an established connection right now (for tests and `mntr`-style reporting). */
  readonly connected: Effect.Effect<ReadonlyArray<Sid>>
}

interface Peer {
  readonly member: Member
  socket: Socket | null
  connecting: boolean
  pending: Array<Uint8Array>
  lastSent: Uint8Array | null
}

const initialMessageBytes = (sid: Sid, addr: string): Uint8Array => {
  const w = new JuteWriter(64)
  const m: InitialMessage = { protocolVersion: PROTOCOL_V1, sid, addr }
  writeInitialMessage(w, m)
  return w.copy()
}

/** Opens the election port; everything (listener, sockets, fibers) closes with the scope. */
export const make = (options: Options): Effect.Effect<ElectionNet, TransportError, Scope.Scope> =>
  Effect.gen(function*() {
    const transport = yield* Transport
    const me = options.members.find((m) => m.sid === options.sid)
    if (me === undefined) return yield* Effect.dieMessage(`sid ${options.sid} is not among the members`)
    const capacity = options.sendQueueCapacity ?? 1
    const inbox = yield* Queue.sliding<Received>(options.inboxCapacity ?? 1000)
    const run = yield* FiberSet.makeRuntime<never>()
    const peers = new Map<Sid, Peer>()
    for (const m of options.members) {
      if (m.sid !== options.sid) peers.set(m.sid, { member: m, socket: null, connecting: false, pending: [], lastSent: null })
    }
    const open = new Set<Socket>()
    let closed = false
    const log = (message: string) => void run(Effect.logWarning(message).pipe(Effect.annotateLogs({ sid: options.sid })))
    const initial = initialMessageBytes(options.sid, `${me.host}:${me.electionPort}`)

    const write = (peer: Peer, socket: Socket, frame: Uint8Array) => {
      socket.write(frame)
      peer.lastSent = frame
    }

    /** Reads notifications from `socket`; garbage closes it. `sid` null: the initial message comes first. */
    const receive = (socket: Socket, sid: Sid | null, onInitial: (m: InitialMessage) => Sid | null) => {
      const reader = new ElectionStreamReader({ handshake: sid === null })
      let from = sid
      socket.setHandlers({
        data: (chunk) => {
          if (closed) return
          try {
            const payloads = reader.feed(chunk)
            if (from === null && reader.initial !== null) {
              from = onInitial(reader.initial)
              if (from === null) return
            }
            for (const payload of payloads) Queue.unsafeOffer(inbox, { from: from!, notification: decodeNotification(payload) })
          } catch (e) {
            log(`closing election connection from ${socket.remoteAddress}:${socket.remotePort}: ${String(e)}`)
            socket.destroy()
          }
        },
        close: () => {
          open.delete(socket)
          if (from === null) return
          const peer = peers.get(from)
          if (peer !== undefined && peer.socket === socket) peer.socket = null
        },
        error: () => {}
      })
    }

    /** Makes `socket` the one connection to `peer` and flushes what waits for it. */
    const adopt = (peer: Peer, socket: Socket) => {
      const previous = peer.socket
      peer.socket = socket
      if (previous !== null && previous !== socket) previous.destroy()
      const pending = peer.pending
      peer.pending = []
      if (pending.length === 0 && peer.lastSent !== null) write(peer, socket, peer.lastSent)
      for (const frame of pending) write(peer, socket, frame)
    }

    const connectOne = (peer: Peer): Effect.Effect<void> => {
      if (closed || peer.socket !== null || peer.connecting) return Effect.void
      peer.connecting = true
      const { host, electionPort: port } = peer.member
      return transport.connect({ host, port, timeoutMs: options.cnxTimeoutMs }).pipe(
        Effect.flatMap((socket) =>
          Effect.sync(() => {
            if (closed) return socket.destroy()
            open.add(socket)
            socket.write(initial)
            // The connection initiated by the larger sid is the one that stays (quorum.md §1.2).
            if (options.sid < peer.member.sid) {
              socket.setHandlers({ close: () => open.delete(socket), error: () => {} })
              return socket.end()
            }
            receive(socket, peer.member.sid, () => peer.member.sid)
            adopt(peer, socket)
          })
        ),
        Effect.catchAll((e) => Effect.logDebug(`cannot connect to election port of ${peer.member.sid}: ${e.message}`)),
        Effect.ensuring(Effect.sync(() => (peer.connecting = false)))
      )
    }

    const onInitial = (socket: Socket, handshake: { done: boolean }) => (m: InitialMessage): Sid | null => {
      handshake.done = true
      const peer = peers.get(m.sid)
      if (peer === undefined) {
        log(`refusing election connection from sid ${m.sid} (${m.addr ?? "no address"}): not in the configuration`)
        socket.destroy()
        return null
      }
      if (m.sid < options.sid) {
        // The smaller sid connected: drop it and connect back ourselves.
        socket.destroy()
        run(connectOne(peer))
        return null
      }
      adopt(peer, socket)
      return m.sid
    }

    const accept = (socket: Socket) => {
      if (closed) return socket.destroy()
      open.add(socket)
      const handshake = { done: false }
      receive(socket, null, onInitial(socket, handshake))
      run(Effect.sleep(options.handshakeTimeoutMs).pipe(Effect.andThen(Effect.sync(() => {
        if (handshake.done || !open.has(socket)) return
        log(`closing election connection from ${socket.remoteAddress}:${socket.remotePort}: no initial message`)
        socket.destroy()
      }))))
    }

    const address = yield* transport.listen(
      { host: options.listenOnAllIPs === true ? "0.0.0.0" : me.host, port: me.electionPort },
      accept
    )
    // Added after the listener, so it runs first: a closing listener waits for its connections.
    yield* Effect.addFinalizer(() =>
      Effect.sync(() => {
        closed = true
        for (const socket of open) socket.destroy()
        open.clear()
      })
    )

    const enqueue = (to: Sid, frame: Uint8Array) => {
      const peer = peers.get(to)
      if (peer === undefined) return
      if (peer.socket !== null) return write(peer, peer.socket, frame)
      peer.pending.push(frame)
      if (peer.pending.length > capacity) peer.pending.shift()
      run(connectOne(peer))
    }

    return {
      sid: options.sid,
      address,
      inbox,
      send: (to, notification) => Effect.sync(() => enqueue(to, encodeNotificationFrame(notification))),
      sendAll: (notification) =>
        Effect.sync(() => {
          const frame = encodeNotificationFrame(notification)
          for (const [sid, peer] of peers) if (peer.member.type === "participant") enqueue(sid, frame)
        }),
      connectAll: Effect.sync(() => {
        for (const peer of peers.values()) run(connectOne(peer))
      }),
      connected: Effect.sync(() => [...peers].filter(([, p]) => p.socket !== null).map(([sid]) => sid))
    }
  })
