/**
 * The two requests that add identities to a connection: `auth` (addAuthInfo, answered with xid
 * -4) and `sasl` (one DIGEST-MD5 round per request). A failure is answered AuthFailed and closes
 * the connection, as ZooKeeper does.
 */
import type { AuthProvidersShape } from "../../auth/Digest.js"
import * as SaslServer from "../../auth/SaslDigestMd5.js"
import { Err, Xid } from "../../wire/Codes.js"
import { JuteReader } from "../../wire/Jute.js"
import { WireError } from "../../wire/WireError.js"
import type { Connection } from "../Connection.js"
import type { CoreConfig, CoreLogger } from "../CoreConfig.js"
import type { ServerStats } from "../ServerStats.js"
import type { ClientConnections } from "./ClientConnections.js"

export class AuthRequests {
  constructor(
    private readonly auth: AuthProvidersShape,
    private readonly config: Pick<CoreConfig, "saslUsers" | "saslSuperUser">,
    private readonly clients: ClientConnections,
    private readonly stats: ServerStats,
    private readonly logger: CoreLogger
  ) {}

  /** addAuthInfo: the scheme's provider turns the credentials into ids for this connection. */
  onAuth(conn: Connection, frame: Uint8Array): void {
    let scheme: string, auth: Uint8Array
    try {
      const r = new JuteReader(frame, 8)
      r.int()
      scheme = r.string()
      auth = r.buffer() ?? new Uint8Array(0)
    } catch (e) {
      if (!(e instanceof WireError)) throw e
      conn.replyHeader(Xid.auth, 0, Err.AuthFailed)
      return this.clients.close(conn, "malformed auth packet")
    }
    const res = this.auth.authenticate(scheme, auth, conn.remoteAddress)
    if (!res.ok) {
      this.stats.authFailures++
      conn.replyHeader(Xid.auth, 0, Err.AuthFailed)
      return this.clients.close(conn, `authentication with scheme '${scheme}' failed`)
    }
    for (const id of res.ids) if (!conn.ids.some((x) => x.scheme === id.scheme && x.id === id.id)) conn.ids.push(id)
    if (res.isSuper) conn.isSuper = true
    conn.replyHeader(Xid.auth, 0, 0)
  }

  /** One SASL round: the client's token in, the server's challenge (or final token) out. */
  onSasl(conn: Connection, xid: number, frame: Uint8Array): void {
    let token: Uint8Array | null
    try {
      token = new JuteReader(frame, 8).buffer()
    } catch (e) {
      if (!(e instanceof WireError)) throw e
      return this.saslFailed(conn, xid, "malformed SASL request")
    }
    const users = this.config.saslUsers
    if (users === null) return this.saslFailed(conn, xid, "SASL is not configured on this server (no jaasLoginConfig)")
    conn.sasl ??= SaslServer.start({ users, superUser: this.config.saslSuperUser })
    const step = conn.sasl.evaluateResponse(token ?? new Uint8Array(0))
    if (step._tag === "Failure") return this.saslFailed(conn, xid, `SASL authentication failed: ${step.reason}`)
    if (step._tag === "Success") {
      for (const id of step.ids) conn.ids.push(id)
      if (step.isSuper) conn.isSuper = true
      this.logger.info(`Successfully authenticated client: authenticationID=${step.user}; session 0x${conn.sessionId.toString(16)}`)
    }
    const mark = conn.beginReply(xid, 0, 0)
    conn.out.buffer(step.token)
    conn.endFrame(mark)
  }

  private saslFailed(conn: Connection, xid: number, reason: string): void {
    this.stats.authFailures++
    const mark = conn.beginReply(xid, 0, Err.AuthFailed)
    conn.out.buffer(null)
    conn.endFrame(mark)
    this.clients.close(conn, reason)
  }
}
