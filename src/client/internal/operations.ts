/**
 * The operations of a client session: each `Client` method encodes its request, submits it on
 * the `Connection` and decodes the reply (or the server's error code) into its typed result.
 */
import { Effect, Either, Exit, Mailbox, Option, SubscriptionRef } from "effect"
import {
  type CreateRequest,
  type MultiResult,
  readACLs,
  readMultiResponse,
  readStat,
  type Request,
  type Stat
} from "../../wire/ClientRecords.js"
import { AddWatchMode, CreateMode, Err, errName, Op, WatcherType } from "../../wire/Codes.js"
import { encodeUtf8, type JuteReader } from "../../wire/Jute.js"
import { openAclUnsafe } from "../Acl.js"
import type * as Batch from "../Batch.js"
import type { CreateOptions, Data, WriteOp, WriteResult, ReadResult } from "../MultiOp.js"
import type { Client, Watch, WatcherKind } from "../ZooKeeper.js"
import { KeeperError, MultiError, type WatchOverflow } from "../ZooKeeperError.js"
import { callOf, runBatch } from "./batch.js"
import type { Connection, Reply, Subscriber, WatchedEvent, WatchError } from "./connection.js"
import type { DriverHooks } from "./driver.js"
import { updateServerList } from "./serverList.js"

const emptyBytes = new Uint8Array(0)
const toBytes = (data: Data | undefined): Uint8Array | null =>
  data === undefined ? emptyBytes : typeof data === "string" ? encodeUtf8(data) : data

const readStrings = (r: JuteReader): Array<string> => r.vector((x) => x.string()) ?? []

const watcherTypes: Record<WatcherKind, number> = {
  Children: WatcherType.Children,
  Data: WatcherType.Data,
  Any: WatcherType.Any
}

/** A request ready to go: its body and how its reply becomes the result. */
export interface Call<A, E> {
  readonly request: Request
  readonly reply: Reply<A, E>
}

/**
 * The plain (watch-free) operations as `Call`s, shared by the Effect client and the Promise
 * facade's direct path (`directOf`), so both encode and decode them the same way.
 */
export interface Calls {
  readonly create: (path: string, data: Data | undefined, options: CreateOptions) => Call<string, KeeperError>
  readonly delete: (path: string, version: number) => Call<void, KeeperError>
  readonly exists: (path: string) => Call<Option.Option<Stat>, KeeperError>
  readonly getData: (path: string) => Call<{ readonly data: Uint8Array | null; readonly stat: Stat }, KeeperError>
  readonly setData: (path: string, data: Data, version: number) => Call<Stat, KeeperError>
  readonly getChildren: (path: string) => Call<Array<string>, KeeperError>
}

/** What the Promise facade needs to run `Calls` on a client's session without a fiber per call. */
export interface Direct {
  readonly conn: Connection
  readonly calls: Calls
}

const directs = new WeakMap<Client, Direct>()

/** The session behind a `Client` made by `makeClient` (undefined for any other implementation). */
export const directOf = (client: Client): Direct | undefined => directs.get(client)

/** The `Client` of a session whose engine is `conn` and whose driver reports to `hooks`. */
export const makeClient = (conn: Connection, hooks: DriverHooks): Client => {
  const keeperError = (err: number, path: string) => new KeeperError({ code: errName(err), path })

  /** The usual reply: decode the body on success, KeeperError otherwise. */
  const ok = <A>(path: string, decode: (r: JuteReader) => A): Reply<A, KeeperError> => (err, r) =>
    err === 0 ? Exit.succeed(decode(r)) : Exit.fail(keeperError(err, path))

  const submit = <A, E>(request: Request, reply: Reply<A, E>) => conn.submit(request.type, request, reply)
  const submitCall = <A, E>(call: Call<A, E>) => conn.submit(call.request.type, call.request, call.reply)

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

  const readData = (r: JuteReader) => ({ data: r.buffer(), stat: readStat(r) })
  const noResult = () => undefined

  const calls: Calls = {
    create: (path, data, options) => {
      const request = createRequest(path, data, options, false)
      return {
        request,
        reply: ok(path, request.type === Op.create ? (r) => conn.toClient(r.string()) : (r) => readPathStat(r).path)
      }
    },
    delete: (path, version) => ({ request: { type: Op.delete, path: conn.toServer(path), version }, reply: ok(path, noResult) }),
    exists: (path) => ({
      request: { type: Op.exists, path: conn.toServer(path), watch: false },
      reply: (err, r) =>
        err === 0
          ? Exit.succeed(Option.some(readStat(r)))
          : err === Err.NoNode
          ? Exit.succeed(Option.none())
          : Exit.fail(keeperError(err, path))
    }),
    getData: (path) => ({ request: { type: Op.getData, path: conn.toServer(path), watch: false }, reply: ok(path, readData) }),
    setData: (path, data, version) => ({
      request: { type: Op.setData, path: conn.toServer(path), data: toBytes(data), version },
      reply: ok(path, readStat)
    }),
    getChildren: (path) => ({ request: { type: Op.getChildren, path: conn.toServer(path), watch: false }, reply: ok(path, readStrings) })
  }

  const create: Client["create"] = (path, data, options = {}) => submitCall(calls.create(path, data, options))

  const createWithStat: Client["createWithStat"] = (path, data, options = {}) =>
    submit(createRequest(path, data, options, true), ok(path, readPathStat))

  const remove: Client["delete"] = (path, version = -1) => submitCall(calls.delete(path, version))

  const existsWatchReply = (path: string): Reply<{ stat: Option.Option<Stat>; watch: Watch }, KeeperError> => (err, r) => {
    const serverPath = conn.toServer(path)
    if (err === 0) {
      const stat = readStat(r)
      return Exit.succeed({ stat: Option.some(stat), watch: conn.addOneShot(conn.dataWatches, serverPath) })
    }
    if (err === Err.NoNode) {
      // The server leaves an exist watch on a missing node (client.md §8.3).
      return Exit.succeed({ stat: Option.none(), watch: conn.addOneShot(conn.existWatches, serverPath) })
    }
    return Exit.fail(keeperError(err, path))
  }

  const exists: Client["exists"] = (path) => submitCall(calls.exists(path))

  const existsWatch: Client["existsWatch"] = (path) =>
    submit({ type: Op.exists, path: conn.toServer(path), watch: true }, existsWatchReply(path))

  const getData: Client["getData"] = (path) => submitCall(calls.getData(path))

  const getDataWatch: Client["getDataWatch"] = (path) => {
    const serverPath = conn.toServer(path)
    return submit(
      { type: Op.getData, path: serverPath, watch: true },
      ok(path, (r) => ({ data: r.buffer(), stat: readStat(r), watch: conn.addOneShot(conn.dataWatches, serverPath) }))
    )
  }

  const setData: Client["setData"] = (path, data, version = -1) => submitCall(calls.setData(path, data, version))

  const getChildren: Client["getChildren"] = (path) => submitCall(calls.getChildren(path))

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

  const batch: Client["batch"] = (ops) =>
    runBatch(conn, ops.map((op) => callOf(calls, op))) as Effect.Effect<Batch.Results<typeof ops>>

  const sync: Client["sync"] = (path) => submit({ type: Op.sync, path: conn.toServer(path) }, ok(path, noResult))

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
    ok("/zookeeper/config", readData)
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
      ok(path, noResult)
    )

  const request: Client["request"] = (op, body = emptyBytes) =>
    conn.submit(op, body, (err, r, zxid, xid) => Exit.succeed({ xid, zxid, err, body: r.bytes.slice(r.pos, r.end) }))

  const client: Client = {
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
    batch,
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
    updateServerList: (connectString) => updateServerList(conn, connectString),
    dropConnection: Effect.sync(() => {
      if (conn.link !== null) conn.drop(conn.link, "dropped by client (dropConnection)")
    })
  }
  directs.set(client, { conn, calls })
  return client
}
