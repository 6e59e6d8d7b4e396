/**
 * The client port of a server, whatever its role: the listener (through the Transport), the gate
 * that routes each connection to the core serving right now (a standalone server has one for its
 * life; a quorum peer gets a fresh one each time it starts serving in a new role), four-letter
 * words, and the tick timers that act on the serving core (session expiry, container reaping).
 */
import { Duration, Effect, Runtime, Schedule, type Scope } from "effect"
import { Disk } from "../disk/Disk.js"
import { type Socket, Transport } from "../net/Transport.js"
import type * as Storage from "../storage/Storage.js"
import { EZK_VERSION } from "../Version.js"
import type { ZkConfig } from "./Config.js"
import { type Connection, PAUSE_OUTPUT } from "./Connection.js"
import * as FourLetter from "./fourLetter/Commands.js"
import * as Format from "./fourLetter/Format.js"
import type { CoreLogger } from "./CoreConfig.js"
import type { ServerCore } from "./ServerCore.js"
import { ServerError } from "./ServerError.js"
import { makeView } from "./View.js"

export interface ClientPort {
  readonly host: string
  readonly port: number
  /** The core connections go to, or null while not serving. */
  readonly current: () => ServerCore | null
  /**
   * Serves through `core` from now on (connections that waited get it); with null, new connections
   * are closed until the next core (clients try another server, as with ZooKeeper when it is not serving).
   */
  readonly attach: (core: ServerCore | null) => void
}

/**
 * Binds the client port first (a port conflict must not touch the data dir). Connections that
 * arrive before the first `attach` wait for it.
 */
export const open = (config: ZkConfig, logger: CoreLogger): Effect.Effect<ClientPort, ServerError, Scope.Scope> =>
  Effect.gen(function* () {
    let core: ServerCore | null = null
    let started = false
    const waiting: Array<Socket> = []
    const { host, port } = yield* listen(config, logger, (socket) => {
      if (core !== null) onSocket(core, socket)
      else if (!started) waiting.push(socket)
      else notServing(config, socket)
    })
    return {
      host,
      port,
      current: () => core,
      attach: (next) => {
        core = next
        started = true
        if (next === null) return
        for (const socket of waiting.splice(0)) onSocket(next, socket)
      }
    }
  })

/** Answers four-letter words on `core`'s connections from a view of it. */
export const installFourLetterWords = (
  core: ServerCore,
  config: ZkConfig,
  store: Pick<Storage.Store, "snapDir" | "logDir">,
  clientPort: number
): Effect.Effect<void, never, Disk> =>
  Effect.gen(function* () {
    const disk = yield* Disk
    const runtime = yield* Effect.runtime<never>()
    const dirSize = (dir: string) =>
      disk.list(dir).pipe(
        Effect.flatMap((names) => Effect.forEach(names, (n) => disk.size(`${dir}/${n}`).pipe(Effect.orElseSucceed(() => 0)))),
        Effect.map((sizes) => sizes.reduce((a, b) => a + b, 0)),
        Effect.orElseSucceed(() => 0)
      )
    const view = makeView(core, config, {
      dataDir: store.snapDir,
      dataLogDir: store.logDir,
      dirSizes: Effect.all({ dataDirSize: dirSize(store.snapDir), dataLogSize: dirSize(store.logDir) })
    }, EZK_VERSION, clientPort)
    const runWord = Runtime.runFork(runtime)
    core.fourLetter = (conn: Connection, word: string) => {
      if (!FourLetter.isFourLetterWord(word)) return core.close(conn)
      const mask = word === "stmk" ? conn.splitter.rest() : undefined
      runWord(
        FourLetter.execute(view, config.fourLetterWordWhitelist, word, mask && mask.length >= 8 ? new DataView(mask.buffer, mask.byteOffset).getBigInt64(0) : undefined).pipe(
          Effect.flatMap((text) =>
            Effect.sync(() => {
              conn.socket.write(new TextEncoder().encode(text))
              conn.socket.end()
            })
          ),
          Effect.ensuring(Effect.sync(() => core.onClosed(conn)))
        )
      )
    }
  })

/** Session expiry in tick buckets and container/TTL reaping, on whichever core is serving. */
export const startTimers = (config: ZkConfig, current: () => ServerCore | null, reapIntervalMs: number): Effect.Effect<void, never, Scope.Scope> =>
  Effect.gen(function* () {
    yield* Effect.sync(() => current()?.expireSessions()).pipe(Effect.repeat(Schedule.spaced(Duration.millis(config.tickTime))), Effect.forkScoped)
    // The first check one interval after start, then one per interval (a delay inside the repeat would double it).
    yield* Effect.sync(() => current()?.reapContainers()).pipe(
      Effect.repeat(Schedule.spaced(Duration.millis(reapIntervalMs))),
      Effect.delay(Duration.millis(reapIntervalMs)),
      Effect.forkScoped
    )
  })

/** Binds the client port through the Transport; the listener is closed when the scope closes. */
const listen = (
  config: ZkConfig,
  logger: CoreLogger,
  onConnection: (socket: Socket) => void
): Effect.Effect<{ host: string; port: number }, ServerError, Scope.Scope> =>
  Effect.flatMap(Transport, (transport) => {
    const host = config.clientPortAddress ?? "0.0.0.0"
    return transport.listen(
      {
        host,
        port: config.clientPort,
        // A client may send a four-letter word and shut down its side (`echo ruok | nc`).
        allowHalfOpen: true,
        backlog: config.clientPortListenBacklog,
        onError: (e) => logger.error(`client port error: ${e.message}`)
      },
      onConnection
    ).pipe(
      Effect.mapError((e) =>
        new ServerError({
          reason: e.reason === "AddressInUse" ? "PortInUse" : "Listen",
          message: e.reason === "AddressInUse" ? `client port ${host}:${config.clientPort} is already in use` : `cannot listen on ${host}:${config.clientPort}: ${e.message}`
        })
      )
    )
  })

/**
 * A connection while no core serves (a quorum peer electing or syncing): a four-letter word gets
 * ZooKeeper's answer for that state (`imok`, `null` for isro, else "not currently serving"); anything
 * else is closed, so clients try another server.
 */
const notServing = (config: ZkConfig, socket: Socket): void => {
  let head = new Uint8Array(0)
  let answered = false
  socket.setHandlers({
    data: (chunk) => {
      if (answered) return
      const next = new Uint8Array(head.length + chunk.length)
      next.set(head)
      next.set(chunk, head.length)
      head = next
      if (head.length < 4) return
      const word = new TextDecoder().decode(head.subarray(0, 4))
      answered = true
      if (!FourLetter.isFourLetterWord(word) || !config.fourLetterWordWhitelist.has(word)) return socket.destroy()
      socket.write(new TextEncoder().encode(word === "ruok" ? Format.ruok() : word === "isro" ? Format.isro(false, "standalone") : Format.NOT_SERVING))
      socket.end()
    },
    end: () => socket.end()
  })
}

const onSocket = (core: ServerCore, socket: Socket): void => {
  const conn = core.accept(socket)
  if (conn === null) return
  socket.setHandlers({
    data: (chunk) => core.onData(conn, chunk),
    drain: () => conn.resume(PAUSE_OUTPUT),
    end: () => core.onEnd(conn),
    error: (e) => core.logger.debug(`connection /${conn.remoteAddress}:${conn.remotePort}: ${e.message}`),
    close: () => core.onClosed(conn)
  })
}
