/**
 * Server-side watch tables (client.md §8.3): one-shot data and child watches, persistent and
 * persistent-recursive watches, and which of them a change fires. Pure: a watcher is anything
 * with `notify`; the connection behind it decides delivery (and the ACL filter).
 */
import type { ACL } from "../wire/ClientRecords.js"
import { EventType, WatcherType } from "../wire/Codes.js"
import { parentOf } from "./Paths.js"

/** Something that can receive a notification: in the server, a client connection. */
export interface Watcher {
  /** Session id shown by wchc/wchp. */
  readonly sessionId: bigint
  /** Delivers one event; `acl` is the ACL of the node whose READ permission gates delivery. */
  notify(type: number, path: string, acl: ReadonlyArray<ACL>): void
}

type Table = Map<string, Set<Watcher>>

const addTo = (t: Table, path: string, w: Watcher): void => {
  const s = t.get(path)
  if (s === undefined) t.set(path, new Set([w]))
  else s.add(w)
}

const removeFrom = (t: Table, path: string, w: Watcher): boolean => {
  const s = t.get(path)
  if (s === undefined || !s.delete(w)) return false
  if (s.size === 0) t.delete(path)
  return true
}

export class WatchManager {
  readonly data: Table = new Map()
  readonly child: Table = new Map()
  readonly persistent: Table = new Map()
  readonly recursive: Table = new Map()
  /** Paths per watcher, so a closing connection drops its watches without a scan. */
  private readonly byWatcher = new Map<Watcher, Set<string>>()

  private track(w: Watcher, path: string): void {
    const s = this.byWatcher.get(w)
    if (s === undefined) this.byWatcher.set(w, new Set([path]))
    else s.add(path)
  }

  addDataWatch(path: string, w: Watcher): void {
    addTo(this.data, path, w)
    this.track(w, path)
  }

  addChildWatch(path: string, w: Watcher): void {
    addTo(this.child, path, w)
    this.track(w, path)
  }

  addPersistentWatch(path: string, w: Watcher, recursive: boolean): void {
    addTo(recursive ? this.recursive : this.persistent, path, w)
    this.track(w, path)
  }

  /** Whether the watcher has a watch of that WatcherType on the path (checkWatches). */
  has(path: string, w: Watcher, type: number): boolean {
    const inData = this.data.get(path)?.has(w) || this.persistent.get(path)?.has(w) || this.recursive.get(path)?.has(w)
    const inChild = this.child.get(path)?.has(w) || this.persistent.get(path)?.has(w) || this.recursive.get(path)?.has(w)
    if (type === WatcherType.Data) return inData === true
    if (type === WatcherType.Children) return inChild === true
    return inData === true || inChild === true
  }

  /**
   * Removes the watcher's watches of that WatcherType on the path (removeWatches); persistent
   * watches count as both kinds. Returns whether anything was removed.
   */
  remove(path: string, w: Watcher, type: number): boolean {
    let removed = false
    if (type === WatcherType.Data || type === WatcherType.Any) removed = removeFrom(this.data, path, w) || removed
    if (type === WatcherType.Children || type === WatcherType.Any) removed = removeFrom(this.child, path, w) || removed
    removed = removeFrom(this.persistent, path, w) || removed
    removed = removeFrom(this.recursive, path, w) || removed
    this.untrackIfGone(w, path)
    return removed
  }

  private untrackIfGone(w: Watcher, path: string): void {
    if (this.data.get(path)?.has(w) || this.child.get(path)?.has(w) || this.persistent.get(path)?.has(w) || this.recursive.get(path)?.has(w)) return
    const s = this.byWatcher.get(w)
    if (s === undefined) return
    s.delete(path)
    if (s.size === 0) this.byWatcher.delete(w)
  }

  /** Drops every watch of a watcher (its connection closed). */
  removeWatcher(w: Watcher): void {
    const paths = this.byWatcher.get(w)
    if (paths === undefined) return
    for (const p of paths) {
      removeFrom(this.data, p, w)
      removeFrom(this.child, p, w)
      removeFrom(this.persistent, p, w)
      removeFrom(this.recursive, p, w)
    }
    this.byWatcher.delete(w)
  }

  /** Number of watches of all kinds (mntr zk_watch_count). */
  get count(): number {
    let n = 0
    for (const t of [this.data, this.child, this.persistent, this.recursive]) for (const s of t.values()) n += s.size
    return n
  }


  // -------------------------------------------------------------------------------------------
  // Triggers, called by the DataTree while it applies a txn.

  nodeCreated(path: string, acl: ReadonlyArray<ACL>, parentAcl: ReadonlyArray<ACL>): void {
    this.fire(EventType.NodeCreated, path, acl, this.data, null)
    this.childrenChanged(parentOf(path), parentAcl)
  }

  nodeDeleted(path: string, acl: ReadonlyArray<ACL>, parentAcl: ReadonlyArray<ACL>): void {
    this.fire(EventType.NodeDeleted, path, acl, this.data, this.child)
    this.childrenChanged(parentOf(path), parentAcl)
  }

  dataChanged(path: string, acl: ReadonlyArray<ACL>): void {
    this.fire(EventType.NodeDataChanged, path, acl, this.data, null)
  }

  private childrenChanged(parent: string, acl: ReadonlyArray<ACL>): void {
    if (parent === "") return
    const once = this.child.size === 0 ? undefined : this.child.get(parent)
    const persistent = this.persistent.size === 0 ? undefined : this.persistent.get(parent)
    if (once === undefined && persistent === undefined) return
    const seen = once !== undefined && persistent !== undefined ? new Set<Watcher>() : null
    if (once !== undefined) {
      this.child.delete(parent)
      for (const w of once) {
        seen?.add(w)
        this.untrackIfGone(w, parent)
        w.notify(EventType.NodeChildrenChanged, parent, acl)
      }
    }
    if (persistent !== undefined) for (const w of persistent) if (seen === null || !seen.has(w)) w.notify(EventType.NodeChildrenChanged, parent, acl)
  }

  /** Fires one-shot watches in `a` (and `b`), persistent ones on the path and recursive ones above it, once per watcher. */
  private fire(type: number, path: string, acl: ReadonlyArray<ACL>, a: Table, b: Table | null): void {
    const onceA = a.size === 0 ? undefined : a.get(path)
    const onceB = b === null || b.size === 0 ? undefined : b.get(path)
    const persistent = this.persistent.size === 0 ? undefined : this.persistent.get(path)
    if (onceA === undefined && onceB === undefined && persistent === undefined && this.recursive.size === 0) return
    const seen = new Set<Watcher>()
    const deliver = (w: Watcher): void => {
      if (seen.has(w)) return
      seen.add(w)
      w.notify(type, path, acl)
    }
    if (onceA !== undefined) a.delete(path)
    if (onceB !== undefined) b!.delete(path)
    for (const once of [onceA, onceB]) {
      if (once === undefined) continue
      for (const w of once) {
        deliver(w)
        this.untrackIfGone(w, path)
      }
    }
    if (persistent !== undefined) for (const w of persistent) deliver(w)
    if (this.recursive.size > 0) {
      for (let p = path; p !== ""; p = parentOf(p)) {
        const rec = this.recursive.get(p)
        if (rec !== undefined) for (const w of rec) deliver(w)
      }
    }
  }
}
