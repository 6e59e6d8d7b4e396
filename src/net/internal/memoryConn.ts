/**
 * The connections of the in-memory network (Memory.ts): each side's queue of segments, delivery in
 * order until blocked or paused, seeded split/coalesce, FIN, reset, and the Socket a side presents.
 * The network decides when and whether bytes may flow (`blocked`, `delayOf`, `later`); this module
 * keeps TCP's promise within those rules: in order, exactly once, until the connection breaks.
 */
import type { Socket, SocketHandlers } from "../Socket.js"
import { TransportError } from "../Socket.js"
import { concat } from "./bytes.js"

export interface Segment {
  /** null: end of stream (FIN). */
  readonly data: Uint8Array | null
  readonly due: number
}

export interface Endpoint {
  readonly host: string
  readonly port: number
  readonly allowHalfOpen: boolean
  readonly conn: Conn
  peer: Endpoint
  handlers: SocketHandlers
  /** Bytes and FIN on their way to the peer, due times non-decreasing. */
  queue: Array<Segment>
  queued: number
  lastDue: number
  paused: boolean
  /** Nothing from this side is delivered before this time (an abandoned side's last bytes). */
  heldUntil: number
  needDrain: boolean
  writeEnded: boolean
  finDelivered: boolean
  readEnded: boolean
  closed: boolean
}

export interface Conn {
  broken: boolean
  a: Endpoint
  b: Endpoint
}

/** What the connections need from the network around them. */
export interface LinkEnv {
  readonly now: () => number
  readonly random: () => number
  /** Runs f after delayMs, never in the caller's stack. */
  readonly later: (delayMs: number, f: () => void) => void
  /** Whether bytes from one host to another are held (partition or stall). */
  readonly blocked: (from: string, to: string) => boolean
  /** Whether a host's process is stopped (SIGSTOP): nothing is delivered to it until it runs again. */
  readonly frozen: (host: string) => boolean
  /** One-way delay of the next segment between two hosts. */
  readonly delayOf: (from: string, to: string) => number
  readonly chunking: boolean
  readonly highWater: number
  /** Deliveries are recorded here when set. */
  readonly trace: Array<string> | null
  readonly startedAt: number
}

/** The open connections and the operations on them. */
export const makeLinks = (env: LinkEnv) => {
  const { now, random, later, blocked, frozen, delayOf, chunking, highWater, trace, startedAt } = env
  const conns = new Set<Conn>()

  const maybeClose = (e: Endpoint): void => {
    if (e.closed || !e.readEnded || !e.finDelivered) return
    e.closed = true
    e.handlers.close?.(false)
    if (e.peer.closed) conns.delete(e.conn)
  }

  /** Delivers what is due from `from` to its peer, in order, until blocked, paused or not yet due. */
  const deliver = (from: Endpoint): void => {
    const to = from.peer
    while (!from.conn.broken && from.queue.length > 0 && from.queue[0]!.due <= now() && from.heldUntil <= now() && !blocked(from.host, to.host)) {
      // Like a node socket, nothing is read until a data handler is set (or while paused).
      // A stopped process reads nothing: its kernel buffers what arrives (FIN included).
      if ((to.paused || to.handlers.data === undefined || frozen(to.host)) && !to.closed) break
      const head = from.queue[0]!
      if (head.data === null) {
        from.queue.shift()
        from.finDelivered = true
        if (trace !== null) trace.push(`${now() - startedAt} ${from.host}:${from.port}>${to.host}:${to.port} FIN`)
        if (!to.closed && !to.readEnded) {
          to.readEnded = true
          to.handlers.end?.()
          if (!to.allowHalfOpen) endSide(to)
          maybeClose(to)
        }
        maybeClose(from)
        continue
      }
      // Coalesce a seeded number of due segments into one chunk, as a receive buffer does.
      let n = 1
      while (chunking && n < from.queue.length && from.queue[n]!.data !== null && from.queue[n]!.due <= now() && random() < 0.5) n++
      const parts = from.queue.splice(0, n).map((s) => s.data!)
      const chunk = parts.length === 1 ? parts[0]! : concat(parts)
      from.queued -= chunk.length
      if (trace !== null) trace.push(`${now() - startedAt} ${from.host}:${from.port}>${to.host}:${to.port} ${chunk.length}`)
      if (!to.closed) to.handlers.data?.(chunk)
    }
    if (from.needDrain && from.queued === 0 && !from.closed) {
      from.needDrain = false
      from.handlers.drain?.()
    }
  }

  const enqueue = (e: Endpoint, data: Uint8Array | null): void => {
    const due = Math.max(e.lastDue, now() + delayOf(e.host, e.peer.host))
    e.lastDue = due
    e.queue.push({ data, due })
    if (data !== null) e.queued += data.length
    later(due - now(), () => deliver(e))
  }

  const endSide = (e: Endpoint): void => {
    if (e.writeEnded || e.conn.broken) return
    e.writeEnded = true
    enqueue(e, null)
  }

  const write = (e: Endpoint, data: Uint8Array): boolean => {
    if (e.writeEnded || e.closed || e.conn.broken) return true // dropped, as after a reset
    let off = 0
    while (off < data.length) {
      const rest = data.length - off
      const size = !chunking || random() < 0.5 ? rest : 1 + Math.floor(random() * rest)
      enqueue(e, data.slice(off, off + size)) // a copy: callers may reuse their buffer
      off += size
    }
    if (e.queued < highWater) return true
    e.needDrain = true
    return false
  }

  const breakConn = (c: Conn, address: string): void => {
    if (c.broken) return
    c.broken = true
    conns.delete(c)
    for (const e of [c.a, c.b]) {
      e.queue = []
      e.queued = 0
      if (e.closed) continue
      e.closed = true
      later(0, () => {
        e.handlers.error?.(new TransportError({ reason: "Reset", address }))
        e.handlers.close?.(true)
      })
    }
  }

  const socketOf = (e: Endpoint): Socket => ({
    remoteAddress: e.peer.host,
    remotePort: e.peer.port,
    localAddress: e.host,
    localPort: e.port,
    get writableLength() {
      return e.queued
    },
    write: (data) => write(e, data),
    end: () => endSide(e),
    destroy: () => {
      if (e.closed) return
      endSide(e)
      e.closed = true
      later(0, () => {
        e.handlers.close?.(false)
        if (e.peer.closed) conns.delete(e.conn)
      })
    },
    pause: () => void (e.paused = true),
    resume: () => {
      e.paused = false
      later(0, () => deliver(e.peer))
    },
    setHandlers: (h) => {
      const reading = e.handlers.data !== undefined
      e.handlers = { ...e.handlers, ...h }
      if (!reading && e.handlers.data !== undefined) later(0, () => deliver(e.peer))
    }
  })

  const endpoint = (host: string, port: number, allowHalfOpen: boolean, conn: Conn): Endpoint => ({
    host, port, allowHalfOpen, conn, peer: undefined as unknown as Endpoint, handlers: {}, queue: [], queued: 0, lastDue: 0,
    paused: false, heldUntil: 0, needDrain: false, writeEnded: false, finDelivered: false, readEnded: false, closed: false
  })

  /** A new connection between two endpoints; the caller hands out the sockets of `a` and `b`. */
  const open = (from: { host: string; port: number }, to: { host: string; port: number; allowHalfOpen: boolean }): Conn => {
    const conn = { broken: false } as Conn
    conn.a = endpoint(from.host, from.port, false, conn)
    conn.b = endpoint(to.host, to.port, to.allowHalfOpen, conn)
    conn.a.peer = conn.b
    conn.b.peer = conn.a
    conns.add(conn)
    return conn
  }

  return { conns, deliver, breakConn, socketOf, open }
}
