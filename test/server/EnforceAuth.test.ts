/**
 * enforce.auth (ZooKeeper 3.8 AuthenticationHelper): with `enforce.auth.enabled=true` and
 * `enforce.auth.schemes=digest`, or `sessionRequireClientSASLAuth=true`, a session may authenticate
 * (auth packet, SASL) but any other request from a session without an id of a required scheme gets
 * SessionClosedRequireSaslAuth (-124) in its reply header and the connection is closed.
 *
 * The same raw-socket expectations run against an in-process ezk (decoded from the same zoo.cfg
 * keys) and, when the Debian package is installed, against Apache ZooKeeper 3.8 itself.
 */
import { afterAll, assert, describe, it } from "@effect/vitest"
import * as Either from "effect/Either"
import * as ManagedRuntime from "effect/ManagedRuntime"
import { mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import * as SaslClient from "../../src/auth/SaslDigestMd5Client.js"
import * as Config from "../../src/server/Config.js"
import * as Server from "../../src/server/Server.js"
import * as Testing from "../../src/server/Testing.js"
import { Err, Op, Xid } from "../../src/wire/Codes.js"
import { call } from "../e2e/support.js"
import { openSession, parseReply, type RawConnection, requestFrame } from "../interop/rawClient.js"
import { apacheZkAvailable, startApacheZk } from "../support/apacheZk.js"

const dir = mkdtempSync(join(tmpdir(), "ezk-enforce-auth-"))
const jaas = join(dir, "server.jaas")
writeFileSync(jaas, 'Server {\n  org.apache.zookeeper.server.auth.DigestLoginModule required\n  user_bob="bobpw";\n};\n')
afterAll(() => rmSync(dir, { recursive: true, force: true }))

const SASL_PROVIDER = { "authProvider.1": "org.apache.zookeeper.server.auth.SASLAuthenticationProvider" }
const DIGEST_ONLY = { "enforce.auth.enabled": "true", "enforce.auth.schemes": "digest" }
const SASL_ONLY = { ...SASL_PROVIDER, sessionRequireClientSASLAuth: "true" }

interface Started {
  readonly port: number
  readonly stop: () => Promise<void>
}

/** In-process ezk configured from zoo.cfg keys (the same decode path `ezk server` uses). */
const startEzk = async (keys: Record<string, string>): Promise<Started> => {
  const decoded = Config.decodeLayers(undefined, { set: Object.entries({ ...keys, jaasLoginConfig: jaas }) })
  if (Either.isLeft(decoded)) throw decoded.left
  const runtime = ManagedRuntime.make(Testing.layer({ ...decoded.right.config, clientPort: 0, dataDir: "/ezk-test/data", dataLogDir: "/ezk-test/data" }))
  const server = await runtime.runPromise(Server.ZkServer)
  return { port: server.port, stop: () => runtime.dispose() }
}

const startZooKeeper = async (keys: Record<string, string>): Promise<Started> => {
  const zk = await startApacheZk({ config: keys, jvmFlags: [`-Djava.security.auth.login.config=${jaas}`] })
  return { port: zk.port, stop: zk.stop }
}

const targets = [
  { name: "ezk", start: startEzk, available: true },
  { name: "zookeeper", start: startZooKeeper, available: apacheZkAvailable() }
] as const

const enc = (s: string) => new TextEncoder().encode(s)

/** Sends one request and expects exactly the -124 reply header, then the server closing the connection. */
const expectRequireAuth = async (conn: RawConnection, xid: number, request: Parameters<typeof call>[2]) => {
  // Read the frame directly: `call` skips ping replies, and this one must be seen.
  conn.write(requestFrame(xid, request))
  const reply = parseReply(await conn.nextFrame())
  assert.deepStrictEqual(reply.header, { xid, zxid: 0, err: Err.SessionClosedRequireSaslAuth })
  assert.strictEqual(Err.SessionClosedRequireSaslAuth, -124)
  await Promise.race([conn.closed, new Promise((_, reject) => setTimeout(() => reject(new Error("connection still open 5 s after -124")), 5000))])
}

/** SASL DIGEST-MD5 as bob; returns when the server has accepted the response. */
const saslLogin = async (conn: RawConnection) => {
  const sasl = SaslClient.start({ username: "bob", password: "bobpw", authzid: "bob" })
  const first = await call(conn, 1, { type: Op.sasl, token: sasl.initialResponse })
  assert.strictEqual(first.header.err, Err.Ok)
  const step = sasl.evaluateChallenge(first.response?.type === "sasl" ? first.response.token : null)
  if (step._tag !== "Response") throw new Error(`client step ${step._tag}`)
  const second = await call(conn, 2, { type: Op.sasl, token: step.token })
  assert.strictEqual(second.header.err, Err.Ok)
}

for (const target of targets) {
  describe.skipIf(!target.available)(`enforce.auth on ${target.name}`, { timeout: 60_000 }, () => {
    it("enforce.auth.schemes=digest: reads, writes and pings before auth get -124 and a closed connection; digest auth admits", async () => {
      const server = await target.start(DIGEST_ONLY)
      try {
        const read = await openSession(server.port)
        await expectRequireAuth(read.conn, 1, { type: Op.getData, path: "/", watch: false })

        const write = await openSession(server.port)
        await expectRequireAuth(write.conn, 7, { type: Op.create, path: "/nope", data: enc("x"), acl: [{ perms: 31, id: { scheme: "world", id: "anyone" } }], flags: 0, ttl: -1 })

        const ping = await openSession(server.port)
        await expectRequireAuth(ping.conn, Xid.ping, { type: Op.ping })

        const authed = await openSession(server.port)
        const auth = await call(authed.conn, Xid.auth, { type: Op.auth, authType: 0, scheme: "digest", auth: enc("alice:secret") })
        assert.strictEqual(auth.header.err, Err.Ok)
        const created = await call(authed.conn, 2, { type: Op.create, path: "/enforced", data: enc("x"), acl: [{ perms: 31, id: { scheme: "world", id: "anyone" } }], flags: 0, ttl: -1 })
        assert.strictEqual(created.header.err, Err.Ok)
        const read2 = await call(authed.conn, 3, { type: Op.getData, path: "/enforced", watch: false })
        assert.deepStrictEqual([read2.header.err, read2.response?.type === "data" ? new TextDecoder().decode(read2.response.data ?? new Uint8Array()) : null], [Err.Ok, "x"])
        authed.conn.destroy()
      } finally {
        await server.stop()
      }
    })

    it("sessionRequireClientSASLAuth=true: digest auth is not enough; SASL admits", async () => {
      const server = await target.start(SASL_ONLY)
      try {
        const digest = await openSession(server.port)
        const auth = await call(digest.conn, Xid.auth, { type: Op.auth, authType: 0, scheme: "digest", auth: enc("alice:secret") })
        assert.strictEqual(auth.header.err, Err.Ok)
        await expectRequireAuth(digest.conn, 2, { type: Op.exists, path: "/", watch: false })

        const sasl = await openSession(server.port)
        await saslLogin(sasl.conn)
        const exists = await call(sasl.conn, 3, { type: Op.exists, path: "/", watch: false })
        assert.strictEqual(exists.header.err, Err.Ok)
        sasl.conn.destroy()
      } finally {
        await server.stop()
      }
    })
  })
}
