/**
 * The driver fiber of a client session: it owns the link lifecycle (connect, handshake, prime,
 * ping) and reconnects to the next server when a link dies (ClientCnxn.SendThread in the Java
 * client). The protocol state it drives lives in `Connection` (connection.ts).
 */
import { Deferred, Effect, Random, Schedule, type Scope, SubscriptionRef } from "effect"
import { Transport, type TransportError } from "../../net/Transport.js"
import type { Server } from "../ConnectString.js"
import { ConnectionLoss, type ZkError } from "../ZooKeeperError.js"
import type { Connection, SessionState } from "./connection.js"
import { lists } from "./serverList.js"


type Outcome =
  | { readonly _tag: "Lost"; readonly reason: string }
  | { readonly _tag: "Failed"; readonly reason: string }
  | { readonly _tag: "Expired" }

/** Signals the driver gives its owner. */
export interface DriverHooks {
  readonly state: SubscriptionRef.SubscriptionRef<SessionState>
  /** Completed by the first handshake (or the first terminal outcome). */
  readonly first: Deferred.Deferred<void, ZkError>
}

const reasonOf = (e: ConnectionLoss | TransportError): string => (e._tag === "ConnectionLoss" ? e.reason : e.message)

/**
 * Resolves `server`'s name now (so a name that moved since the last attempt is followed) and
 * connects to the first of its addresses that accepts. A name that does not resolve is logged and
 * the attempt fails; the driver goes on with the other servers.
 */
const reach = (server: Server) =>
  Effect.gen(function*() {
    const transport = yield* Transport
    const addresses = yield* transport.resolve(server.host).pipe(
      Effect.tapError((e) => Effect.logWarning(`ezk client: cannot resolve ${server.host} (${e.message}); trying the other servers`))
    )
    return yield* Effect.firstSuccessOf(
      addresses.map((address) => Effect.map(transport.connect({ host: address, port: server.port }), (socket) => ({ socket, address })))
    )
  })

/** One connection attempt to `server`, held open until the link dies. */
const attempt = (conn: Connection, server: Server, hooks: DriverHooks): Effect.Effect<Outcome, never, Scope.Scope> =>
  Effect.gen(function*() {
    // Resolve, connect and handshake share the attempt's deadline; once connected, the link is released with the scope.
    const timeoutMs = conn.attemptTimeoutMs
    const opened = yield* Effect.uninterruptibleMask((restore) =>
      restore(reach(server)).pipe(
        Effect.flatMap(({ address, socket }) =>
          Effect.acquireRelease(
            Effect.sync(() => conn.open(socket, server, address)),
            (link) => Effect.sync(() => conn.drop(link, "connection attempt ended"))
          )
        )
      )
    ).pipe(
      Effect.flatMap((link) => Effect.map(Deferred.await(link.handshake), (response) => ({ link, response }))),
      Effect.timeoutFail({
        duration: timeoutMs,
        onTimeout: () => new ConnectionLoss({ reason: `no handshake from ${server.host}:${server.port} within ${timeoutMs}ms` })
      }),
      Effect.either
    )
    if (opened._tag === "Left") return { _tag: "Failed", reason: reasonOf(opened.left) } as const
    const { link, response } = opened.right
    // timeOut 0 is how the server says the session is unknown or expired (client.md §3.3).
    if (response.timeOut <= 0) return { _tag: "Expired" } as const
    if (!conn.established(link, response)) return { _tag: "Lost", reason: link.reason } as const
    yield* SubscriptionRef.set(hooks.state, response.readOnly === true ? "ConnectedReadOnly" : "Connected")
    yield* Deferred.succeed(hooks.first, undefined)
    // The server list changed while this link was being opened: move on (updateServerList's rule).
    if (!lists(conn.servers.servers, link)) conn.drop(link, "server removed from the server list")
    const tickMs = Math.max(20, Math.min(1000, Math.floor(conn.negotiatedTimeoutMs / 10)))
    yield* Effect.sync(() => conn.tick(link)).pipe(Effect.repeat(Schedule.spaced(tickMs)), Effect.forkScoped)
    const reason = yield* Deferred.await(link.closed)
    return { _tag: "Lost", reason } as const
  })

/**
 * Keeps the session connected: tries the servers round robin from a random start (resolving each
 * name on every attempt), reconnects right away after losing an established link, and pauses
 * `reconnectDelayMs` after as many failures in a row as there are servers (unresolvable ones
 * included), so a client whose names all fail keeps retrying, slowly. Ends when the session
 * expires, auth fails, or the client is closing.
 */
export const runDriver = (conn: Connection, hooks: DriverHooks): Effect.Effect<void> =>
  Effect.gen(function*() {
    conn.servers.startAt(yield* Random.nextIntBetween(0, conn.servers.size))
    let failures = 0
    for (;;) {
      const server = conn.servers.next()
      const outcome = yield* Effect.scoped(attempt(conn, server, hooks))
      if (conn.terminal !== null && !conn.closing) {
        // Auth failed on this link (terminate already failed everything).
        yield* SubscriptionRef.set(hooks.state, "AuthFailed")
        yield* Deferred.fail(hooks.first, conn.terminal)
        return
      }
      if (outcome._tag === "Expired") {
        const error = conn.sessionExpired("Expired")
        conn.terminate(error)
        yield* SubscriptionRef.set(hooks.state, "Expired")
        yield* Deferred.fail(hooks.first, error)
        return
      }
      if (conn.closing) return
      if (outcome._tag === "Lost") {
        failures = 0
        yield* SubscriptionRef.set(hooks.state, "Disconnected")
        continue
      }
      conn.failQueued(new ConnectionLoss({ reason: outcome.reason }))
      failures++
      if (failures >= conn.servers.size) {
        failures = 0
        // Jitter so that many clients do not retry in lockstep.
        const jitter = yield* Random.nextRange(0.5, 1)
        yield* Effect.sleep(Math.round(conn.config.reconnectDelayMs * jitter))
      }
    }
  })
