/**
 * The client's watch tables: one-shot watches (data, exist, child) as Deferreds and persistent /
 * persistent-recursive subscribers as Mailboxes, keyed by server path, with the rules that say
 * which notification fires which watch (ZKWatchManager in the Java client). `Connection` extends
 * this and supplies the I/O: how a path is shown to the caller and how a server watch is removed.
 */
import { Deferred, type Effect, Exit, FiberId, type Mailbox } from "effect"
import { EventType, WatcherType } from "../../wire/Codes.js"
import { type KeeperError, type SessionExpired, WatchOverflow } from "../ZooKeeperError.js"

/** Event types a watch can deliver (client.md §8.2); the *Removed ones come from removeWatches. */
export type EventTypeName =
  | "NodeCreated"
  | "NodeDeleted"
  | "NodeDataChanged"
  | "NodeChildrenChanged"
  | "DataWatchRemoved"
  | "ChildWatchRemoved"
  | "PersistentWatchRemoved"

/** A watch notification; `path` is a client path (chroot stripped). */
export interface WatchedEvent {
  readonly type: EventTypeName
  readonly path: string
}

/** Why a watch stopped without an event: the session expired or closed, or auth failed. */
export type WatchError = SessionExpired | KeeperError

const eventNames = new Map<number, EventTypeName>([
  [EventType.NodeCreated, "NodeCreated"],
  [EventType.NodeDeleted, "NodeDeleted"],
  [EventType.NodeDataChanged, "NodeDataChanged"],
  [EventType.NodeChildrenChanged, "NodeChildrenChanged"]
])

/** A persistent / persistent-recursive watch subscriber. */
export interface Subscriber {
  readonly serverPath: string
  readonly recursive: boolean
  readonly mailbox: Mailbox.Mailbox<WatchedEvent, WatchError | WatchOverflow>
}

/** The watch tables; see the module comment. */
export abstract class WatchTables {
  readonly dataWatches = new Map<string, Array<Deferred.Deferred<WatchedEvent, WatchError>>>()
  readonly existWatches = new Map<string, Array<Deferred.Deferred<WatchedEvent, WatchError>>>()
  readonly childWatches = new Map<string, Array<Deferred.Deferred<WatchedEvent, WatchError>>>()
  readonly persistent = new Map<string, Set<Subscriber>>()
  readonly recursive = new Map<string, Set<Subscriber>>()

  /** Client path of a server path (chroot stripped). */
  abstract toClient(serverPath: string): string
  /** Events a subscriber may buffer before it is dropped with WatchOverflow. */
  protected abstract get watchBufferSize(): number
  /** Removes the server-side watches on a path no local watch uses any more. */
  protected abstract releaseServerWatch(serverPath: string): void

  /** Delivers a server notification (WatcherEvent type and server path) to every watch it fires. */
  protected notify(eventType: number, serverPath: string): void {
    const type = eventNames.get(eventType)
    if (type === undefined) return
    const event: WatchedEvent = { type, path: this.toClient(serverPath) }
    // Which one-shot tables an event consumes: ZKWatchManager.materialize.
    switch (eventType) {
      case EventType.NodeCreated:
      case EventType.NodeDataChanged:
        fire(this.dataWatches, serverPath, event)
        fire(this.existWatches, serverPath, event)
        break
      case EventType.NodeDeleted:
        fire(this.dataWatches, serverPath, event)
        fire(this.existWatches, serverPath, event)
        fire(this.childWatches, serverPath, event)
        break
      case EventType.NodeChildrenChanged:
        fire(this.childWatches, serverPath, event)
        break
    }
    const subs = this.persistent.get(serverPath)
    if (subs !== undefined) for (const sub of subs) this.offer(sub, event)
    // Recursive watches see the path and every descendant, but never NodeChildrenChanged.
    if (this.recursive.size > 0 && eventType !== EventType.NodeChildrenChanged) {
      let p = serverPath
      for (;;) {
        const rsubs = this.recursive.get(p)
        if (rsubs !== undefined) for (const sub of rsubs) this.offer(sub, event)
        if (p === "/" || p === "") break
        const i = p.lastIndexOf("/")
        p = i <= 0 ? "/" : p.slice(0, i)
      }
    }
  }

  private offer(sub: Subscriber, event: WatchedEvent): void {
    if (sub.mailbox.unsafeOffer(event)) return
    this.removeSubscriber(sub)
    sub.mailbox.unsafeDone(Exit.fail(new WatchOverflow({ path: event.path, capacity: this.watchBufferSize })))
    this.releaseIfUnused(sub.serverPath)
  }

  /** Registers a one-shot watch (called from a reply, so before any event it could miss). */
  addOneShot(table: Map<string, Array<Deferred.Deferred<WatchedEvent, WatchError>>>, serverPath: string): Effect.Effect<WatchedEvent, WatchError> {
    const deferred = Deferred.unsafeMake<WatchedEvent, WatchError>(FiberId.none)
    const list = table.get(serverPath)
    if (list === undefined) table.set(serverPath, [deferred])
    else list.push(deferred)
    return Deferred.await(deferred)
  }

  addSubscriber(sub: Subscriber): void {
    const table = sub.recursive ? this.recursive : this.persistent
    const set = table.get(sub.serverPath)
    if (set === undefined) table.set(sub.serverPath, new Set([sub]))
    else set.add(sub)
  }

  private removeSubscriber(sub: Subscriber): boolean {
    const table = sub.recursive ? this.recursive : this.persistent
    const set = table.get(sub.serverPath)
    if (set === undefined || !set.delete(sub)) return false
    if (set.size === 0) table.delete(sub.serverPath)
    return true
  }

  /**
   * Ends a persistent-watch subscription. When it was the last local watch of any kind on the
   * path, the server-side watch is removed too (removeWatches Any); otherwise it is kept, since
   * 3.8 cannot remove one kind of watch on a path without the others.
   */
  unsubscribe(sub: Subscriber): void {
    if (!this.removeSubscriber(sub)) return
    sub.mailbox.unsafeDone(Exit.void)
    this.releaseIfUnused(sub.serverPath)
  }

  private releaseIfUnused(p: string): void {
    const inUse = this.persistent.has(p) || this.recursive.has(p) || this.dataWatches.has(p) ||
      this.existWatches.has(p) || this.childWatches.has(p)
    if (!inUse) this.releaseServerWatch(p)
  }

  /** Mirrors a successful removeWatches locally; removed watchers get a *WatchRemoved event. */
  removeLocal(serverPath: string, watcherType: number): void {
    const path = this.toClient(serverPath)
    if (watcherType === WatcherType.Data || watcherType === WatcherType.Any) {
      const event: WatchedEvent = { type: "DataWatchRemoved", path }
      fire(this.dataWatches, serverPath, event)
      fire(this.existWatches, serverPath, event)
    }
    if (watcherType === WatcherType.Children || watcherType === WatcherType.Any) {
      fire(this.childWatches, serverPath, { type: "ChildWatchRemoved", path })
    }
    if (watcherType === WatcherType.Any) {
      const event: WatchedEvent = { type: "PersistentWatchRemoved", path }
      for (const table of [this.persistent, this.recursive]) {
        const subs = table.get(serverPath)
        if (subs === undefined) continue
        table.delete(serverPath)
        for (const sub of subs) {
          sub.mailbox.unsafeOffer(event)
          sub.mailbox.unsafeDone(Exit.void)
        }
      }
    }
  }

  /** Fails every one-shot watch with `error` and ends every subscriber (cleanly when the client closed). */
  protected failWatches(error: SessionExpired | KeeperError): void {
    for (const table of [this.dataWatches, this.existWatches, this.childWatches]) {
      for (const list of table.values()) for (const d of list) Deferred.unsafeDone(d, Exit.fail(error))
      table.clear()
    }
    const closed = error._tag === "SessionExpired" && error.reason === "Closed"
    for (const table of [this.persistent, this.recursive]) {
      for (const subs of table.values()) {
        for (const sub of subs) sub.mailbox.unsafeDone(closed ? Exit.void : Exit.fail(error))
      }
      table.clear()
    }
  }
}

const fire = (
  table: Map<string, Array<Deferred.Deferred<WatchedEvent, WatchError>>>,
  serverPath: string,
  event: WatchedEvent
): void => {
  const list = table.get(serverPath)
  if (list === undefined) return
  table.delete(serverPath)
  const exit = Exit.succeed(event)
  for (const d of list) Deferred.unsafeDone(d, exit)
}
