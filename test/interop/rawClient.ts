/**
 * A bare client-port connection for tests that need byte-level control: misbehaving input, and
 * crash tests that pipeline writes as fast as the socket takes them and must know exactly which
 * replies arrived. Frames are built with the project's wire records (src/wire), whose bytes are
 * checked against captures of real ZooKeeper traffic by the wire golden tests.
 */
import * as net from "node:net"
import {
  type ConnectResponse,
  readConnectResponse,
  readReplyHeader,
  readResponse,
  type ReplyHeader,
  type Request,
  type Response,
  writeConnectRequest,
  writeRequest,
  writeRequestHeader
} from "../../src/wire/ClientRecords.js"
import { JuteReader, JuteWriter } from "../../src/wire/Jute.js"

/** A length-prefixed frame around `body`. */
export const frame = (body: Uint8Array): Buffer => {
  const out = Buffer.alloc(4 + body.length)
  out.writeInt32BE(body.length, 0)
  out.set(body, 4)
  return out
}

/** ConnectRequest for a new session (or to re-attach to `session`). */
export const connectFrame = (
  timeoutMs = 30_000,
  session?: { readonly sessionId: bigint; readonly passwd: Uint8Array }
): Buffer => {
  const w = new JuteWriter(64)
  writeConnectRequest(w, {
    protocolVersion: 0,
    lastZxidSeen: 0,
    timeOut: timeoutMs,
    sessionId: session?.sessionId ?? 0n,
    passwd: session?.passwd ?? new Uint8Array(16),
    readOnly: false
  })
  return frame(w.copy())
}

/** A request frame: RequestHeader{xid, type} + the request body. */
export const requestFrame = (xid: number, request: Request): Buffer => {
  const w = new JuteWriter(128)
  writeRequestHeader(w, { xid, type: request.type })
  writeRequest(w, request)
  return frame(w.copy())
}

/** A request frame with an arbitrary opcode and raw body bytes. */
export const rawRequestFrame = (xid: number, type: number, body: Uint8Array = new Uint8Array(0)): Buffer => {
  const w = new JuteWriter(64 + body.length)
  writeRequestHeader(w, { xid, type })
  const head = w.copy()
  return frame(Buffer.concat([head, body]))
}

/** A reply: its header and the bytes after it. */
export interface RawReply {
  readonly header: ReplyHeader
  readonly body: Buffer
}

/** One TCP connection to the client port that splits incoming bytes into frames. */
export interface RawConnection {
  readonly socket: net.Socket
  readonly write: (bytes: Uint8Array) => void
  /** The next whole frame (rejects if the connection closes first or after `timeoutMs`). */
  readonly nextFrame: (timeoutMs?: number) => Promise<Buffer>
  /** Resolves when the server closed the connection (or it failed). */
  readonly closed: Promise<void>
  readonly isClosed: () => boolean
  /** Every byte received so far (the first MiB). */
  readonly received: () => Buffer
  /** Called for every frame as it arrives (instead of queueing it for nextFrame). */
  onFrame: ((frame: Buffer) => void) | undefined
  readonly destroy: () => void
}

/** Opens a TCP connection (no handshake). */
export const openRaw = (port: number, host = "127.0.0.1"): Promise<RawConnection> =>
  new Promise((resolve, reject) => {
    const socket = net.connect({ host, port })
    socket.setNoDelay(true)
    let pending: Buffer = Buffer.alloc(0)
    // `received` is for small exchanges (bad-input probes); stop recording after 1 MiB.
    let all: Array<Buffer> = []
    let recorded = 0
    const frames: Array<Buffer> = []
    const waiters: Array<{ resolve: (b: Buffer) => void; reject: (e: Error) => void }> = []
    let isClosed = false
    let markClosed: () => void = () => {}
    const closed = new Promise<void>((r) => (markClosed = r))
    const conn: RawConnection = {
      socket,
      write: (bytes) => {
        if (!socket.destroyed) socket.write(bytes)
      },
      nextFrame: (timeoutMs = 5000) =>
        new Promise((res, rej) => {
          const f = frames.shift()
          if (f !== undefined) return res(f)
          if (isClosed) return rej(new Error("connection closed"))
          const timer = setTimeout(() => {
            const i = waiters.indexOf(waiter)
            if (i >= 0) waiters.splice(i, 1)
            rej(new Error(`no frame within ${timeoutMs}ms`))
          }, timeoutMs)
          const waiter = {
            resolve: (b: Buffer) => {
              clearTimeout(timer)
              res(b)
            },
            reject: (e: Error) => {
              clearTimeout(timer)
              rej(e)
            }
          }
          waiters.push(waiter)
        }),
      closed,
      isClosed: () => isClosed,
      received: () => Buffer.concat(all),
      onFrame: undefined,
      destroy: () => socket.destroy()
    }
    socket.on("data", (chunk: Buffer) => {
      if (recorded < 1 << 20) {
        all.push(chunk)
        recorded += chunk.length
      }
      pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk])
      while (pending.length >= 4) {
        const len = pending.readInt32BE(0)
        if (pending.length < 4 + len) break
        const f = pending.subarray(4, 4 + len)
        pending = pending.subarray(4 + len)
        if (conn.onFrame !== undefined) conn.onFrame(f)
        else {
          const w = waiters.shift()
          if (w !== undefined) w.resolve(f)
          else frames.push(f)
        }
      }
    })
    const close = () => {
      if (isClosed) return
      isClosed = true
      for (const w of waiters.splice(0)) w.reject(new Error("connection closed"))
      markClosed()
    }
    socket.on("close", close)
    socket.on("error", (e) => {
      close()
      reject(e)
    })
    socket.on("connect", () => resolve(conn))
  })

/** Opens a connection and establishes a session; returns the ConnectResponse too. */
export const openSession = async (
  port: number,
  options: { readonly timeoutMs?: number; readonly session?: { readonly sessionId: bigint; readonly passwd: Uint8Array } } = {}
): Promise<{ conn: RawConnection; session: ConnectResponse }> => {
  const conn = await openRaw(port)
  conn.write(connectFrame(options.timeoutMs ?? 30_000, options.session))
  const f = await conn.nextFrame()
  const session = readConnectResponse(new JuteReader(f))
  return { conn, session }
}

/** Splits a reply frame into header and body. */
export const parseReply = (f: Buffer): RawReply => {
  const r = new JuteReader(f)
  const header = readReplyHeader(r)
  return { header, body: f.subarray(r.pos) }
}

/** A reply to `PipelinedSession.call`, with the decoded body when it succeeded. */
export interface CallResult {
  readonly header: ReplyHeader
  readonly response: Response | undefined
}

/**
 * A session whose requests are written as fast as `call` is invoked (pipelined). ZooKeeper answers
 * a session's requests in order, so replies are matched FIFO (and their xids checked); watch events
 * (xid -1) and ping replies (xid -2) are skipped. When the connection closes, every pending call
 * rejects — those requests were never acknowledged.
 */
export interface PipelinedSession {
  readonly conn: RawConnection
  readonly sessionId: bigint
  readonly passwd: Uint8Array
  readonly timeOut: number
  readonly call: (request: Request) => Promise<CallResult>
  readonly inFlight: () => number
  readonly close: () => void
}

export const startPipelinedSession = async (port: number, timeoutMs = 30_000): Promise<PipelinedSession> => {
  const { conn, session } = await openSession(port, { timeoutMs })
  if (session.timeOut <= 0) throw new Error("server refused the session")
  const pending: Array<{ xid: number; op: number; resolve: (r: CallResult) => void; reject: (e: Error) => void }> = []
  let xid = 0
  let failure: Error | undefined
  conn.onFrame = (f) => {
    const r = new JuteReader(f)
    const header = readReplyHeader(r)
    if (header.xid === -1 || header.xid === -2) return
    const p = pending.shift()
    if (p === undefined || p.xid !== header.xid) {
      failure = new Error(`reply xid ${header.xid}, expected ${p?.xid ?? "none"}`)
      p?.reject(failure)
      conn.destroy()
      return
    }
    try {
      p.resolve({ header, response: header.err === 0 ? readResponse(r, p.op) : undefined })
    } catch (e) {
      p.reject(e instanceof Error ? e : new Error(String(e)))
    }
  }
  void conn.closed.then(() => {
    for (const p of pending.splice(0)) p.reject(failure ?? new Error("connection closed"))
  })
  return {
    conn,
    sessionId: session.sessionId,
    passwd: session.passwd,
    timeOut: session.timeOut,
    call: (request) =>
      new Promise((resolve, reject) => {
        if (conn.isClosed()) return reject(failure ?? new Error("connection closed"))
        xid = (xid + 1) | 0
        pending.push({ xid, op: request.type, resolve, reject })
        conn.write(requestFrame(xid, request))
      }),
    inFlight: () => pending.length,
    close: () => conn.destroy()
  }
}
