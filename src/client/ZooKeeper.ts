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
import { Context, Deferred, Effect, Either, Exit, Fiber, Layer, Mailbox, Option, type Scope, type Stream, SubscriptionRef } from "effect"
import {
  type ACL,
  type CreateRequest,
  type MultiResult,
  readACLs,
  readMultiResponse,
  readStat,
  type Request,
  type Stat
} from "../wire/ClientRecords.js"
import { AddWatchMode, CreateMode, Err, errName, Op, WatcherType } from "../wire/Codes.js"
import { encodeUtf8, type JuteReader } from "../wire/Jute.js"
import { openAclUnsafe } from "./Acl.js"
import * as ConnectString from "./ConnectString.js"
import {
  Connection,
  type DriverHooks,
  type Reply,
  runDriver,
  type SessionState,
  type Subscriber,
  type WatchedEvent,
  type WatchError
} from "./internal/connection.js"
import type { CreateOptions, Data, ReadOp, ReadResult, WriteOp, WriteResult } from "./MultiOp.js"
import { ConnectionLoss, KeeperError, MultiError, type WatchOverflow, type ZkError } from "./ZooKeeperError.js"

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
  /** Timeout of one connection attempt (TCP + handshake). Default sessionTimeoutMs / number of servers (Java). */
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
   * Closes the current socket as if the network failed. The client reconnects (to the next
   * server) and keeps the session; requests in flight fail with ConnectionLoss. For tests and
   * failover drills.
   */
  readonly dropConnection: Effect.Effect<void>
}

/** The ZooKeeper client service. */
export class ZooKeeper extends Context.Tag("ezk/client/ZooKeeper")<ZooKeeper, Client>() {}

const emptyBytes = new Uint8Array(0)
const toBytes = (data: Data | undefined): Uint8Array | null =>
  data === undefined ? emptyBytes : typeof data === "string" ? encodeUtf8(data) : data

const readStrings = (r: JuteReader): Array<string> => r.vector((x) => x.string()) ?? []

const watcherTypes: Record<WatcherKind, number> = {
  Children: WatcherType.Children,
  Data: WatcherType.Data,
  Any: WatcherType.Any
}

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
      attemptTimeoutMs: options.attemptTimeoutMs ?? Math.max(1000, Math.floor(sessionTimeoutMs / parsed.servers.length)),
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

const makeClient = (conn: Connection, hooks: DriverHooks): Client => {
  const keeperError = (err: number, path: string) => new KeeperError({ code: errName(err), path })

  /** The usual reply: decode the body on success, KeeperError otherwise. */
  const ok = <A>(path: string, decode: (r: JuteReader) => A): Reply<A, KeeperError> => (err, r) =>
    err === 0 ? Exit.succeed(decode(r)) : Exit.fail(keeperError(err, path))

  const submit = <A, E>(request: Request, reply: Reply<A, E>) => conn.submit(request.type, request, reply)

  const createRequest = (path: string, data: Data | undefined, options: CreateOptions, withStat: boolean): CreateRequest => {
    const mode = options.mode ?? CreateMode.PERSISTENT
    const ttlMode = mode === CreateMode.PERSISTENT_WITH_TTL || mode === CreateMode.PERSISTENT_SEQUENTIAL_WITH_TTL
    const type = options.ttl !== undefined || ttlMode
      ? Op.createTTL
      : mode === CreateMode.CONTAINER
      ? Op.createContainer
      : withStat
      ? Op.create2
      : Op.create
    return {
      type,
      path: conn.toServer(path),
      data: toBytes(data),
      acl: options.acl ?? openAclUnsafe,
      flags: mode,
      ttl: options.ttl ?? -1
    }
  }

  const readPathStat = (r: JuteReader) => ({ path: conn.toClient(r.string()), stat: readStat(r) })

  const create: Client["create"] = (path, data, options = {}) => {
    const request = createRequest(path, data, options, false)
    return submit(
      request,
      ok(path, request.type === Op.create ? (r) => conn.toClient(r.string()) : (r) => readPathStat(r).path)
    )
  }

  const createWithStat: Client["createWithStat"] = (path, data, options = {}) =>
    submit(createRequest(path, data, options, true), ok(path, readPathStat))

  const remove: Client["delete"] = (path, version = -1) =>
    submit({ type: Op.delete, path: conn.toServer(path), version }, ok(path, () => undefined))

  const existsReply = (path: string, watch: boolean): Reply<{ stat: Option.Option<Stat>; watch: Watch | undefined }, KeeperError> =>
  (err, r) => {
    const serverPath = conn.toServer(path)
    if (err === 0) {
      const stat = readStat(r)
      return Exit.succeed({ stat: Option.some(stat), watch: watch ? conn.addOneShot(conn.dataWatches, serverPath) : undefined })
    }
    if (err === Err.NoNode) {
      // The server leaves an exist watch on a missing node (client.md §8.3).
      return Exit.succeed({ stat: Option.none(), watch: watch ? conn.addOneShot(conn.existWatches, serverPath) : undefined })
    }
    return Exit.fail(keeperError(err, path))
  }

  const exists: Client["exists"] = (path) =>
    Effect.map(
      submit({ type: Op.exists, path: conn.toServer(path), watch: false }, existsReply(path, false)),
      (x) => x.stat
    )

  const existsWatch: Client["existsWatch"] = (path) =>
    Effect.map(
      submit({ type: Op.exists, path: conn.toServer(path), watch: true }, existsReply(path, true)),
      (x) => ({ stat: x.stat, watch: x.watch! })
    )

  const getData: Client["getData"] = (path) =>
    submit(
      { type: Op.getData, path: conn.toServer(path), watch: false },
      ok(path, (r) => ({ data: r.buffer(), stat: readStat(r) }))
    )

  const getDataWatch: Client["getDataWatch"] = (path) => {
    const serverPath = conn.toServer(path)
    return submit(
      { type: Op.getData, path: serverPath, watch: true },
      ok(path, (r) => ({ data: r.buffer(), stat: readStat(r), watch: conn.addOneShot(conn.dataWatches, serverPath) }))
    )
  }

  const setData: Client["setData"] = (path, data, version = -1) =>
    submit({ type: Op.setData, path: conn.toServer(path), data: toBytes(data), version }, ok(path, readStat))

  const getChildren: Client["getChildren"] = (path) =>
    submit({ type: Op.getChildren, path: conn.toServer(path), watch: false }, ok(path, readStrings))

  const getChildrenWatch: Client["getChildrenWatch"] = (path) => {
    const serverPath = conn.toServer(path)
    return submit(
      { type: Op.getChildren, path: serverPath, watch: true },
      ok(path, (r) => ({ children: readStrings(r), watch: conn.addOneShot(conn.childWatches, serverPath) }))
    )
  }

  const getChildren2: Client["getChildren2"] = (path) =>
    submit(
      { type: Op.getChildren2, path: conn.toServer(path), watch: false },
      ok(path, (r) => ({ children: readStrings(r), stat: readStat(r) }))
    )

  const getChildren2Watch: Client["getChildren2Watch"] = (path) => {
    const serverPath = conn.toServer(path)
    return submit(
      { type: Op.getChildren2, path: serverPath, watch: true },
      ok(path, (r) => ({
        children: readStrings(r),
        stat: readStat(r),
        watch: conn.addOneShot(conn.childWatches, serverPath)
      }))
    )
  }

  const getAllChildrenNumber: Client["getAllChildrenNumber"] = (path) =>
    submit({ type: Op.getAllChildrenNumber, path: conn.toServer(path) }, ok(path, (r) => r.int()))

  const getEphemerals: Client["getEphemerals"] = (prefix = "/") =>
    submit(
      { type: Op.getEphemerals, path: conn.toServer(prefix) },
      ok(prefix, (r) => {
        const chroot = conn.config.chroot
        const paths = readStrings(r)
        // The server matches a plain string prefix, so "/base" also matches "/base2/x": keep ours.
        const inside = chroot === "" ? paths : paths.filter((p) => p === chroot || p.startsWith(`${chroot}/`))
        return inside.map((p) => conn.toClient(p))
      })
    )

  const writeOpRequest = (op: WriteOp): Request => {
    switch (op._tag) {
      case "Create":
        return createRequest(
          op.path,
          op.data,
          op.ttl === undefined ? { mode: op.mode, acl: op.acl } : { mode: op.mode, acl: op.acl, ttl: op.ttl },
          false
        )
      case "Delete":
        return { type: Op.delete, path: conn.toServer(op.path), version: op.version }
      case "SetData":
        return { type: Op.setData, path: conn.toServer(op.path), data: toBytes(op.data), version: op.version }
      case "Check":
        return { type: Op.check, path: conn.toServer(op.path), version: op.version }
    }
  }

  const multiFailure = (ops: ReadonlyArray<WriteOp>, results: ReadonlyArray<MultiResult>): MultiError | undefined => {
    let index = -1
    const codes = results.map((res, i) => {
      const code = res.type === Op.error ? errName(res.err) : "Ok"
      if (index < 0 && code !== "Ok" && code !== "RuntimeInconsistency") index = i
      return code
    })
    if (index < 0) index = codes.findIndex((c) => c !== "Ok")
    if (index < 0) return undefined
    return new MultiError({ code: codes[index]!, path: ops[index]?.path ?? "", index, results: codes })
  }

  const writeResult = (res: MultiResult): WriteResult => {
    switch (res.type) {
      case Op.create:
        return { _tag: "Create", path: conn.toClient(res.path), stat: Option.none() }
      case Op.create2:
        return { _tag: "Create", path: conn.toClient(res.path), stat: Option.some(res.stat) }
      case Op.delete:
        return { _tag: "Delete" }
      case Op.setData:
        return { _tag: "SetData", stat: res.stat }
      default:
        return { _tag: "Check" }
    }
  }

  const multi: Client["multi"] = (ops) =>
    submit(
      { type: Op.multi, ops: ops.map(writeOpRequest) },
      (err, r): Exit.Exit<ReadonlyArray<WriteResult>, KeeperError | MultiError> => {
        if (err !== 0) return Exit.fail(keeperError(err, ops[0]?.path ?? ""))
        const results = readMultiResponse(r)
        const failure = multiFailure(ops, results)
        return failure === undefined ? Exit.succeed(results.map(writeResult)) : Exit.fail(failure)
      }
    )

  const multiRead: Client["multiRead"] = (ops) =>
    submit(
      {
        type: Op.multiRead,
        ops: ops.map((op) => ({
          type: op._tag === "GetData" ? Op.getData : Op.getChildren,
          path: conn.toServer(op.path),
          watch: false
        }))
      },
      ok(ops[0]?.path ?? "", (r) =>
        readMultiResponse(r).map((res, i): Either.Either<ReadResult, KeeperError> => {
          switch (res.type) {
            case Op.getData:
              return Either.right({ _tag: "GetData", data: res.data, stat: res.stat })
            case Op.getChildren:
              return Either.right({ _tag: "GetChildren", children: res.children })
            case Op.error:
              return Either.left(keeperError(res.err, ops[i]?.path ?? ""))
            default:
              return Either.left(keeperError(Err.MarshallingError, ops[i]?.path ?? ""))
          }
        }))
    )

  const sync: Client["sync"] = (path) => submit({ type: Op.sync, path: conn.toServer(path) }, ok(path, () => undefined))

  const getACL: Client["getACL"] = (path) =>
    submit({ type: Op.getACL, path: conn.toServer(path) }, ok(path, (r) => ({ acl: readACLs(r), stat: readStat(r) })))

  const setACL: Client["setACL"] = (path, acl, version = -1) =>
    submit({ type: Op.setACL, path: conn.toServer(path), acl, version }, ok(path, readStat))

  const addAuth: Client["addAuth"] = (scheme, auth) => {
    const bytes = typeof auth === "string" ? encodeUtf8(auth) : auth
    return conn.submit(
      Op.auth,
      { type: Op.auth, authType: 0, scheme, auth: bytes },
      (err): Exit.Exit<void, KeeperError> => {
        if (err !== 0) return Exit.fail(keeperError(err, ""))
        conn.auths.push({ scheme, auth: bytes })
        return Exit.void
      },
      true
    )
  }

  const whoAmI: Client["whoAmI"] = submit(
    { type: Op.whoAmI },
    ok("", (r) => r.vector((x) => ({ scheme: x.string(), user: x.string() })) ?? [])
  )

  const getConfig: Client["getConfig"] = submit(
    { type: Op.getData, path: "/zookeeper/config", watch: false },
    ok("/zookeeper/config", (r) => ({ data: r.buffer(), stat: readStat(r) }))
  )

  const addWatch: Client["addWatch"] = (path, mode = "Persistent") =>
    Effect.gen(function*() {
      const mailbox = yield* Mailbox.make<WatchedEvent, WatchError | WatchOverflow>({
        capacity: conn.config.watchBufferSize,
        strategy: "suspend"
      })
      const serverPath = conn.toServer(path)
      const sub: Subscriber = { serverPath, recursive: mode === "PersistentRecursive", mailbox }
      yield* Effect.acquireRelease(
        submit(
          {
            type: Op.addWatch,
            path: serverPath,
            mode: mode === "PersistentRecursive" ? AddWatchMode.PERSISTENT_RECURSIVE : AddWatchMode.PERSISTENT
          },
          ok(path, () => conn.addSubscriber(sub))
        ),
        () => Effect.sync(() => conn.unsubscribe(sub))
      )
      return Mailbox.toStream(mailbox)
    })

  const removeWatches: Client["removeWatches"] = (path, kind) => {
    const serverPath = conn.toServer(path)
    const watcherType = watcherTypes[kind]
    return submit(
      { type: Op.removeWatches, path: serverPath, watcherType },
      ok(path, () => conn.removeLocal(serverPath, watcherType))
    )
  }

  const checkWatches: Client["checkWatches"] = (path, kind) =>
    submit(
      { type: Op.checkWatches, path: conn.toServer(path), watcherType: watcherTypes[kind] },
      ok(path, () => undefined)
    )

  const request: Client["request"] = (op, body = emptyBytes) =>
    conn.submit(op, body, (err, r, zxid, xid) => Exit.succeed({ xid, zxid, err, body: r.bytes.slice(r.pos, r.end) }))

  return {
    create,
    createWithStat,
    delete: remove,
    exists,
    existsWatch,
    getData,
    getDataWatch,
    setData,
    getChildren,
    getChildrenWatch,
    getChildren2,
    getChildren2Watch,
    getAllChildrenNumber,
    getEphemerals,
    multi,
    multiRead,
    sync,
    getACL,
    setACL,
    addAuth,
    whoAmI,
    getConfig,
    addWatch,
    removeWatches,
    checkWatches,
    request,
    session: Effect.sync(() => ({ sessionId: conn.sessionId, passwd: conn.passwd, timeoutMs: conn.negotiatedTimeoutMs })),
    lastZxid: Effect.sync(() => conn.lastZxid),
    state: SubscriptionRef.get(hooks.state),
    states: hooks.state.changes,
    dropConnection: Effect.sync(() => {
      if (conn.link !== null) conn.drop(conn.link, "dropped by client (dropConnection)")
    })
  }
}
