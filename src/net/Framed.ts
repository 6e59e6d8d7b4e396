/**
 * Effect helpers over a callback Socket for protocol code that is not a hot path (the quorum and
 * election ports): pull "the next N bytes" or "the next length-prefixed frame" from one fiber, and
 * send with backpressure. ZooKeeper's election and client ports prefix each frame with a 4-byte
 * big-endian length; the quorum port streams jute records back to back (read them with `take`).
 */
import { Effect } from "effect"
import { type Socket, TransportError } from "./Socket.js"
import { concat } from "./internal/bytes.js"

/** A socket read and written by Effects; one reader fiber at a time. */
export interface Framed {
  readonly socket: Socket
  /** The next `n` bytes; fails with Closed/Reset once the stream ends before them. */
  readonly take: (n: number) => Effect.Effect<Uint8Array, TransportError>
  /** The next frame's payload; a length above `maxFrameBytes` (or negative) fails before allocating. */
  readonly frame: Effect.Effect<Uint8Array, TransportError>
  /** Writes bytes; completes at once, or once the socket drains when it was above its high-water mark. */
  readonly send: (bytes: Uint8Array) => Effect.Effect<void, TransportError>
  /** Writes the 4-byte big-endian length and then the payload, in one write. */
  readonly sendFrame: (payload: Uint8Array) => Effect.Effect<void, TransportError>
}

/** Options of `make`. */
export interface FramedOptions {
  /** Largest frame accepted (ZooKeeper: jute.maxbuffer, 0xfffff by default). */
  readonly maxFrameBytes: number
  /** Buffered unread bytes above which the socket is paused (default 1 MiB). */
  readonly readHighWaterBytes?: number
}

/** Takes over the socket's handlers; read with `take`/`frame`, write with `send`/`sendFrame`. */
export const make = (socket: Socket, options: FramedOptions): Framed => {
  const address = `${socket.remoteAddress}:${socket.remotePort}`
  const highWater = options.readHighWaterBytes ?? 1024 * 1024
  let chunks: Array<Uint8Array> = []
  let buffered = 0
  let paused = false
  let ended: TransportError | null = null
  let waiter: { readonly n: number; readonly resume: (e: Effect.Effect<Uint8Array, TransportError>) => void } | null = null
  let drainWaiters: Array<(e: Effect.Effect<void, TransportError>) => void> = []

  /** Removes the first n buffered bytes (n ≤ buffered). */
  const consume = (n: number): Uint8Array => {
    const all = chunks.length === 1 ? chunks[0]! : concat(chunks, buffered)
    const out = all.slice(0, n)
    chunks = n === all.length ? [] : [all.subarray(n)]
    buffered -= n
    return out
  }
  /** Pauses the socket while unread bytes pile up with no reader; never while a reader waits for more. */
  const regulate = () => {
    const shouldPause = buffered >= highWater && waiter === null
    if (shouldPause === paused) return
    paused = shouldPause
    if (paused) socket.pause()
    else socket.resume()
  }
  const wake = () => {
    if (waiter === null) return
    const w = waiter
    if (buffered >= w.n) {
      waiter = null
      w.resume(Effect.succeed(consume(w.n)))
    } else if (ended !== null) {
      waiter = null
      w.resume(Effect.fail(ended))
    }
  }
  const finish = (error: TransportError) => {
    if (ended === null) ended = error
    wake()
    for (const resume of drainWaiters.splice(0)) resume(Effect.fail(ended))
  }
  socket.setHandlers({
    data: (chunk) => {
      chunks.push(chunk)
      buffered += chunk.length
      wake()
      regulate()
    },
    end: () => finish(new TransportError({ reason: "Closed", address, detail: "peer closed its side" })),
    error: (e) => finish(e),
    close: () => finish(new TransportError({ reason: "Closed", address })),
    drain: () => {
      for (const resume of drainWaiters.splice(0)) resume(Effect.void)
    }
  })

  const take = (n: number): Effect.Effect<Uint8Array, TransportError> =>
    Effect.suspend(() =>
      waiter !== null
      ? Effect.dieMessage("Framed.take: one reader at a time")
      : Effect.async<Uint8Array, TransportError>((resume) => {
        waiter = { n, resume }
        wake()
        regulate()
        return Effect.sync(() => {
          waiter = null
          regulate()
        })
      })
    )

  const frame = Effect.flatMap(take(4), (prefix) => {
    const length = new DataView(prefix.buffer, prefix.byteOffset, 4).getInt32(0)
    if (length < 0 || length > options.maxFrameBytes) {
      socket.destroy()
      return Effect.fail(new TransportError({ reason: "Reset", address, detail: `frame length ${length} outside 0..${options.maxFrameBytes}` }))
    }
    return take(length)
  })

  const send = (bytes: Uint8Array): Effect.Effect<void, TransportError> =>
    Effect.suspend(() => {
      if (ended !== null) return Effect.fail(ended)
      if (socket.write(bytes)) return Effect.void
      return Effect.async<void, TransportError>((resume) => void drainWaiters.push(resume))
    })

  const sendFrame = (payload: Uint8Array) => {
    const out = new Uint8Array(4 + payload.length)
    new DataView(out.buffer).setInt32(0, payload.length)
    out.set(payload, 4)
    return send(out)
  }

  return { socket, take, frame, send, sendFrame }
}
