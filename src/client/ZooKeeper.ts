/**
 * The Effect ZooKeeper client: a `ZooKeeper` service built by `layer(options)` from a connect
 * string. Every operation is an Effect failing with tagged errors (`KeeperError` for server error
 * codes, `ConnectionLoss`, `SessionExpired`); persistent watches are Streams; one-shot watches
 * are Effects that complete with the event. The client reconnects to the next listed server and
 * keeps the session (re-sending auth and watches); an expired session fails everything with
 * `SessionExpired`.
 *
 * ```ts
 * const program = Effect.gen(function*() {
 *   const zk = yield* ZooKeeper.ZooKeeper
 *   yield* zk.create("/app", "hello")
 *   const { data, watch } = yield* zk.getDataWatch("/app")
 *   yield* zk.setData("/app", "bye")
 *   const event = yield* watch // { type: "NodeDataChanged", path: "/app" }
 * }).pipe(Effect.provide(ZooKeeper.layer({ connectString: "127.0.0.1:2181" })))
 * ```
 *
 * Paths are not validated client-side: the server's answer (BadArguments) is what a test of a
 * server wants to see. Mirrors the behaviour of the Java client (ClientCnxn, ZKWatchManager).
 */
import { Context, Deferred, Effect, type Either, Exit, Fiber, Layer, type Option, type Scope, type Stream, SubscriptionRef } from "effect"
import type { ACL, Stat } from "../wire/ClientRecords.js"
import { Op } from "../wire/Codes.js"
import type * as Batch from "./Batch.js"
import * as ConnectString from "./ConnectString.js"
import { Connection, type SessionState, type WatchedEvent, type WatchError } from "./internal/connection.js"
import { type DriverHooks, runDriver } from "./internal/driver.js"
import { makeClient } from "./internal/operations.js"
import type { CreateOptions, Data, ReadOp, ReadResult, WriteOp, WriteResult } from "./MultiOp.js"
import { ConnectionLoss, KeeperError, type MultiError, type WatchOverflow, type ZkError } from "./ZooKeeperError.js"

export type { CreateOptions, Data, SessionState, WatchedEvent, WatchError }
export type { EventTypeName } from "./internal/connection.js"

/** Options of `layer` / `make`. Only `connectString` is required. */
export interface Options {
  /** `host:port,host:port[/chroot]`. */
  readonly connectString: string
  /** Requested session timeout; the server clamps it to [2, 20]·tickTime. Default 10000. */
  readonly sessionTimeoutMs?: number
  /** Accept a read-only server (ConnectRequest.readOnly). Default false. */
  readonly readOnly?: boolean
  /** Auth packets sent right after the session is established (and replayed on reconnect). */
  readonly authInfo?: ReadonlyArray<{ readonly scheme: string; readonly auth: Uint8Array | string }>
  /** How long `make` waits for the first session before failing with ConnectionLoss. Default sessionTimeoutMs. */
  readonly connectTimeoutMs?: number
  /**
   * Timeout of one connection attempt (TCP + handshake). Default: the session timeout (negotiated
   * once known) / the number of servers listed now (Java's connectTimeout), at least 1000.
   */
  readonly attemptTimeoutMs?: number
  /** Pause after every server failed in a row (jittered ×0.5–1). Default 1000. */
  readonly reconnectDelayMs?: number
  /** Re-attach to an existing session instead of creating one. */
  readonly session?: { readonly sessionId: bigint; readonly passwd: Uint8Array }
  /** Requests in flight at once; further requests wait for a slot. Default 10000. */
  readonly maxPendingRequests?: number
  /** Largest frame accepted from the server; a larger length prefix drops the link. Default 4 MiB. */
  readonly maxFrameBytes?: number
  /** Events a persistent-watch stream may buffer before it fails with WatchOverflow. Default 4096. */
  readonly watchBufferSize?: number
  /** How long closing the scope waits for the closeSession reply. Default 3000. */
  readonly closeTimeoutMs?: number
}

/** The identity of a session: enough for another client to re-attach to it (`Options.session`). */
export interface SessionInfo {
  readonly sessionId: bigint
  readonly passwd: Uint8Array
  /** Timeout negotiated with the server. */
  readonly timeoutMs: number
}

/**
 * A one-shot watch, returned next to the result of the read that set it (`getDataWatch`,
 * `existsWatch`, `getChildrenWatch`, `getChildren2Watch`). It is registered when that read's
 * reply arrives, so no event after the read can be missed, and it completes with the first
 * event on its path (ZooKeeper's one-shot semantics). Awaiting it again yields the same event;
 * never awaiting it is fine. It survives reconnects (re-sent with setWatches) and fails with
 * SessionExpired when the session expires or the client closes (KeeperError AuthFailed after a
 * failed auth).
 */
export type Watch = Effect.Effect<WatchedEvent, WatchError>

/** Kind of watch for `checkWatches` / `removeWatches` (client.md §8.5). */
export type WatcherKind = "Children" | "Data" | "Any"

/** Mode of a persistent watch (`addWatch`, client.md §8.3). */
export type AddWatchModeName = "Persistent" | "PersistentRecursive"

/** A reply exactly as the server sent it, for `request`. */
export interface RawReply {
  readonly xid: number
  readonly zxid: number
  readonly err: number
  /** The bytes after the ReplyHeader. */
  readonly body: Uint8Array
}

/** The client API. Each method is one request unless stated otherwise. */
export interface Client {
  /** Creates a node and returns its path (with the sequence suffix for sequential modes). */
  readonly create: (path: string, data?: Data, options?: CreateOptions) => Effect.Effect<string, ZkError>
  /** Like `create` but returns the Stat too (create2; createContainer / createTTL when the mode needs them). */
  readonly createWithStat: (
    path: string,
    data?: Data,
    options?: CreateOptions
  ) => Effect.Effect<{ readonly path: string; readonly stat: Stat }, ZkError>
  /** Deletes a node; version -1 (default) matches any version. */
  readonly delete: (path: string, version?: number) => Effect.Effect<void, ZkError>
  /** The node's Stat, or none if it does not exist. */
  readonly exists: (path: string) => Effect.Effect<Option.Option<Stat>, ZkError>
  /** `exists` that also leaves a watch: NodeCreated if missing, else NodeDataChanged / NodeDeleted. */
  readonly existsWatch: (path: string) => Effect.Effect<{ readonly stat: Option.Option<Stat>; readonly watch: Watch }, ZkError>
  /** The node's data (null if it was stored as null) and Stat. */
  readonly getData: (path: string) => Effect.Effect<{ readonly data: Uint8Array | null; readonly stat: Stat }, ZkError>
  /** `getData` that also leaves a data watch (NodeDataChanged / NodeDeleted). */
  readonly getDataWatch: (
    path: string
  ) => Effect.Effect<{ readonly data: Uint8Array | null; readonly stat: Stat; readonly watch: Watch }, ZkError>
  /** Replaces the node's data; version -1 (default) matches any version. */
  readonly setData: (path: string, data: Data, version?: number) => Effect.Effect<Stat, ZkError>
  /** The names of the node's children (unordered, as the server sends them). */
  readonly getChildren: (path: string) => Effect.Effect<ReadonlyArray<string>, ZkError>
  /** `getChildren` that also leaves a child watch (NodeChildrenChanged / NodeDeleted). */
  readonly getChildrenWatch: (
    path: string
  ) => Effect.Effect<{ readonly children: ReadonlyArray<string>; readonly watch: Watch }, ZkError>
  /** Children and the node's Stat (getChildren2). */
  readonly getChildren2: (
    path: string
  ) => Effect.Effect<{ readonly children: ReadonlyArray<string>; readonly stat: Stat }, ZkError>
  /** `getChildren2` that also leaves a child watch. */
  readonly getChildren2Watch: (
    path: string
  ) => Effect.Effect<{ readonly children: ReadonlyArray<string>; readonly stat: Stat; readonly watch: Watch }, ZkError>
  /** Number of all descendants of the node. */
  readonly getAllChildrenNumber: (path: string) => Effect.Effect<number, ZkError>
  /** This session's ephemerals whose path starts with `prefix` (plain string prefix; default all). */
  readonly getEphemerals: (prefix?: string) => Effect.Effect<ReadonlyArray<string>, ZkError>
  /**
   * Applies the ops atomically. If any op fails nothing is applied and the Effect fails with
   * `MultiError` carrying the per-op codes.
   */
  readonly multi: (ops: ReadonlyArray<WriteOp>) => Effect.Effect<ReadonlyArray<WriteResult>, ZkError | MultiError>
  /** Runs reads in one round trip; each op succeeds or fails on its own (not atomic). */
  readonly multiRead: (
    ops: ReadonlyArray<ReadOp>
  ) => Effect.Effect<ReadonlyArray<Either.Either<ReadResult, KeeperError>>, ZkError>
  /**
   * Pipelines independent ops (Batch.getData, Batch.setData, …) and resumes once, when all have
   * settled: one Either per op, in order, typed by its op. Never fails as a whole and is not
   * atomic; interruption abandons the ops still pending. See Batch.ts.
   */
  readonly batch: <const Ops extends ReadonlyArray<Batch.Op<unknown>>>(ops: Ops) => Effect.Effect<Batch.Results<Ops>>
  /** Waits until the server this client talks to has caught up with the leader on `path`. */
  readonly sync: (path: string) => Effect.Effect<void, ZkError>
  /** The node's ACL and Stat. */
  readonly getACL: (path: string) => Effect.Effect<{ readonly acl: ReadonlyArray<ACL>; readonly stat: Stat }, ZkError>
  /** Replaces the node's ACL; version (aversion) -1 (default) matches any. */
  readonly setACL: (path: string, acl: ReadonlyArray<ACL>, version?: number) => Effect.Effect<Stat, ZkError>
  /**
   * Authenticates this connection (AuthPacket, e.g. scheme "digest", auth "user:password").
   * Recorded once it succeeds and replayed after every reconnect. A failure is terminal, as in
   * ZooKeeper: the server closes the connection and the session state becomes AuthFailed.
   */
  readonly addAuth: (scheme: string, auth: Uint8Array | string) => Effect.Effect<void, ZkError>
  /** The auth ids of this connection as the server sees them. */
  readonly whoAmI: Effect.Effect<ReadonlyArray<{ readonly scheme: string; readonly user: string }>, ZkError>
  /** The ensemble configuration (getData of /zookeeper/config, never chrooted). */
  readonly getConfig: Effect.Effect<{ readonly data: Uint8Array | null; readonly stat: Stat }, ZkError>
  /**
   * Adds a persistent (or persistent recursive) watch and returns its events as a Stream. The
   * watch lives as long as the Scope: closing it removes the watch (server-side too, when no
   * other local watch uses the path). Events are buffered from the moment this Effect succeeds,
   * so writes made afterwards are never missed. Survives reconnects; fails with SessionExpired
   * when the session expires and ends when the client closes.
   *
   * A 3.8 server keeps one watch mode per path and connection, and the last registration wins
   * (ZOOKEEPER-4466, fixed in 3.9): a one-shot child watch on the same path as a recursive
   * watch never fires, and a later one-shot watch turns the persistent one into a one-shot.
   * Keep one-shot and persistent watches on different paths.
   */
  readonly addWatch: (
    path: string,
    mode?: AddWatchModeName
  ) => Effect.Effect<Stream.Stream<WatchedEvent, WatchError | WatchOverflow>, ZkError, Scope.Scope>
  /**
   * Removes this connection's watches of a kind on `path` (server and local). Local one-shot
   * watches complete with DataWatchRemoved / ChildWatchRemoved; with "Any", persistent streams
   * get PersistentWatchRemoved and end.
   */
  readonly removeWatches: (path: string, kind: WatcherKind) => Effect.Effect<void, ZkError>
  /** Fails with KeeperError NoWatcher unless the server holds such a watch for this connection. */
  readonly checkWatches: (path: string, kind: WatcherKind) => Effect.Effect<void, ZkError>
  /**
   * Escape hatch: sends `body` (raw bytes after the RequestHeader) with opcode `op` on the
   * normal xid sequence and returns the reply unparsed, whatever its error code. Paths inside
   * `body` are not chrooted. Replies are matched in order, so a request the server never
   * answers (3.8.0 does that to a standalone `check` that matches) makes the next reply look out
   * of order, and the client drops the link (ConnectionLoss), as ClientCnxn does.
   */
  readonly request: (op: number, body?: Uint8Array) => Effect.Effect<RawReply, ZkError>
  /** The current session id, password and negotiated timeout. */
  readonly session: Effect.Effect<SessionInfo>
  /** The highest zxid seen in a reply (sent as lastZxidSeen / relativeZxid on reconnect). */
  readonly lastZxid: Effect.Effect<number>
  /** The current session state. */
  readonly state: Effect.Effect<SessionState>
  /** The current state, then every change. */
  readonly states: Stream.Stream<SessionState>
  /**
   * Replaces the servers this session connects to (ZooKeeper's updateServerList), e.g. after the
   * ensemble was reconfigured. If the server the client is connected to is not in the new list,
   * the session moves to one that is (the link is dropped, requests in flight fail with
   * ConnectionLoss, the session is kept); otherwise the client stays. A chroot, if given, must be
   * the session's own; a bad connect string fails with BadArguments and changes nothing.
   */
  readonly updateServerList: (connectString: string) => Effect.Effect<void, KeeperError>
  /**
   * Closes the current socket as if the network failed. The client reconnects (to the next
   * server) and keeps the session; requests in flight fail with ConnectionLoss. For tests and
   * failover drills.
   */
  readonly dropConnection: Effect.Effect<void>
}

/** The ZooKeeper client service. */
export class ZooKeeper extends Context.Tag("ezk/client/ZooKeeper")<ZooKeeper, Client>() {}


/**
 * Builds a client on a fresh session (or re-attaches to `options.session`) and waits until
 * it is connected. Closing the Scope sends closeSession and closes the socket.
 */
export const make = (options: Options): Effect.Effect<Client, ZkError, Scope.Scope> =>
  Effect.gen(function*() {
    const parsed = ConnectString.parse(options.connectString)
    if (typeof parsed === "string") {
      return yield* new KeeperError({ code: "BadArguments", path: `connect string: ${parsed}` })
    }
    const sessionTimeoutMs = options.sessionTimeoutMs ?? 10_000
    const clock = yield* Effect.clock
    const conn = new Connection({
      servers: parsed.servers,
      chroot: parsed.chroot,
      sessionTimeoutMs,
      readOnly: options.readOnly ?? false,
      attemptTimeoutMs: options.attemptTimeoutMs,
      reconnectDelayMs: options.reconnectDelayMs ?? 1000,
      maxPendingRequests: options.maxPendingRequests ?? 10_000,
      maxFrameBytes: options.maxFrameBytes ?? 4 * 1024 * 1024,
      watchBufferSize: options.watchBufferSize ?? 4096,
      sessionId: options.session?.sessionId ?? 0n,
      passwd: options.session?.passwd ?? new Uint8Array(16)
    }, clock)
    const hooks: DriverHooks = {
      state: yield* SubscriptionRef.make<SessionState>("Disconnected"),
      first: yield* Deferred.make<void, ZkError>()
    }
    const driver = yield* Effect.forkScoped(runDriver(conn, hooks))
    const client = makeClient(conn, hooks)

    yield* Effect.addFinalizer(() =>
      Effect.gen(function*() {
        const wasConnected = conn.connected && conn.terminal === null
        conn.closing = true
        if (wasConnected) {
          // The server answers closeSession and then closes the socket (client.md §5).
          // Finalizers are uninterruptible; the wait must not be, or the timeout cannot cut it.
          yield* conn.submit(Op.closeSession, { type: Op.closeSession }, () => Exit.void).pipe(
            Effect.interruptible,
            Effect.timeout(options.closeTimeoutMs ?? 3000),
            Effect.ignore
          )
        }
        conn.terminate(conn.sessionExpired("Closed"))
        yield* Fiber.interrupt(driver)
        yield* SubscriptionRef.set(hooks.state, "Closed")
      })
    )

    const connectTimeoutMs = options.connectTimeoutMs ?? sessionTimeoutMs
    yield* Deferred.await(hooks.first).pipe(
      Effect.timeoutFail({
        duration: connectTimeoutMs,
        onTimeout: () =>
          new ConnectionLoss({ reason: `no session with ${options.connectString} within ${connectTimeoutMs}ms` })
      })
    )
    for (const { auth, scheme } of options.authInfo ?? []) yield* client.addAuth(scheme, auth)
    return client
  })

/** The `ZooKeeper` service as a scoped Layer (see `make`). */
export const layer = (options: Options): Layer.Layer<ZooKeeper, ZkError> => Layer.scoped(ZooKeeper, make(options))
