/**
 * How each operation's request is built and its reply decoded: the shared helpers, and the plain
 * (watch-free) operations as `Call`s, which the Effect client, `zk.batch` and the Promise facade's
 * direct path all run, so that they encode and decode them the same way.
 */
import { Exit, Option } from "effect"
import { type CreateRequest, readStat, type Request, type Stat } from "../../wire/ClientRecords.js"
import { CreateMode, Err, errName, Op } from "../../wire/Codes.js"
import { encodeUtf8, type JuteReader } from "../../wire/Jute.js"
import { openAclUnsafe } from "../Acl.js"
import type { CreateOptions, Data } from "../MultiOp.js"
import { KeeperError } from "../ZooKeeperError.js"
import type { Connection, Reply } from "./connection.js"

export const emptyBytes = new Uint8Array(0)

export const toBytes = (data: Data | undefined): Uint8Array | null =>
  data === undefined ? emptyBytes : typeof data === "string" ? encodeUtf8(data) : data

export const readStrings = (r: JuteReader): Array<string> => r.vector((x) => x.string()) ?? []

export const readData = (r: JuteReader) => ({ data: r.buffer(), stat: readStat(r) })

export const noResult = (): void => undefined

/** A create2-style reply body: the created path (in the client's chroot) and its stat. */
export const readPathStat = (conn: Connection, r: JuteReader) => ({ path: conn.toClient(r.string()), stat: readStat(r) })

export const keeperError = (err: number, path: string): KeeperError => new KeeperError({ code: errName(err), path })

/** The usual reply: decode the body on success, KeeperError otherwise. */
export const ok = <A>(path: string, decode: (r: JuteReader) => A): Reply<A, KeeperError> => (err, r) =>
  err === 0 ? Exit.succeed(decode(r)) : Exit.fail(keeperError(err, path))

/** The create request for `options` (create, create2, createContainer or createTTL). */
export const createRequest = (
  conn: Connection,
  path: string,
  data: Data | undefined,
  options: CreateOptions,
  withStat: boolean
): CreateRequest => {
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

/** A request ready to go: its body and how its reply becomes the result. */
export interface Call<A, E> {
  readonly request: Request
  readonly reply: Reply<A, E>
}

/** The plain (watch-free) operations as `Call`s (see the module comment). */
export interface Calls {
  readonly create: (path: string, data: Data | undefined, options: CreateOptions) => Call<string, KeeperError>
  readonly delete: (path: string, version: number) => Call<void, KeeperError>
  readonly exists: (path: string) => Call<Option.Option<Stat>, KeeperError>
  readonly getData: (path: string) => Call<{ readonly data: Uint8Array | null; readonly stat: Stat }, KeeperError>
  readonly setData: (path: string, data: Data, version: number) => Call<Stat, KeeperError>
  readonly getChildren: (path: string) => Call<Array<string>, KeeperError>
}

/** The `Calls` of the session whose engine is `conn`. */
export const makeCalls = (conn: Connection): Calls => ({
  create: (path, data, options) => {
    const request = createRequest(conn, path, data, options, false)
    return {
      request,
      reply: ok(path, request.type === Op.create ? (r) => conn.toClient(r.string()) : (r) => readPathStat(conn, r).path)
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
})
