/**
 * What a transport deals in: the callback socket, its options and its one error type. Split from
 * `Transport.ts` so the implementations (`Tcp.ts`, `Memory.ts`) do not import the service tag.
 */
import { Data, type Effect, type Scope } from "effect"

/** Callbacks of one connection; each replaces the previous handler of the same name. */
export interface SocketHandlers {
  /** Bytes in order, exactly once (chunk boundaries are arbitrary, as on TCP). */
  readonly data?: (chunk: Uint8Array) => void
  /** The send buffer fell below the high-water mark after `write` returned false. */
  readonly drain?: () => void
  /** The peer half-closed its side: no more data will come. */
  readonly end?: () => void
  /** The connection is gone (both directions); `hadError` after a reset or a failure. */
  readonly close?: (hadError: boolean) => void
  /** Why the connection broke (precedes `close(true)`). */
  readonly error?: (error: TransportError) => void
}

/** One connection: bytes in order, exactly once, until it breaks. */
export interface Socket {
  readonly remoteAddress: string
  readonly remotePort: number
  readonly localAddress: string
  readonly localPort: number
  /** Bytes written but not yet taken by the network. */
  readonly writableLength: number
  /** Queues bytes; false once above the high-water mark: wait for `drain` (backpressure). */
  write(data: Uint8Array): boolean
  /** Half-closes our side after what was written is flushed. */
  end(): void
  /** Aborts the connection; pending bytes are dropped. */
  destroy(): void
  /** Stops delivering `data` (backpressure towards the peer) until `resume`. */
  pause(): void
  resume(): void
  setHandlers(handlers: SocketHandlers): void
}

/** Where to listen; port 0 picks a free port. */
export interface ListenOptions {
  readonly host: string
  readonly port: number
  /** Keep our side open after the peer half-closes (a 4lw client does `echo ruok | nc`). */
  readonly allowHalfOpen?: boolean
  readonly backlog?: number
  /** Errors of the listener after it is bound (e.g. a failed accept); connections are unaffected. */
  readonly onError?: (error: TransportError) => void
}

/** Where to connect. */
export interface ConnectOptions {
  readonly host: string
  readonly port: number
  /** Fails with reason "Timeout" when the connection is not established in time. */
  readonly timeoutMs?: number
  /** Source address to bind (the quorum port binds its own address, as ZooKeeper does). */
  readonly localHost?: string
}

/** Why a transport operation failed. */
export class TransportError extends Data.TaggedError("TransportError")<{
  readonly reason: "Refused" | "Timeout" | "Reset" | "AddressInUse" | "Unreachable" | "NotFound" | "Closed" | "Unknown"
  /** host:port the operation was about. */
  readonly address: string
  readonly detail?: string
}> {
  override get message(): string {
    const what = {
      Refused: "connection refused",
      Timeout: "connection timed out",
      Reset: "connection reset",
      AddressInUse: "address already in use",
      Unreachable: "host unreachable",
      NotFound: "host name not found",
      Closed: "connection closed",
      Unknown: "network error"
    }[this.reason]
    return `${what}: ${this.address}${this.detail === undefined ? "" : ` (${this.detail})`}`
  }
}

/** Opens listeners and connections. */
export interface TransportService {
  /** Accepts connections until the scope closes; returns the bound address. */
  readonly listen: (
    options: ListenOptions,
    onSocket: (socket: Socket) => void
  ) => Effect.Effect<{ readonly host: string; readonly port: number }, TransportError, Scope.Scope>
  /** Connects; the socket is established (writes go out at once) when this succeeds. */
  readonly connect: (options: ConnectOptions) => Effect.Effect<Socket, TransportError>
  /**
   * The network's name resolver: the addresses `host` stands for now (an address stands for
   * itself), at least one, or NotFound. Asked again on every use, so a name whose address changes
   * is followed (the client resolves each server on every connect, as ZooKeeper's
   * StaticHostProvider does).
   */
  readonly resolve: (host: string) => Effect.Effect<ReadonlyArray<string>, TransportError>
}
