/**
 * The Transport over node:net — the only module in ezk that opens real sockets. Sockets have
 * Nagle off (`noDelay`): ZooKeeper's frames are small and latency-bound.
 */
import * as dns from "node:dns/promises"
import * as net from "node:net"
import { Effect } from "effect"
import { type ConnectOptions, type ListenOptions, type Socket, type SocketHandlers, TransportError, type TransportService } from "./Socket.js"

/** Maps a node error code to the transport's reasons. */
const reasonOf = (code: string | undefined): TransportError["reason"] => {
  switch (code) {
    case "ECONNREFUSED":
      return "Refused"
    case "ETIMEDOUT":
      return "Timeout"
    case "ECONNRESET":
    case "EPIPE":
    case "ECONNABORTED":
      return "Reset"
    case "EADDRINUSE":
      return "AddressInUse"
    case "EHOSTUNREACH":
    case "ENETUNREACH":
    case "EADDRNOTAVAIL":
      return "Unreachable"
    case "ENOTFOUND":
    case "EAI_AGAIN":
    case "EAI_NONAME":
    case "ENODATA":
      return "NotFound"
    default:
      return "Unknown"
  }
}

const toError = (e: NodeJS.ErrnoException, address: string): TransportError =>
  new TransportError({ reason: reasonOf(e.code), address, detail: e.code ?? e.message })

/** Adapts a connected net.Socket; `data` is attached only once a handler is set, so nothing is lost before. */
const wrap = (raw: net.Socket): Socket => {
  const remoteAddress = raw.remoteAddress ?? ""
  const remotePort = raw.remotePort ?? 0
  const address = `${remoteAddress}:${remotePort}`
  let handlers: SocketHandlers = {}
  let reading = false
  raw.on("drain", () => handlers.drain?.())
  raw.on("end", () => handlers.end?.())
  raw.on("error", (e: NodeJS.ErrnoException) => handlers.error?.(toError(e, address)))
  raw.on("close", (hadError) => handlers.close?.(hadError))
  return {
    remoteAddress,
    remotePort,
    localAddress: raw.localAddress ?? "",
    localPort: raw.localPort ?? 0,
    get writableLength() {
      return raw.writableLength
    },
    write: (data) => raw.write(data),
    end: () => void raw.end(),
    destroy: () => void raw.destroy(),
    pause: () => void raw.pause(),
    resume: () => void raw.resume(),
    setHandlers: (h) => {
      handlers = { ...handlers, ...h }
      if (!reading && handlers.data !== undefined) {
        reading = true
        raw.on("data", (chunk: Buffer) => handlers.data?.(chunk))
      }
    }
  }
}

const listen = (options: ListenOptions, onSocket: (socket: Socket) => void) =>
  Effect.acquireRelease(
    Effect.async<net.Server, TransportError>((resume) => {
      const address = `${options.host}:${options.port}`
      const server = net.createServer({ noDelay: true, allowHalfOpen: options.allowHalfOpen ?? false }, (raw) => {
        raw.setNoDelay(true)
        onSocket(wrap(raw))
      })
      const onListenError = (e: NodeJS.ErrnoException) => resume(Effect.fail(toError(e, address)))
      server.once("error", onListenError)
      server.listen({ port: options.port, host: options.host, ...(options.backlog !== undefined && options.backlog > 0 ? { backlog: options.backlog } : {}) }, () => {
        server.off("error", onListenError)
        server.on("error", (e: NodeJS.ErrnoException) => options.onError?.(toError(e, address)))
        resume(Effect.succeed(server))
      })
      return Effect.sync(() => void server.close())
    }),
    // Stop accepting, and do not wait for the accepted connections (close()'s callback would): they
    // belong to their handlers, which are usually finalized after this listener (a leader's learner
    // fibers were, so its graceful stop hung until every follower gave up on it after syncLimit).
    (server) => Effect.sync(() => void server.close())
  ).pipe(
    Effect.map((server) => {
      const a = server.address() as net.AddressInfo
      return { host: a.address, port: a.port }
    })
  )

const connect = (options: ConnectOptions): Effect.Effect<Socket, TransportError> => {
  const address = `${options.host}:${options.port}`
  const attempt = Effect.async<Socket, TransportError>((resume) => {
    const raw = net.createConnection({
      host: options.host,
      port: options.port,
      noDelay: true,
      ...(options.localHost === undefined ? {} : { localAddress: options.localHost })
    })
    const onError = (e: NodeJS.ErrnoException) => resume(Effect.fail(toError(e, address)))
    raw.once("error", onError)
    raw.once("connect", () => {
      raw.off("error", onError)
      resume(Effect.succeed(wrap(raw)))
    })
    return Effect.sync(() => void raw.destroy())
  })
  return options.timeoutMs === undefined
    ? attempt
    : Effect.timeoutFail(attempt, {
      duration: options.timeoutMs,
      onTimeout: () => new TransportError({ reason: "Timeout", address, detail: `not connected within ${options.timeoutMs}ms` })
    })
}

/** node:dns lookup (getaddrinfo: /etc/hosts, then DNS), every address of the name in the system's order. */
const resolve = (host: string): Effect.Effect<ReadonlyArray<string>, TransportError> =>
  net.isIP(host) !== 0
    ? Effect.succeed([host])
    : Effect.tryPromise({
      try: () => dns.lookup(host, { all: true }),
      catch: (e) => toError(e as NodeJS.ErrnoException, host)
    }).pipe(
      Effect.flatMap((found) =>
        found.length === 0
          ? Effect.fail(new TransportError({ reason: "NotFound", address: host }))
          : Effect.succeed(found.map((a) => a.address))
      )
    )

/** TCP over node:net (the Transport's default). */
export const transport: TransportService = { listen, connect, resolve }
