/**
 * Request → txn (ZooKeeper's PrepRequestProcessor): validates a write against the prospective
 * state in `Pending`, in ZooKeeper's check order (client.md §13), and returns the txn to log —
 * an ErrorTxn when validation fails, since failed writes consume a zxid too. Pure and synchronous.
 */
import { checkACL, fixupACL } from "../../auth/Acl.js"
import { isProtectedPath, parentOf, pathError, sequenceSuffix } from "../../tree/Paths.js"
import { CONTAINER_OWNER, kindOfOwner, MAX_TTL, NO_OWNER, ttlOwner } from "../../tree/ZNode.js"
import type { ACL, CreateRequest, Id, Request } from "../../wire/ClientRecords.js"
import { CreateMode, Err, Op, Perms } from "../../wire/Codes.js"
import type { Txn, TxnHeader } from "../../wire/TxnRecords.js"
import { NodeState, type Pending } from "./Pending.js"

/** Who is asking: the session and the ids its connection has authenticated as. */
export interface Caller {
  readonly sessionId: bigint
  readonly ids: ReadonlyArray<Id>
  readonly isSuper: boolean
}

export interface PrepOptions {
  readonly extendedTypes: boolean
  readonly saslEnabled: boolean
}

export interface Prepared {
  readonly header: TxnHeader
  readonly txn: Txn
}

class PrepError {
  constructor(readonly code: number) {}
}

const fail = (code: number): never => {
  throw new PrepError(code)
}

/** Opcodes that go through the txn pipeline (they consume a zxid even when they fail). */
export const isWriteOp = (type: number): boolean =>
  type === Op.create ||
  type === Op.create2 ||
  type === Op.createContainer ||
  type === Op.createTTL ||
  type === Op.delete ||
  type === Op.setData ||
  type === Op.setACL ||
  type === Op.check ||
  type === Op.multi ||
  type === Op.reconfig ||
  type === Op.closeSession

/** A failed write: it still takes a zxid and is logged, as an error txn (client.md §5). */
export const errorTxn = (sessionId: bigint, cxid: number, zxid: number, time: number, err: number): Prepared => ({
  header: { clientId: sessionId, cxid, zxid, time, type: Op.error },
  txn: { type: Op.error, err }
})

const isOpenAcl = (acl: ReadonlyArray<ACL>): boolean =>
  acl.length === 1 && acl[0]!.perms === Perms.ALL && acl[0]!.id.scheme === "world" && acl[0]!.id.id === "anyone"

export class Prep {
  constructor(
    private readonly pending: Pending,
    private readonly options: PrepOptions
  ) {}

  /** Prepares one client write (session already validated by the caller). */
  write(caller: Caller, cxid: number, zxid: number, time: number, request: Request): Prepared {
    if (request.type === Op.multi) return this.multi(caller, cxid, zxid, time, request.ops)
    try {
      const txn = this.op(caller, zxid, time, request)
      return { header: { clientId: caller.sessionId, cxid, zxid, time, type: request.type }, txn }
    } catch (e) {
      if (!(e instanceof PrepError)) throw e
      return errorTxn(caller.sessionId, cxid, zxid, time, e.code)
    }
  }

  /** A new session (the connect of a client without a session id). */
  createSession(sessionId: bigint, timeOut: number, zxid: number, time: number): Prepared {
    return { header: { clientId: sessionId, cxid: 0, zxid, time, type: Op.createSession }, txn: { type: Op.createSession, timeOut } }
  }

  /** Closes a session and deletes the ephemerals it will own once pending changes apply. */
  closeSession(sessionId: bigint, cxid: number, zxid: number, time: number): Prepared {
    const paths = [...this.pending.ephemeralsOf(sessionId)]
    for (const path of paths) this.deleteState(zxid, path)
    return { header: { clientId: sessionId, cxid, zxid, time, type: Op.closeSession }, txn: { type: Op.closeSession, paths } }
  }

  /** Deletes a node from the prospective state (closeSession and the container reaper). */
  private deleteState(zxid: number, path: string): void {
    const node = this.pending.get(path)
    const parentPath = parentOf(path)
    const parent = this.pending.get(parentPath)
    if (node === null || parent === null) return
    const p = parent.copy()
    p.numChildren--
    p.pzxid = zxid
    this.pending.set(zxid, parentPath, parent, p)
    this.pending.set(zxid, path, node, null)
  }

  /** The reaper's delete of an empty container or expired TTL node (opcode deleteContainer). */
  deleteContainer(path: string, zxid: number, time: number): Prepared {
    const node = this.pending.get(path)
    const header = { clientId: 0n, cxid: 0, zxid, time, type: Op.deleteContainer }
    if (node === null) return { header: { ...header, type: Op.error }, txn: { type: Op.error, err: Err.NoNode } }
    if (node.numChildren > 0) return { header: { ...header, type: Op.error }, txn: { type: Op.error, err: Err.NotEmpty } }
    this.deleteState(zxid, path)
    return { header, txn: { type: Op.deleteContainer, path } }
  }

  private multi(caller: Caller, cxid: number, zxid: number, time: number, ops: ReadonlyArray<Request>): Prepared {
    const mark = this.pending.mark()
    const txns: Array<Txn> = []
    let failed = false
    for (const op of ops) {
      if (failed) {
        txns.push({ type: Op.error, err: Err.RuntimeInconsistency })
        continue
      }
      try {
        txns.push(this.op(caller, zxid, time, retypeMultiOp(op)))
      } catch (e) {
        if (!(e instanceof PrepError)) throw e
        failed = true
        this.pending.rollback(mark)
        txns.push({ type: Op.error, err: e.code })
      }
    }
    return { header: { clientId: caller.sessionId, cxid, zxid, time, type: Op.multi }, txn: { type: Op.multi, txns } }
  }

  private op(caller: Caller, zxid: number, time: number, q: Request): Txn {
    switch (q.type) {
      case Op.create:
      case Op.create2:
      case Op.createContainer:
      case Op.createTTL:
        return this.create(caller, zxid, time, q)
      case Op.delete: {
        const path = q.path
        if (path.indexOf("/") < 0 || path.indexOf("\u0000") >= 0 || isProtectedPath(path)) fail(Err.BadArguments)
        const parentPath = parentOf(path)
        const parent = this.pending.get(parentPath) ?? fail(Err.NoNode)
        if (!checkACL(parent.acl, Perms.DELETE, caller.ids, caller.isSuper)) fail(Err.NoAuth)
        const node = this.pending.get(path) ?? fail(Err.NoNode)
        checkVersion(node.version, q.version)
        if (node.numChildren > 0) fail(Err.NotEmpty)
        this.deleteState(zxid, path)
        return { type: Op.delete, path }
      }
      case Op.setData: {
        if (pathError(q.path) !== null) fail(Err.BadArguments)
        const node = this.pending.get(q.path) ?? fail(Err.NoNode)
        if (!checkACL(node.acl, Perms.WRITE, caller.ids, caller.isSuper)) fail(Err.NoAuth)
        const version = checkVersion(node.version, q.version)
        const next = node.copy()
        next.data = q.data
        next.version = version
        next.mzxid = zxid
        next.mtime = time
        this.pending.set(zxid, q.path, node, next)
        return { type: Op.setData, path: q.path, data: q.data, version }
      }
      case Op.setACL: {
        if (pathError(q.path) !== null) fail(Err.BadArguments)
        const acl = this.fixup(q.acl, caller)
        const node = this.pending.get(q.path) ?? fail(Err.NoNode)
        if (!checkACL(node.acl, Perms.ADMIN, caller.ids, caller.isSuper)) fail(Err.NoAuth)
        const version = checkVersion(node.aversion, q.version)
        const next = node.copy()
        next.acl = acl
        next.aversion = version
        this.pending.set(zxid, q.path, node, next)
        return { type: Op.setACL, path: q.path, acl, version }
      }
      case Op.check: {
        if (pathError(q.path) !== null) fail(Err.BadArguments)
        const node = this.pending.get(q.path) ?? fail(Err.NoNode)
        if (!checkACL(node.acl, Perms.READ, caller.ids, caller.isSuper)) fail(Err.NoAuth)
        return { type: Op.check, path: q.path, version: checkVersion(node.version, q.version) }
      }
      case Op.reconfig:
        // Dynamic reconfiguration is disabled (standalone, reconfigEnabled=false): the txn still consumes a zxid.
        return fail(Err.ReconfigDisabled)
      case Op.closeSession:
        return this.closeSession(caller.sessionId, 0, zxid, time).txn
      default:
        return fail(Err.Unimplemented)
    }
  }

  private fixup(acl: ReadonlyArray<ACL>, caller: Caller): ReadonlyArray<ACL> {
    if (isOpenAcl(acl)) return acl
    return fixupACL(acl, caller.ids, { saslEnabled: this.options.saslEnabled }) ?? fail(Err.InvalidACL)
  }

  private create(caller: Caller, zxid: number, time: number, q: CreateRequest): Txn {
    const flags = q.flags
    if (flags < 0 || flags > CreateMode.PERSISTENT_SEQUENTIAL_WITH_TTL) fail(Err.BadArguments)
    const isTTL = flags === CreateMode.PERSISTENT_WITH_TTL || flags === CreateMode.PERSISTENT_SEQUENTIAL_WITH_TTL
    if (isTTL && !this.options.extendedTypes) fail(Err.Unimplemented)
    if (isTTL ? q.ttl <= 0 || q.ttl > MAX_TTL : q.ttl >= 0) fail(Err.BadArguments)
    const lastSlash = q.path.lastIndexOf("/")
    if (lastSlash < 0 || q.path.indexOf("\u0000") >= 0) fail(Err.BadArguments)
    const acl = this.fixup(q.acl, caller)
    const parentPath = lastSlash === 0 ? "/" : q.path.slice(0, lastSlash)
    const parent = this.pending.get(parentPath) ?? fail(Err.NoNode)
    if (!checkACL(parent.acl, Perms.CREATE, caller.ids, caller.isSuper)) fail(Err.NoAuth)
    const sequential = flags === CreateMode.PERSISTENT_SEQUENTIAL || flags === CreateMode.EPHEMERAL_SEQUENTIAL || flags === CreateMode.PERSISTENT_SEQUENTIAL_WITH_TTL
    const path = sequential ? q.path + sequenceSuffix(parent.cversion) : q.path
    if (pathError(path) !== null) fail(Err.BadArguments)
    if (this.pending.get(path) !== null) fail(Err.NodeExists)
    if (parent.owner !== NO_OWNER && kindOfOwner(parent.owner, this.options.extendedTypes) === "ephemeral") fail(Err.NoChildrenForEphemerals)
    const parentCVersion = parent.cversion + 1
    const ephemeral = flags === CreateMode.EPHEMERAL || flags === CreateMode.EPHEMERAL_SEQUENTIAL
    // The txn type decides how the tree stores the owner; the state here must match it.
    const owner =
      q.type === Op.createContainer ? CONTAINER_OWNER : q.type === Op.createTTL ? ttlOwner(q.ttl) : ephemeral ? caller.sessionId : NO_OWNER
    const p = parent.copy()
    p.numChildren++
    p.cversion = parentCVersion
    p.pzxid = zxid
    this.pending.set(zxid, parentPath, parent, p)
    this.pending.set(zxid, path, null, new NodeState(q.data, acl, zxid, zxid, time, time, 0, 0, 0, owner, zxid, 0))
    switch (q.type) {
      case Op.createContainer:
        return { type: Op.createContainer, path, data: q.data, acl, parentCVersion }
      case Op.createTTL:
        return { type: Op.createTTL, path, data: q.data, acl, parentCVersion, ttl: q.ttl }
      default:
        return { type: q.type, path, data: q.data, acl, ephemeral, parentCVersion }
    }
  }
}

/** checkAndIncVersion: -1 matches any version; returns the next version. */
const checkVersion = (current: number, expected: number): number => {
  if (expected !== -1 && expected !== current) fail(Err.BadVersion)
  return current === 0x7fffffff ? -2147483648 : current + 1
}

/**
 * Multi ops are re-typed from their flags (client.md §7.1): container flags → createContainer,
 * TTL flags → createTTL, anything else → create, even when the client sent create2.
 */
const retypeMultiOp = (op: Request): Request => {
  if (op.type !== Op.create && op.type !== Op.create2 && op.type !== Op.createContainer && op.type !== Op.createTTL) return op
  const type =
    op.flags === CreateMode.CONTAINER
      ? Op.createContainer
      : op.flags === CreateMode.PERSISTENT_WITH_TTL || op.flags === CreateMode.PERSISTENT_SEQUENTIAL_WITH_TTL
        ? Op.createTTL
        : Op.create
  return type === op.type ? op : { ...op, type }
}
