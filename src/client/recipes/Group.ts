/**
 * Group membership and service discovery (Curator's GroupMember and ServiceDiscovery, kazoo's
 * Party): a member is an ephemeral node `path/<id>` holding its data, alive exactly as long as
 * the Scope that joined it (and the session). `members` lists the group; `watch` mirrors it.
 *
 * `ServiceDiscovery` types the member data with a Schema: instances registered under
 * `base/<service>/<id>`.
 */
import { Effect, Option, type Schema, type Scope, Stream } from "effect"
import { CreateMode } from "../../wire/Codes.js"
import * as Retry from "../Retry.js"
import * as Typed from "../Typed.js"
import type { Client } from "../ZooKeeper.js"
import type { ZkError } from "../ZooKeeperError.js"
import * as Cache from "./Cache.js"
import { ensurePath, join, release } from "./internal/nodes.js"

/**
 * Joins the group at `path` as `id` with `data` until the Scope closes. A ConnectionLoss during
 * the create is resolved by checking that the node is this session's ephemeral.
 */
export const join_ = (zk: Client, path: string, id: string, data: Uint8Array | string = ""): Effect.Effect<string, ZkError, Scope.Scope> =>
  Effect.gen(function*() {
    yield* ensurePath(zk, path)
    const member = join(path, id)
    const { sessionId } = yield* zk.session
    const create = zk.create(member, data, { mode: CreateMode.EPHEMERAL }).pipe(
      Effect.asVoid,
      Effect.catchIf((e) => e._tag === "KeeperError" && e.code === "NodeExists", (e) =>
        Effect.flatMap(Retry.onConnectionLoss(zk.exists(member)), (stat) =>
          Option.isSome(stat) && stat.value.ephemeralOwner === sessionId ? Effect.void : Effect.fail(e)))
    )
    yield* Effect.acquireRelease(Retry.onConnectionLoss(create), () => release(zk, member))
    return member
  })
export { join_ as join }

/** The members of the group at `path`: id → data. */
export const members = (zk: Client, path: string): Effect.Effect<ReadonlyMap<string, Uint8Array | null>, ZkError> =>
  Effect.gen(function*() {
    const out = new Map<string, Uint8Array | null>()
    const ids = yield* Retry.onConnectionLoss(zk.getChildren(path)).pipe(
      Effect.catchIf((e) => e._tag === "KeeperError" && e.code === "NoNode", () => Effect.succeed([]))
    )
    for (const id of ids) {
      const node = yield* Retry.onConnectionLoss(zk.getData(join(path, id))).pipe(Effect.option)
      if (Option.isSome(node)) out.set(id, node.value.data)
    }
    return out
  })

/** Mirrors the group at `path` (id → data) for the life of the Scope. */
export const watch = (zk: Client, path: string): Effect.Effect<Stream.Stream<ReadonlyMap<string, Uint8Array | null>>, ZkError, Scope.Scope> =>
  Effect.map(Cache.children(zk, path), (mirror) =>
    Stream.map(mirror.changes, (nodes) => new Map([...nodes].map(([id, node]) => [id, node.data] as const))))

/** A registered instance of a service. */
export interface Instance<A> {
  readonly id: string
  readonly payload: A
}

/** Service discovery over `base`, with instance payloads typed by `schema`. */
export interface ServiceDiscovery<A> {
  /** Registers an instance of `service` until the Scope closes. */
  readonly register: (service: string, id: string, payload: A) => Effect.Effect<void, ZkError | Typed.DataEncodeError, Scope.Scope>
  /** The instances of `service` now (instances whose data does not decode are left out). */
  readonly lookup: (service: string) => Effect.Effect<ReadonlyArray<Instance<A>>, ZkError>
  /** The instances of `service`, then every change, for the life of the Scope. */
  readonly watch: (service: string) => Effect.Effect<Stream.Stream<ReadonlyArray<Instance<A>>>, ZkError, Scope.Scope>
}

/** Service discovery under `base` (e.g. "/services"). */
export const discovery = <A, I>(zk: Client, base: string, schema: Schema.Schema<A, I>): ServiceDiscovery<A> => {
  const decodeAll = (service: string, nodes: ReadonlyMap<string, Uint8Array | null>) =>
    Effect.gen(function*() {
      const out: Array<Instance<A>> = []
      for (const [id, data] of [...nodes].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
        const payload = yield* Effect.option(Typed.decode(join(join(base, service), id), data, schema))
        if (Option.isSome(payload)) out.push({ id, payload: payload.value })
      }
      return out
    })
  return {
    register: (service, id, payload) =>
      Effect.flatMap(Typed.encode(join(base, service), payload, schema), (text) => join_(zk, join(base, service), id, text)).pipe(Effect.asVoid),
    lookup: (service) => Effect.flatMap(members(zk, join(base, service)), (nodes) => decodeAll(service, nodes)),
    watch: (service) =>
      Effect.map(watch(zk, join(base, service)), (stream) => Stream.mapEffect(stream, (nodes) => decodeAll(service, nodes)))
  }
}
