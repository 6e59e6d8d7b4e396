/**
 * Local mirrors of part of the tree (Curator's NodeCache / PathChildrenCache / TreeCache,
 * kazoo's TreeCache), kept current by one persistent watch and exposed as a SubscriptionRef
 * (the current view) and a Stream (every new view).
 *
 * No gaps: the watch is added before the initial read, so a write after the read always yields
 * an event. A 3.8 server re-adds persistent watches on reconnect without replaying what changed
 * meanwhile, so after every reconnect the cache reads the whole mirrored part again; the watch
 * was re-registered before that read (on the same connection), so nothing falls in between.
 *
 * The mirror stops (keeping its last view) when the session expires or the client closes.
 */
import { Effect, Option, type Scope, Stream, SubscriptionRef } from "effect"
import type { Stat } from "../../wire/ClientRecords.js"
import * as Retry from "../Retry.js"
import * as Session from "../Session.js"
import type { Client, WatchedEvent } from "../ZooKeeper.js"
import type { ZkError } from "../ZooKeeperError.js"
import { join } from "./internal/nodes.js"

/** A node as the cache holds it. */
export interface Node {
  readonly data: Uint8Array | null
  readonly stat: Stat
}

/** A mirror of some state: the current view and its changes. */
export interface Mirror<A> {
  readonly current: SubscriptionRef.SubscriptionRef<A>
  /** The current view, then every change. */
  readonly changes: Stream.Stream<A>
}

/** The subtree at a path: node path → node, the root included while it exists. */
export type Tree = ReadonlyMap<string, Node>

const depthBelow = (root: string, path: string): number => {
  if (path === root) return 0
  const rest = root === "/" ? path.slice(1) : path.slice(root.length + 1)
  return rest.split("/").length
}

const isWithin = (root: string, path: string): boolean =>
  path === root || path.startsWith(root === "/" ? "/" : `${root}/`)

const ignoreNoNode = <A>(self: Effect.Effect<A, ZkError>): Effect.Effect<Option.Option<A>, ZkError> =>
  self.pipe(
    Effect.map(Option.some),
    Effect.catchIf((e) => e._tag === "KeeperError" && e.code === "NoNode", () => Effect.succeed(Option.none<A>()))
  )

/**
 * Mirrors the subtree at `root` down to `maxDepth` levels below it (0: the node alone; default
 * unlimited) until the Scope closes.
 */
export const tree = (zk: Client, root: string, options: { readonly maxDepth?: number } = {}): Effect.Effect<Mirror<Tree>, ZkError, Scope.Scope> =>
  Effect.gen(function*() {
    const maxDepth = options.maxDepth ?? Number.POSITIVE_INFINITY
    const readNode = (path: string) => ignoreNoNode(Retry.onConnectionLoss(zk.getData(path)))

    const readTree: Effect.Effect<Map<string, Node>, ZkError> = Effect.gen(function*() {
      const out = new Map<string, Node>()
      const visit = (path: string, depth: number): Effect.Effect<void, ZkError> =>
        Effect.gen(function*() {
          const node = yield* readNode(path)
          if (Option.isNone(node)) return
          out.set(path, node.value)
          if (depth >= maxDepth || node.value.stat.numChildren === 0) return
          const children = yield* ignoreNoNode(Retry.onConnectionLoss(zk.getChildren(path)))
          for (const name of Option.getOrElse(children, () => [])) yield* visit(join(path, name), depth + 1)
        })
      yield* visit(root, 0)
      return out
    })

    // Watch first, then read: see the module comment.
    const events = yield* zk.addWatch(root, maxDepth === 0 ? "Persistent" : "PersistentRecursive")
    const current = yield* SubscriptionRef.make<Tree>(yield* readTree)

    const onEvent = (event: WatchedEvent): Effect.Effect<void, ZkError> =>
      Effect.gen(function*() {
        if (!isWithin(root, event.path) || depthBelow(root, event.path) > maxDepth) return
        switch (event.type) {
          case "NodeCreated":
          case "NodeDataChanged": {
            const node = yield* readNode(event.path)
            yield* SubscriptionRef.update(current, (tree) => {
              const next = new Map(tree)
              if (Option.isSome(node)) next.set(event.path, node.value)
              else next.delete(event.path)
              return next
            })
            return
          }
          case "NodeDeleted":
            yield* SubscriptionRef.update(current, (tree) => {
              const next = new Map(tree)
              for (const path of tree.keys()) if (isWithin(event.path, path)) next.delete(path)
              return next
            })
            return
          default:
            return
        }
      })

    const resyncs = Session.connectionStates(zk).pipe(Stream.filter((s) => s === "Reconnected"))
    yield* Stream.merge(
      Stream.map(events, (event) => ({ _tag: "Event", event }) as const),
      Stream.map(resyncs, () => ({ _tag: "Resync" }) as const),
      { haltStrategy: "left" }
    ).pipe(
      Stream.runForEach((step) =>
        step._tag === "Event" ? onEvent(step.event) : Effect.flatMap(readTree, (tree) => SubscriptionRef.set(current, tree))
      ),
      Effect.ignore,
      Effect.forkScoped
    )
    return { current, changes: current.changes }
  })

/** Derives a mirror of `f(view)` from a tree mirror, for the life of the Scope. */
const derive = <A>(source: Mirror<Tree>, f: (tree: Tree) => A): Effect.Effect<Mirror<A>, never, Scope.Scope> =>
  Effect.gen(function*() {
    const current = yield* SubscriptionRef.make(f(yield* SubscriptionRef.get(source.current)))
    yield* source.changes.pipe(Stream.runForEach((tree) => SubscriptionRef.set(current, f(tree))), Effect.forkScoped)
    return { current, changes: current.changes }
  })

/** Mirrors one node: its data and Stat while it exists (NodeCache). */
export const node = (zk: Client, path: string): Effect.Effect<Mirror<Option.Option<Node>>, ZkError, Scope.Scope> =>
  Effect.flatMap(tree(zk, path, { maxDepth: 0 }), (source) => derive(source, (t) => Option.fromNullable(t.get(path))))

/** Mirrors the children of a node: child name → data and Stat (PathChildrenCache). */
export const children = (zk: Client, path: string): Effect.Effect<Mirror<ReadonlyMap<string, Node>>, ZkError, Scope.Scope> =>
  Effect.flatMap(tree(zk, path, { maxDepth: 1 }), (source) =>
    derive(source, (t): ReadonlyMap<string, Node> => {
      const out = new Map<string, Node>()
      for (const [p, n] of t) if (p !== path) out.set(p.slice(p.lastIndexOf("/") + 1), n)
      return out
    }))
