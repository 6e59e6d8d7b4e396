/**
 * The operations of a client session: each `Client` method builds its request (calls.ts,
 * multi.ts), submits it on the `Connection` and decodes the reply (or the server's error code)
 * into its typed result.
 */
import { Effect, Exit, Mailbox, Option, SubscriptionRef } from "effect"
import { readACLs, readStat, type Request, type Stat } from "../../wire/ClientRecords.js"
import { AddWatchMode, Err, Op, WatcherType } from "../../wire/Codes.js"
import { encodeUtf8 } from "../../wire/Jute.js"
import type * as Batch from "../Batch.js"
import type { Client, Watch, WatcherKind } from "../ZooKeeper.js"
import type { KeeperError, WatchOverflow } from "../ZooKeeperError.js"
import { callOf, runBatch } from "./batch.js"
import {
  type Call,
  type Calls,
  createRequest,
  emptyBytes,
  keeperError,
  makeCalls,
  noResult,
  ok,
  readData,
  readPathStat,
  readStrings
} from "./calls.js"
import type { Connection, Reply, Subscriber, WatchedEvent, WatchError } from "./connection.js"
import type { DriverHooks } from "./driver.js"
import { multiReadRequest, multiReply, multiRequest, readMultiRead } from "./multi.js"
import { updateServerList } from "./serverList.js"

const watcherTypes: Record<WatcherKind, number> = {
  Children: WatcherType.Children,
  Data: WatcherType.Data,
  Any: WatcherType.Any
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
  const submit = <A, E>(request: Request, reply: Reply<A, E>) => conn.submit(request.type, request, reply)
  const submitCall = <A, E>(call: Call<A, E>) => conn.submit(call.request.type, call.request, call.reply)
  const calls = makeCalls(conn)

  const create: Client["create"] = (path, data, options = {}) => submitCall(calls.create(path, data, options))

  const createWithStat: Client["createWithStat"] = (path, data, options = {}) =>
    submit(createRequest(conn, path, data, options, true), ok(path, (r) => readPathStat(conn, r)))

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

  const multi: Client["multi"] = (ops) => submit(multiRequest(conn, ops), multiReply(conn, ops))

  const multiRead: Client["multiRead"] = (ops) => submit(multiReadRequest(conn, ops), ok(ops[0]?.path ?? "", readMultiRead(ops)))

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
