/**
 * A small promise wrapper over node-zookeeper-client (npm, untyped CommonJS), typed just enough
 * for the interop and crash suites. Errors reject with the library's Exception, whose `name` is the
 * code name (`NODE_EXISTS`, `BAD_VERSION`, ...); `codeName(e)` extracts it.
 */
import { createRequire } from "node:module"

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Any = any

/** The library module (ACL, Id, Permission, CreateMode, Event, Exception, createClient). */
export const nzk: Any = createRequire(import.meta.url)("node-zookeeper-client")

/** Stat as the library returns it: longs are 8-byte Buffers, ints are numbers. */
export interface NzkStat {
  readonly czxid: Buffer
  readonly mzxid: Buffer
  readonly pzxid: Buffer
  readonly ctime: Buffer
  readonly mtime: Buffer
  readonly version: number
  readonly cversion: number
  readonly aversion: number
  readonly ephemeralOwner: Buffer
  readonly dataLength: number
  readonly numChildren: number
}

/** An 8-byte big-endian long Buffer as a bigint. */
export const long = (b: Buffer): bigint => b.readBigInt64BE(0)

export interface NzkEvent {
  readonly type: number
  readonly name: string
  readonly path: string
}

/** The library's error code name, or the message for other errors. */
export const codeName = (e: unknown): string =>
  typeof e === "object" && e !== null && "getCode" in e ? String((e as unknown as { name: string }).name) : String(e)

export interface NzkClient {
  readonly raw: Any
  readonly sessionId: () => bigint
  readonly create: (path: string, data?: Buffer | null, acls?: ReadonlyArray<Any>, mode?: number) => Promise<string>
  readonly remove: (path: string, version?: number) => Promise<void>
  readonly exists: (path: string, watcher?: (e: NzkEvent) => void) => Promise<NzkStat | null>
  readonly getData: (path: string, watcher?: (e: NzkEvent) => void) => Promise<{ data: Buffer | undefined; stat: NzkStat }>
  readonly setData: (path: string, data: Buffer | null, version?: number) => Promise<NzkStat>
  readonly getChildren: (path: string, watcher?: (e: NzkEvent) => void) => Promise<{ children: Array<string>; stat: NzkStat }>
  readonly getACL: (path: string) => Promise<{ acls: Array<Any>; stat: NzkStat }>
  readonly setACL: (path: string, acls: ReadonlyArray<Any>, version?: number) => Promise<NzkStat>
  readonly mkdirp: (path: string, data?: Buffer) => Promise<string>
  /** Runs a transaction built by `build`; resolves with the raw results, or rejects with the first error (+ `results`). */
  readonly transaction: (build: (t: Any) => void) => Promise<Array<Any>>
  readonly addAuthInfo: (scheme: string, auth: Buffer) => void
  readonly close: () => void
}

const cb =
  <A>(resolve: (a: A) => void, reject: (e: unknown) => void, pick: (...args: Array<Any>) => A) =>
  (err: unknown, ...args: Array<Any>) =>
    err ? reject(err) : resolve(pick(...args))

const toEvent = (watcher: ((e: NzkEvent) => void) | undefined) =>
  watcher === undefined ? undefined : (e: Any) => watcher({ type: e.type, name: e.name, path: e.path })

/** Connects (bounded by `timeoutMs`) and returns the wrapped client. */
export const connectNzk = (
  connectString: string,
  options: { readonly sessionTimeout?: number; readonly retries?: number; readonly timeoutMs?: number } = {}
): Promise<NzkClient> =>
  new Promise((resolve, reject) => {
    const raw = nzk.createClient(connectString, {
      sessionTimeout: options.sessionTimeout ?? 10_000,
      spinDelay: 100,
      retries: options.retries ?? 0
    })
    const timer = setTimeout(() => {
      raw.close()
      reject(new Error(`node-zookeeper-client: no session with ${connectString} within ${options.timeoutMs ?? 10_000}ms`))
    }, options.timeoutMs ?? 10_000)
    raw.once("connected", () => {
      clearTimeout(timer)
      resolve(wrap(raw))
    })
    raw.connect()
  })

const wrap = (raw: Any): NzkClient => ({
  raw,
  sessionId: () => (raw.getSessionId() as Buffer).readBigInt64BE(0),
  create: (path, data, acls, mode) =>
    new Promise((res, rej) =>
      raw.create(path, data ?? null, acls ?? nzk.ACL.OPEN_ACL_UNSAFE, mode ?? nzk.CreateMode.PERSISTENT, cb(res, rej, (p) => p))
    ),
  remove: (path, version = -1) => new Promise((res, rej) => raw.remove(path, version, cb(res, rej, () => undefined))),
  exists: (path, watcher) =>
    new Promise((res, rej) => {
      const done = cb(res, rej, (s) => s ?? null)
      const w = toEvent(watcher)
      if (w === undefined) raw.exists(path, done)
      else raw.exists(path, w, done)
    }),
  getData: (path, watcher) =>
    new Promise((res, rej) => {
      const done = cb(res, rej, (data, stat) => ({ data: data ?? undefined, stat }))
      const w = toEvent(watcher)
      if (w === undefined) raw.getData(path, done)
      else raw.getData(path, w, done)
    }),
  setData: (path, data, version = -1) => new Promise((res, rej) => raw.setData(path, data, version, cb(res, rej, (s) => s))),
  getChildren: (path, watcher) =>
    new Promise((res, rej) => {
      const done = cb(res, rej, (children, stat) => ({ children, stat }))
      const w = toEvent(watcher)
      if (w === undefined) raw.getChildren(path, done)
      else raw.getChildren(path, w, done)
    }),
  getACL: (path) => new Promise((res, rej) => raw.getACL(path, cb(res, rej, (acls, stat) => ({ acls, stat })))),
  setACL: (path, acls, version = -1) => new Promise((res, rej) => raw.setACL(path, acls, version, cb(res, rej, (s) => s))),
  mkdirp: (path, data) =>
    new Promise((res, rej) =>
      data === undefined ? raw.mkdirp(path, cb(res, rej, (p) => p)) : raw.mkdirp(path, data, cb(res, rej, (p) => p))
    ),
  transaction: (build) =>
    new Promise((res, rej) => {
      const t = raw.transaction()
      build(t)
      t.commit((err: Any, results: Any) => {
        if (err) {
          err.results = results
          rej(err)
        } else res(results)
      })
    }),
  addAuthInfo: (scheme, auth) => raw.addAuthInfo(scheme, auth),
  close: () => raw.close()
})
