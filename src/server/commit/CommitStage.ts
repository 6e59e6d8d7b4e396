/**
 * The commit stage: where a write goes between the request pipeline and the data tree. One
 * interface, three roles (DESIGN: "standalone mode is the pipeline with a quorum of one"):
 *
 * - standalone: prepared txns are appended to the local log; the group-commit loop makes each batch
 *   durable and hands it back to `ServerCore.commit` (./Standalone.ts, ./GroupCommit.ts);
 * - leader: prepared txns are logged locally and proposed to the followers; the leader commits a
 *   txn once a quorum has logged it, strictly in zxid order (src/quorum);
 * - learner: client writes are not prepared here but forwarded to the leader as REQUEST; proposals
 *   arrive from the leader, are logged and ACKed, and committed on COMMIT (src/quorum).
 *
 * Every role ends in `ServerCore.commit(writes)`, which applies durable, committed txns in zxid
 * order and answers the local clients that asked for them.
 */
import type { Id } from "../../wire/ClientRecords.js"
import type { Txn, TxnHeader } from "../../wire/TxnRecords.js"
import type { ZxidCounter } from "../../wire/Zxid.js"
import type { Connection } from "../Connection.js"

/** Why a txn was made (who to answer when it commits). */
export const enum WriteKind {
  /** A client's request; its reply waits in the connection's order. */
  Client,
  /** A new session; the connection waits for its ConnectResponse. */
  CreateSession,
  /** The session tracker's expiry (closeSession, cxid 0). */
  Expire,
  /** The container/TTL reaper. */
  Reap,
  /** A txn prepared for another server's client (leader) or received from the leader (learner). */
  Remote
}

/** A txn on its way to the tree: prepared here, or received from the leader. */
export interface PendingWrite {
  readonly header: TxnHeader
  readonly txn: Txn
  readonly kind: WriteKind
  /** The local connection to answer, if any. */
  readonly conn: Connection | null
  readonly xid: number
  readonly receivedMs: number
  /** Digest after this txn, as the preparer computed it (checked against the tree after applying). */
  readonly digestHi: number
  readonly digestLo: number
  /** Whether the digest fields are meaningful (a learner receives txns without one from old leaders). */
  readonly hasDigest: boolean
}

/** A client request a learner sends to the leader (quorum.md §3.2 REQUEST). */
export interface ForwardedRequest {
  readonly sessionId: bigint
  readonly cxid: number
  readonly type: number
  /** The request body exactly as the client sent it, after the RequestHeader (createSession: int timeout). */
  readonly body: Uint8Array
  /** The connection's authenticated ids (null for createSession). */
  readonly authInfo: ReadonlyArray<Id> | null
}

export interface CommitStage {
  readonly role: "standalone" | "leader" | "learner"
  /**
   * A txn this server prepared (standalone, leader). `entry` is its log record (header, txn, digest),
   * valid only during the call. The stage makes it durable (and, for a leader, proposes it) and later
   * passes it to `ServerCore.commit`.
   */
  append(write: PendingWrite, entry: Uint8Array): void
  /** Learners: a client request to send to the leader. Its txn comes back as a proposal. */
  forward(request: ForwardedRequest): void
  /**
   * The epoch's zxid counter is used up. A standalone server moves `zxids` on to the next epoch (returns
   * true); a leader must step down so that an election starts a new epoch (returns false: refused).
   */
  epochExhausted(zxids: ZxidCounter): boolean
}
