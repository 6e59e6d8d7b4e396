/**
 * The Transport port: every socket in ezk (client port, quorum and election ports, the Effect
 * client, the 4lw client) is opened through it, so a whole ensemble and its clients can run in
 * one process on an in-memory network driven by TestClock (`Memory.ts`), or over TCP (`Tcp.ts`).
 *
 * The socket is a small callback interface on purpose: the hot paths (server connections, the
 * client's protocol engine) decode frames synchronously in the `data` callback. Cold protocol code
 * (quorum, election) uses the Effect helpers in `Framed.ts` on top of it.
 */
import { Context } from "effect"
import type { TransportService } from "./Socket.js"
import * as Tcp from "./Tcp.js"

export * from "./Socket.js"

/**
 * The transport in use. A Reference whose default is TCP, so public layers (`Server.layer`,
 * `ZooKeeper.layer`) need nothing new; tests and the simulator override it with
 * `Effect.provideService(Transport, network.transportFor("host"))` or `Layer.succeed`.
 */
export class Transport extends Context.Reference<Transport>()("ezk/net/Transport", {
  defaultValue: (): TransportService => Tcp.transport
}) {}
