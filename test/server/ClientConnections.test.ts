/**
 * The connections of a standalone core, in-process with an instant disk: admission per remote IP
 * (maxClientCnxns), a session moving to a new connection, the outstanding-write throttle, and
 * the reply to a write leaving only once its batch is committed.
 */
import { assert, describe, it } from "@effect/vitest"
import * as AuthProviders from "../../src/auth/Digest.js"
import { StandaloneStage } from "../../src/server/commit/Standalone.js"
import type { CoreConfig } from "../../src/server/CoreConfig.js"
import { ServerCore } from "../../src/server/ServerCore.js"
import { OPEN_ACL_UNSAFE } from "../../src/tree/AclCache.js"
import { DataTree } from "../../src/tree/DataTree.js"
import { readConnectResponse, readReplyHeader } from "../../src/wire/ClientRecords.js"
import { CreateMode, Op } from "../../src/wire/Codes.js"
import { JuteReader } from "../../src/wire/Jute.js"
import { connectFrame, coreConfig, FakeSocket, framesOf, requestFrame, silent } from "./fakes.js"

const setup = (config: Partial<CoreConfig> = {}, clock = { wall: 0, monotonic: 0 }) => {
  const stage = new StandaloneStage({ append: () => {} })
  const core = new ServerCore({ ...coreConfig, ...config }, new DataTree({ extendedTypes: true, digestEnabled: true }), stage, { nowMs: () => clock.wall, monotonicMs: () => clock.monotonic }, AuthProviders.make({}), silent)
  /** The disk syncs: every appended write commits. */
  const sync = (): void => {
    for (let b = stage.take(); b.length > 0; b = stage.take()) core.commit(b)
  }
  /** A socket from `ip` with an established session. */
  const session = (ip = "10.0.0.1") => {
    const socket = new FakeSocket(ip)
    const conn = core.accept(socket)!
    core.onData(conn, connectFrame())
    sync()
    const response = readConnectResponse(new JuteReader(framesOf(socket)[0]!))
    socket.written.length = 0
    return { socket, conn, response }
  }
  return { core, stage, sync, session }
}

/** A socket that remembers whether the server paused reading from it (throttling). */
class PausableSocket extends FakeSocket {
  paused = false
  override pause(): void {
    this.paused = true
  }
  override resume(): void {
    this.paused = false
  }
}

const create = (path: string) => ({ type: Op.create, path, data: null, acl: OPEN_ACL_UNSAFE, flags: CreateMode.PERSISTENT, ttl: -1 }) as const

describe("a standalone core's connections", () => {
  it("drops a connection without a ConnectRequest after the sessionless timeout on the monotonic clock, whatever the wall clock does", () => {
    const clock = { wall: 1_000_000, monotonic: 0 }
    const { core } = setup({ sessionlessCnxnTimeoutMs: 10_000 }, clock)
    const silentOne = new FakeSocket("10.0.0.1")
    core.accept(silentOne)
    clock.wall += 600_000 // the wall clock steps forward ten minutes; no time passed
    core.expireSessions()
    assert.isFalse(silentOne.ended, "closed on a wall-clock step")
    clock.wall -= 1_200_000 // and back twenty; 11 s pass
    clock.monotonic += 11_000
    core.expireSessions()
    assert.isTrue(silentOne.ended, "kept past the sessionless timeout")
  })

  it("refuses a connection beyond maxClientCnxns from one IP, and takes it again once one closes", () => {
    const { core } = setup({ maxClientCnxns: 2 })
    const a = core.accept(new FakeSocket("10.0.0.1"))!
    assert.isNotNull(core.accept(new FakeSocket("10.0.0.1")))
    const refused = new FakeSocket("10.0.0.1")
    assert.isNull(core.accept(refused))
    assert.isTrue(refused.destroyed)
    assert.isNotNull(core.accept(new FakeSocket("10.0.0.2")), "the limit is per IP")
    core.onClosed(a)
    assert.isNotNull(core.accept(new FakeSocket("10.0.0.1")))
    assert.strictEqual(core.connections.size, 3)
  })

  it("a session resumed on a new connection closes the old one; a wrong password is refused", () => {
    const { core, session } = setup()
    const first = session()
    const socket = new FakeSocket()
    const conn = core.accept(socket)!
    core.onData(conn, connectFrame({ sessionId: first.response.sessionId, passwd: first.response.passwd }))
    assert.strictEqual(conn.state, "established")
    assert.isTrue(first.socket.ended, "the old connection is closed")
    assert.strictEqual(readConnectResponse(new JuteReader(framesOf(socket)[0]!)).sessionId, first.response.sessionId)
    const thief = new FakeSocket()
    const other = core.accept(thief)!
    core.onData(other, connectFrame({ sessionId: first.response.sessionId, passwd: new Uint8Array(16) }))
    assert.strictEqual(readConnectResponse(new JuteReader(framesOf(thief)[0]!)).sessionId, 0n, "an invalid session is answered with id 0")
    assert.isTrue(thief.ended)
    assert.strictEqual(conn.state, "established", "the rightful connection keeps its session")
  })

  it("a write is answered only after its batch commits", () => {
    const { core, sync, session } = setup()
    const { socket, conn } = session()
    core.onData(conn, requestFrame(1, create("/a")))
    assert.deepStrictEqual(framesOf(socket), [])
    assert.strictEqual(core.outstanding, 1)
    sync()
    assert.deepStrictEqual(framesOf(socket).map((f) => readReplyHeader(new JuteReader(f)).xid), [1])
    assert.isDefined(core.tree.get("/a"))
  })

  it("stops reading from every client above globalOutstandingLimit and resumes at half of it", () => {
    const { core, sync, session } = setup({ outstandingLimit: 2 })
    const writer = session()
    const idle = new PausableSocket("10.0.0.9")
    core.accept(idle)
    for (let i = 0; i < 3; i++) core.onData(writer.conn, requestFrame(i + 1, create(`/n${i}`)))
    assert.isTrue(idle.paused, "3 outstanding writes > limit 2")
    sync()
    assert.isFalse(idle.paused, "all committed: 0 <= limit / 2")
  })
})
