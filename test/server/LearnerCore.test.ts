/**
 * A learner's core on its own, with a fake commit stage standing in for the leader: client writes,
 * new sessions and syncs are forwarded (quorum.md §3.2 REQUEST), and their replies wait in each
 * connection's order until the leader's commit (or SYNC) comes back.
 */
import { assert, describe, it } from "@effect/vitest"
import * as AuthProviders from "../../src/auth/Digest.js"
import type { CommitStage, ForwardedRequest, PendingWrite } from "../../src/server/commit/CommitStage.js"
import type { Connection } from "../../src/server/Connection.js"
import { ServerCore } from "../../src/server/ServerCore.js"
import { OPEN_ACL_UNSAFE } from "../../src/tree/AclCache.js"
import { DataTree } from "../../src/tree/DataTree.js"
import { readConnectResponse, readReplyHeader } from "../../src/wire/ClientRecords.js"
import { CreateMode, Err, Op } from "../../src/wire/Codes.js"
import { JuteReader } from "../../src/wire/Jute.js"
import type { Txn, TxnHeader } from "../../src/wire/TxnRecords.js"
import { connectFrame, coreConfig, FakeSocket, framesOf, requestFrame, silent } from "./fakes.js"

/** The leader's side, as the learner's core sees it: everything it forwards is recorded. */
class LearnerStage implements CommitStage {
  readonly role = "learner" as const
  readonly forwarded: Array<ForwardedRequest> = []
  append(): void {
    throw new Error("a learner prepares no txn")
  }
  forward(request: ForwardedRequest): void {
    this.forwarded.push(request)
  }
  epochExhausted(): boolean {
    return false
  }
}

const EPOCH = 0x100000000

const setup = () => {
  const stage = new LearnerStage()
  const core = new ServerCore(coreConfig, new DataTree({ extendedTypes: true, digestEnabled: false }), stage, { nowMs: () => 0, monotonicMs: () => 0 }, AuthProviders.make({}), silent)
  let zxid = EPOCH
  /** The leader commits a txn: the learner applies it (and answers whoever asked). */
  const leaderCommits = (header: Omit<TxnHeader, "zxid" | "time">, txn: Txn): void => {
    const w: PendingWrite = core.committedFromLeader({ ...header, zxid: ++zxid, time: 0 }, txn, null, 0)
    core.commit([w])
  }
  /** A client connected through this learner, its session created by the leader. */
  const client = (): { readonly socket: FakeSocket; readonly conn: Connection; readonly sessionId: bigint } => {
    const socket = new FakeSocket()
    const conn = core.accept(socket)!
    core.onData(conn, connectFrame())
    const sessionId = stage.forwarded.at(-1)!.sessionId
    leaderCommits({ clientId: sessionId, cxid: 0, type: Op.createSession }, { type: Op.createSession, timeOut: 30000 })
    socket.written.length = 0
    return { socket, conn, sessionId }
  }
  return { core, stage, leaderCommits, client }
}

/** xid and err of each reply written to `socket`. */
const replies = (socket: FakeSocket): Array<[number, number]> =>
  framesOf(socket).map((f) => {
    const h = readReplyHeader(new JuteReader(f))
    return [h.xid, h.err]
  })

const createTxn = (path: string): Txn => ({ type: Op.create, path, data: null, acl: OPEN_ACL_UNSAFE, ephemeral: false, parentCVersion: -1 })

describe("a learner's core", () => {
  it("forwards a new session and sends the ConnectResponse only once the leader committed it", () => {
    const { core, stage, leaderCommits } = setup()
    const socket = new FakeSocket()
    const conn = core.accept(socket)!
    core.onData(conn, connectFrame({ timeOut: 30000 }))
    assert.strictEqual(stage.forwarded.length, 1)
    const req = stage.forwarded[0]!
    assert.strictEqual(req.type, Op.createSession)
    assert.deepStrictEqual([...req.body], [0, 0, 0x75, 0x30], "the body is the negotiated timeout")
    assert.deepStrictEqual(framesOf(socket), [], "no answer before the commit")
    leaderCommits({ clientId: req.sessionId, cxid: 0, type: Op.createSession }, { type: Op.createSession, timeOut: 30000 })
    const [response] = framesOf(socket)
    assert.strictEqual(readConnectResponse(new JuteReader(response!)).sessionId, req.sessionId)
    assert.strictEqual(conn.state, "established")
  })

  it("a forwarded write holds back the connection's later reads until its own commit comes back", () => {
    const { core, stage, leaderCommits, client } = setup()
    const { socket, conn, sessionId } = client()
    core.onData(conn, requestFrame(1, { type: Op.create, path: "/x", data: null, acl: OPEN_ACL_UNSAFE, flags: CreateMode.PERSISTENT, ttl: -1 }))
    core.onData(conn, requestFrame(2, { type: Op.exists, path: "/x", watch: false }))
    assert.deepStrictEqual(
      stage.forwarded.slice(1).map((r) => [r.type, r.cxid]),
      [[Op.create, 1]],
      "only the write goes to the leader"
    )
    assert.strictEqual(core.outstanding, 1)
    assert.deepStrictEqual(replies(socket), [], "the read waits behind the write")
    // Another session's txn with the same cxid answers nobody here.
    leaderCommits({ clientId: sessionId + 1n, cxid: 1, type: Op.create }, createTxn("/other"))
    assert.deepStrictEqual(replies(socket), [])
    leaderCommits({ clientId: sessionId, cxid: 1, type: Op.create }, createTxn("/x"))
    assert.deepStrictEqual(replies(socket), [[1, Err.Ok], [2, Err.Ok]], "the write's reply, then the read that saw it")
    assert.strictEqual(core.outstanding, 0)
  })

  it("a forwarded sync is answered when the leader's SYNC arrives, and reads behind it wait for it", () => {
    const { core, stage, client } = setup()
    const { socket, conn } = client()
    core.onData(conn, requestFrame(5, { type: Op.sync, path: "/" }))
    core.onData(conn, requestFrame(6, { type: Op.exists, path: "/nope", watch: false }))
    assert.strictEqual(stage.forwarded.at(-1)!.type, Op.sync)
    assert.deepStrictEqual(replies(socket), [])
    core.syncAnswered()
    assert.deepStrictEqual(replies(socket), [[5, Err.Ok], [6, Err.NoNode]])
  })

  it("reports each touched session once per PING, with its timeout; learners expire nothing themselves", () => {
    const { core, client } = setup()
    const { conn, sessionId } = client()
    assert.deepStrictEqual(core.takeTouches(), [])
    core.onData(conn, requestFrame(1, { type: Op.exists, path: "/", watch: false }))
    core.onData(conn, requestFrame(2, { type: Op.exists, path: "/", watch: false }))
    assert.deepStrictEqual(core.takeTouches(), [{ sessionId, timeout: 30000 }])
    assert.deepStrictEqual(core.takeTouches(), [], "taken once")
    assert.strictEqual(core.expireSessions(), 0)
  })
})
