/**
 * The Promise facade of the client, for code that does not use Effect. Same operations, same
 * typed errors (rejections carry `_tag`, and `code` for server errors), an AbortSignal on every
 * call, watches as callbacks and EventEmitters, connection states as events.
 *
 * ```ts
 * import { connect } from "ezk/promise"
 * const zk = await connect("127.0.0.1:2181")
 * zk.on("state", (s) => console.log("connection", s))
 * await zk.create("/app", "hello")
 * const { data } = await zk.getData("/app", { watcher: (e) => console.log(e.type) })
 * await zk.close()
 * ```
 */
import { EventEmitter } from "node:events"
import { Effect, Option, type Schema, Scope, Stream } from "effect"
import type { ACL, Stat } from "../../wire/ClientRecords.js"
import type { CreateOptions, Data, WriteOp, WriteResult } from "../MultiOp.js"
import * as Retry from "../Retry.js"
import * as Session from "../Session.js"
import * as Typed from "../Typed.js"
import * as ZooKeeper from "../ZooKeeper.js"
import type { Call, Calls } from "../internal/calls.js"
import { type Direct, directOf } from "../internal/operations.js"
import { acquire, background, type CallOptions, closeScope, type Handle, newScope, run, runCall } from "./run.js"
import { Recipes } from "./recipes.js"

/** A watch callback: called once with the event (or the reason the watch ended). */
export type Watcher = (event: ZooKeeper.WatchedEvent) => void

/** Options of reads that can leave a one-shot watch. */
export interface ReadOptions extends CallOptions {
  /** Leaves a one-shot watch; called with its event. */
  readonly watcher?: Watcher
}

/** A persistent watch: emits "event" (WatchedEvent) and "error"; `close()` removes it. */
export interface PersistentWatch extends Handle, EventEmitter {}

/**
 * A connected client. Emits "state" with every `Session.ConnectionState`, and the state's name
 * in lower case ("connected", "suspended", "reconnected", "readonly", "expired", "closed",
 * "authfailed").
 */
export class Client extends EventEmitter {
  /** The recipes (locks, elections, queues, caches) on this client. */
  readonly recipes: Recipes
  private readonly direct: Direct | undefined

  /** Use `connect`. */
  constructor(readonly effect: ZooKeeper.Client, private readonly scope: Scope.CloseableScope) {
    super()
    this.direct = directOf(effect)
    this.recipes = new Recipes(effect)
    const states = Session.connectionStates(effect).pipe(
      Stream.runForEach((state) =>
        Effect.sync(() => {
          this.emit("state", state)
          this.emit(state.toLowerCase(), state)
        })
      )
    )
    background(Effect.forkIn(states, scope))
  }

  /** Creates a node; returns its path (with the sequence suffix for sequential modes). */
  create(path: string, data?: Data, options: CreateOptions & CallOptions = {}): Promise<string> {
    return this.plain((c) => c.create(path, data, options), () => this.effect.create(path, data, options), options)
  }

  /** Creates a node in protected mode (safe to retry after a ConnectionLoss); returns path and Stat. */
  createProtected(path: string, data?: Data, options: CreateOptions & CallOptions = {}): Promise<{ path: string; stat: Stat }> {
    return run(Retry.protectedCreate(this.effect, path, data, options), options)
  }

  /** Creates `path` and missing ancestors (node-zookeeper-client's mkdirp). */
  mkdirp(path: string, options: CallOptions = {}): Promise<void> {
    return run(
      Effect.gen(this, function*() {
        let prefix = ""
        for (const segment of path.split("/").filter((s) => s !== "")) {
          prefix = `${prefix}/${segment}`
          yield* this.effect.create(prefix).pipe(Effect.catchIf((e) => e._tag === "KeeperError" && e.code === "NodeExists", () => Effect.void))
        }
      }),
      options
    )
  }

  /** Deletes a node (version -1, the default, matches any). */
  delete(path: string, version = -1, options: CallOptions = {}): Promise<void> {
    return this.plain((c) => c.delete(path, version), () => this.effect.delete(path, version), options)
  }

  /** The node's Stat, or null if it does not exist. */
  async exists(path: string, options: ReadOptions = {}): Promise<Stat | null> {
    if (options.watcher === undefined) {
      return Option.getOrNull(await this.plain((c) => c.exists(path), () => this.effect.exists(path), options))
    }
    const { stat, watch } = await run(this.effect.existsWatch(path), options)
    this.deliver(watch, options.watcher)
    return Option.getOrNull(stat)
  }

  /** The node's data and Stat. */
  async getData(path: string, options: ReadOptions = {}): Promise<{ data: Uint8Array | null; stat: Stat }> {
    if (options.watcher === undefined) return this.plain((c) => c.getData(path), () => this.effect.getData(path), options)
    const { data, stat, watch } = await run(this.effect.getDataWatch(path), options)
    this.deliver(watch, options.watcher)
    return { data, stat }
  }

  /** The node's value decoded with a Schema (rejects with DataDecodeError if it does not decode). */
  getValue<A, I>(path: string, schema: Schema.Schema<A, I>, options: CallOptions = {}): Promise<{ value: A; stat: Stat }> {
    return run(Typed.getData(this.effect, path, schema), options)
  }

  /** Replaces the node's data (version -1, the default, matches any). */
  setData(path: string, data: Data, version = -1, options: CallOptions = {}): Promise<Stat> {
    return this.plain((c) => c.setData(path, data, version), () => this.effect.setData(path, data, version), options)
  }

  /** Stores `value` encoded with a Schema. */
  setValue<A, I>(path: string, value: A, schema: Schema.Schema<A, I>, version = -1, options: CallOptions = {}): Promise<Stat> {
    return run(Typed.setData(this.effect, path, value, schema, version), options)
  }

  /** The node's children names. */
  async getChildren(path: string, options: ReadOptions = {}): Promise<ReadonlyArray<string>> {
    if (options.watcher === undefined) {
      return this.plain((c) => c.getChildren(path), () => this.effect.getChildren(path), options)
    }
    const { children, watch } = await run(this.effect.getChildrenWatch(path), options)
    this.deliver(watch, options.watcher)
    return children
  }

  /** Applies writes atomically (see `MultiOp`); rejects with MultiError naming the failing op. */
  multi(ops: ReadonlyArray<WriteOp>, options: CallOptions = {}): Promise<ReadonlyArray<WriteResult>> {
    return run(this.effect.multi(ops), options)
  }

  /** The node's ACL and Stat. */
  getACL(path: string, options: CallOptions = {}): Promise<{ acl: ReadonlyArray<ACL>; stat: Stat }> {
    return run(this.effect.getACL(path), options)
  }

  /** Replaces the node's ACL. */
  setACL(path: string, acl: ReadonlyArray<ACL>, version = -1, options: CallOptions = {}): Promise<Stat> {
    return run(this.effect.setACL(path, acl, version), options)
  }

  /** Authenticates this connection (e.g. "digest", "user:password"). */
  addAuth(scheme: string, auth: Uint8Array | string, options: CallOptions = {}): Promise<void> {
    return run(this.effect.addAuth(scheme, auth), options)
  }

  /** Waits until the server has caught up with the leader on `path`. */
  sync(path: string, options: CallOptions = {}): Promise<void> {
    return run(this.effect.sync(path), options)
  }

  /** Adds a persistent (optionally recursive) watch; events arrive as "event" until `close()`. */
  async addWatch(path: string, mode: ZooKeeper.AddWatchModeName = "Persistent", options: CallOptions = {}): Promise<PersistentWatch> {
    const emitter = new EventEmitter()
    const { close } = await acquire(
      Effect.flatMap(this.effect.addWatch(path, mode), (events) =>
        events.pipe(
          Stream.runForEach((event) => Effect.sync(() => emitter.emit("event", event))),
          Effect.catchAll((error) => Effect.sync(() => emitter.emit("error", error))),
          Effect.forkScoped
        )),
      options
    )
    return Object.assign(emitter, { close })
  }

  /**
   * Replaces the servers this session connects to; if the current one is not listed, the session
   * moves to one that is (see the Effect client's `updateServerList`).
   */
  updateServerList(connectString: string): Promise<void> {
    return run(this.effect.updateServerList(connectString))
  }

  /** The session's id, password and negotiated timeout. */
  session(): Promise<ZooKeeper.SessionInfo> {
    return run(this.effect.session)
  }

  /** Closes the session: ephemerals go, later calls reject with SessionExpired("Closed"). */
  close(): Promise<void> {
    return closeScope(this.scope)
  }

  /** A plain request: straight on the session when this is ezk's client (no fiber), else via Effect. */
  private plain<A, E>(call: (calls: Calls) => Call<A, E>, effect: () => Effect.Effect<A, E>, options: CallOptions): Promise<A> {
    return this.direct !== undefined ? runCall(this.direct, call(this.direct.calls), options) : run(effect(), options)
  }

  private deliver(watch: ZooKeeper.Watch, watcher: Watcher): void {
    // A watch that ends without an event (session gone) is not reported to the callback.
    background(Effect.flatMap(watch, (event) => Effect.sync(() => watcher(event))).pipe(Effect.ignore))
  }
}

/** Connects to `connectString` (or full client options) and resolves once the session is established. */
export const connect = async (options: string | ZooKeeper.Options, call: CallOptions = {}): Promise<Client> => {
  const scope = newScope()
  const resolved = typeof options === "string" ? { connectString: options } : options
  try {
    const effect = await run(Scope.extend(ZooKeeper.make(resolved), scope), call)
    return new Client(effect, scope)
  } catch (e) {
    await closeScope(scope)
    throw e
  }
}
