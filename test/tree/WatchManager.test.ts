/** WatchManager: which watches each change fires, and which survive firing (client.md §8.3). */
import { assert, describe, it } from "@effect/vitest"
import { WatchManager, type Watcher } from "../../src/tree/WatchManager.js"
import { EventType } from "../../src/wire/Codes.js"

const { NodeCreated, NodeDeleted, NodeDataChanged, NodeChildrenChanged } = EventType

const watcher = (sessionId = 1n): Watcher & { events: Array<string> } => {
  const events: Array<string> = []
  return { sessionId, events, notify: (type, path) => void events.push(`${type} ${path}`) }
}

describe("WatchManager", () => {
  it("a one-shot data watch fires once, for create, data change or delete of its path only", () => {
    const m = new WatchManager()
    const w = watcher()
    m.addDataWatch("/a", w)
    m.dataChanged("/b", [])
    m.nodeCreated("/a/x", [], [])
    assert.deepStrictEqual(w.events, [])
    m.dataChanged("/a", [])
    m.dataChanged("/a", [])
    assert.deepStrictEqual(w.events, [`${NodeDataChanged} /a`])
    m.addDataWatch("/a", w)
    m.nodeDeleted("/a", [], [])
    m.addDataWatch("/a", w)
    m.nodeCreated("/a", [], [])
    assert.deepStrictEqual(w.events, [`${NodeDataChanged} /a`, `${NodeDeleted} /a`, `${NodeCreated} /a`])
    assert.strictEqual(m.data.size, 0)
  })

  it("a one-shot child watch fires once for a child created or deleted, and NodeDeleted for its own delete", () => {
    const m = new WatchManager()
    const w = watcher()
    m.addChildWatch("/p", w)
    m.dataChanged("/p", [])
    m.dataChanged("/p/c", [])
    assert.deepStrictEqual(w.events, [])
    m.nodeCreated("/p/c", [], [])
    m.nodeDeleted("/p/c", [], [])
    assert.deepStrictEqual(w.events, [`${NodeChildrenChanged} /p`])
    m.addChildWatch("/p", w)
    m.nodeDeleted("/p", [], [])
    assert.deepStrictEqual(w.events, [`${NodeChildrenChanged} /p`, `${NodeDeleted} /p`])
    assert.strictEqual(m.child.size, 0)
  })

  it("a persistent watch fires every time, for its path's data, existence and children, not below", () => {
    const m = new WatchManager()
    const w = watcher()
    m.addPersistentWatch("/p", w, false)
    m.nodeCreated("/p", [], [])
    m.dataChanged("/p", [])
    m.dataChanged("/p", [])
    m.nodeCreated("/p/c", [], [])
    m.dataChanged("/p/c", [])
    m.nodeCreated("/p/c/g", [], [])
    m.nodeDeleted("/p", [], [])
    assert.deepStrictEqual(w.events, [
      `${NodeCreated} /p`,
      `${NodeDataChanged} /p`,
      `${NodeDataChanged} /p`,
      `${NodeChildrenChanged} /p`,
      `${NodeDeleted} /p`
    ])
    assert.isTrue(m.persistent.has("/p"), "still registered after firing")
  })

  it("a persistent-recursive watch fires for its path and everything below, but never NodeChildrenChanged", () => {
    const m = new WatchManager()
    const w = watcher()
    m.addPersistentWatch("/r", w, true)
    m.nodeCreated("/r/a", [], [])
    m.dataChanged("/r/a/b", [])
    m.nodeDeleted("/r", [], [])
    m.dataChanged("/rx", [])
    m.dataChanged("/", [])
    assert.deepStrictEqual(w.events, [`${NodeCreated} /r/a`, `${NodeDataChanged} /r/a/b`, `${NodeDeleted} /r`])
    assert.isTrue(m.recursive.has("/r"))
  })

  it("a watcher registered several ways hears one event per change; removeWatcher drops all of them", () => {
    const m = new WatchManager()
    const w = watcher()
    const other = watcher(2n)
    m.addDataWatch("/a", w)
    m.addChildWatch("/a", w)
    m.addPersistentWatch("/a", w, false)
    m.addPersistentWatch("/", w, true)
    m.addDataWatch("/a", other)
    m.nodeDeleted("/a", [], [])
    assert.deepStrictEqual(w.events, [`${NodeDeleted} /a`])
    assert.deepStrictEqual(other.events, [`${NodeDeleted} /a`])
    m.removeWatcher(w)
    m.nodeCreated("/a", [], [])
    assert.deepStrictEqual(w.events, [`${NodeDeleted} /a`])
    assert.strictEqual(m.persistent.size + m.recursive.size + m.data.size + m.child.size, 0)
  })
})
