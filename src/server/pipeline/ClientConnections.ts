/**
 * The client connections one core serves: admission (maxClientCnxns per remote IP, refused while
 * shutting down), which connection holds each session, and which have buffered output to flush.
 * A connection leaves the server only through `detach` here, and its watches go with it.
 */
import type { DataTree } from "../../tree/DataTree.js"
import { type ClientSocket, Connection } from "../Connection.js"
import type { CoreClock, CoreConfig, CoreLogger } from "../CoreConfig.js"
import type { ServerStats } from "../ServerStats.js"

export class ClientConnections {
  readonly all = new Set<Connection>()
  private readonly perIp = new Map<string, number>()
  /** The connection currently attached to each session. */
  private readonly owners = new Map<bigint, Connection>()
  private readonly dirty = new Set<Connection>()

  constructor(
    private readonly config: Pick<CoreConfig, "maxClientCnxns" | "maxFrame">,
    private readonly tree: DataTree,
    private readonly clock: CoreClock,
    private readonly stats: ServerStats,
    private readonly logger: CoreLogger
  ) {}

  /** Registers a new socket; null if it was refused (maxClientCnxns, shutting down). */
  accept(socket: ClientSocket, serving: boolean): Connection | null {
    const conn = new Connection(socket, this.config.maxFrame, this.clock.nowMs(), this.clock.monotonicMs(), (c, bytes) => this.markDirty(c, bytes))
    if (!serving) {
      socket.destroy()
      return null
    }
    const max = this.config.maxClientCnxns
    const n = this.perIp.get(conn.remoteAddress) ?? 0
    if (max > 0 && n >= max) {
      this.logger.warn(`Too many connections from /${conn.remoteAddress} - max is ${max}`)
      socket.destroy()
      return null
    }
    this.perIp.set(conn.remoteAddress, n + 1)
    this.all.add(conn)
    return conn
  }

  private markDirty(c: Connection, bytes: number): void {
    this.stats.recordResponse(bytes)
    this.dirty.add(c)
  }

  /** The connection attached to session `id`, if any. */
  ownerOf(id: bigint): Connection | undefined {
    return this.owners.get(id)
  }

  /** `conn` now holds session `id` (a new session, or one that moved here). */
  own(id: bigint, conn: Connection): void {
    this.owners.set(id, conn)
  }

  /** Session `id` is closed: the connection holding it closes too. */
  closeOwner(id: bigint): void {
    const owner = this.owners.get(id)
    if (owner !== undefined) {
      this.owners.delete(id)
      this.close(owner)
    }
  }

  /** Flushes every connection that has buffered output (end of a socket event or a commit batch). */
  flushAll(): void {
    for (const c of this.dirty) c.flush()
    this.dirty.clear()
  }

  /** The socket ended or failed: the connection is forgotten. Pending writes still commit; their replies are dropped. */
  detach(conn: Connection): void {
    if (conn.state === "closed") return
    conn.state = "closed"
    this.all.delete(conn)
    this.dirty.delete(conn)
    const n = (this.perIp.get(conn.remoteAddress) ?? 1) - 1
    if (n <= 0) this.perIp.delete(conn.remoteAddress)
    else this.perIp.set(conn.remoteAddress, n)
    if (conn.session !== null && this.owners.get(conn.session.id) === conn) this.owners.delete(conn.session.id)
    this.tree.watches.removeWatcher(conn)
  }

  /** Closes a connection after flushing what it has buffered; `reason` is logged once. */
  close(conn: Connection, reason?: string): void {
    if (conn.state === "closed") return
    if (reason !== undefined) this.logger.info(`Closing connection /${conn.remoteAddress}:${conn.remotePort}${conn.session ? ` session 0x${conn.session.id.toString(16)}` : ""}: ${reason}`)
    conn.flush()
    conn.socket.end()
    this.detach(conn)
  }

  /** Closes every connection (shutdown, or the core giving way to another role's). */
  closeAll(reason: string): void {
    for (const c of [...this.all]) this.close(c, reason)
  }
}
