/**
 * SASL DIGEST-MD5 end to end: the server reads its users from a JAAS `Server` section and has the
 * SASL provider enabled (ezk: `--jaas` + `authProvider.1`; ZooKeeper: the same zoo.cfg key and
 * `-Djava.security.auth.login.config`). Real clients authenticate as bob — zkCli.sh through a JAAS
 * `Client` section, kazoo through sasl_options (puresasl) — create nodes only `sasl:bob` may touch
 * and read them back; a wrong password is refused; a raw probe shows what goes over the wire.
 */
import { afterAll, assert, it } from "@effect/vitest"
import * as SaslClient from "../../src/auth/SaslDigestMd5Client.js"
import { Err, Op } from "../../src/wire/Codes.js"
import { openSession } from "../interop/rawClient.js"
import { noKazoo, noZkCli, run, runPython, zkCli, zkCliPath } from "../interop/tools.js"
import { describeTargets } from "../support/targets.js"
import { call, removeTempDirs, tempFile, uniquePath } from "./support.js"

const serverJaas = tempFile(
  "server.jaas",
  `Server {
  org.apache.zookeeper.server.auth.DigestLoginModule required
  user_bob="bobpw";
};
`
)
const clientJaas = (password: string) =>
  tempFile(
    "client.jaas",
    `Client {
  org.apache.zookeeper.server.auth.DigestLoginModule required
  username="bob"
  password="${password}";
};
`
  )
const goodClient = clientJaas("bobpw")
const badClient = clientJaas("wrong")
afterAll(removeTempDirs)

const kazooScript = `
import sys, json, logging
from kazoo.client import KazooClient
from kazoo.security import make_acl
from kazoo.exceptions import AuthFailedError, NoAuthError
logging.basicConfig(level=logging.CRITICAL)
hosts, path = sys.argv[1], sys.argv[2]
out = {}
def sasl(password):
    return KazooClient(hosts=hosts, timeout=10,
                       sasl_options={'mechanism': 'DIGEST-MD5', 'username': 'bob', 'password': password})

zk = sasl('bobpw')
zk.start(timeout=15)
out['created'] = zk.create(path, b'kv', acl=[make_acl('sasl', 'bob', all=True)])
out['data'] = zk.get(path)[0].decode()
out['acl'] = [[a.id.scheme, a.id.id, a.perms] for a in zk.get_acls(path)[0]]
zk.set(path, b'kv2')
out['data2'] = zk.get(path)[0].decode()
zk.stop(); zk.close()

bad = sasl('wrong')
try:
    bad.start(timeout=15)
    try:
        bad.get(path)
        out['bad'] = 'read it'
    except AuthFailedError:
        out['bad'] = 'AuthFailedError'
except Exception as e:
    out['bad'] = 'start: ' + type(e).__name__
try:
    bad.stop(); bad.close()
except Exception:
    pass

anon = KazooClient(hosts=hosts, timeout=10)
anon.start(timeout=15)
try:
    anon.get(path)
    out['anon'] = 'read it'
except NoAuthError:
    out['anon'] = 'NoAuthError'
anon.stop(); anon.close()
print(json.dumps(out))
`

describeTargets(
  "SASL DIGEST-MD5 over the wire",
  (t) => {
    it.skipIf(noZkCli())("zkCli.sh with a JAAS Client section: sasl:bob ACL, read back, getAcl and whoami", async () => {
      const p = uniquePath("sasl-cli")
      const r = await zkCli(
        t.server().connectString,
        [`create ${p} secret sasl:bob:cdrwa`, `getAcl ${p}`, `get ${p}`, `set ${p} again`, `get ${p}`, "whoami"],
        30_000,
        [`-Djava.security.auth.login.config=${goodClient}`]
      )
      assert.deepStrictEqual(
        r.events.filter((e) => e.type === "None").map((e) => e.state).slice(0, 2),
        ["SyncConnected", "SaslAuthenticated"],
        r.output
      )
      assert.deepStrictEqual(r.steps[0], [`Created ${p}`], r.output)
      assert.deepStrictEqual(r.steps[1], ["'sasl,'bob", ": cdrwa"], r.output)
      assert.deepStrictEqual(r.steps[2], ["secret"], r.output)
      assert.deepStrictEqual(r.steps[3], [], r.output)
      assert.deepStrictEqual(r.steps[4], ["again"], r.output)
      // The order of the ids is not part of the contract (ZooKeeper keeps them in a hash set).
      const who = r.steps[5]!
      assert.strictEqual(who[0], "Auth scheme: User", r.output)
      assert.deepStrictEqual([...who.slice(1)].sort(), ["ip: 127.0.0.1", "sasl: bob"], r.output)

      // Without SASL the same node is off limits.
      const anon = await zkCli(t.server().connectString, [`get ${p}`])
      assert.deepStrictEqual(anon.steps[0], [`Insufficient permission : ${p}`], anon.output)
    })

    it.skipIf(noZkCli())("zkCli.sh with a wrong password: AuthFailed, and requests fail with AuthFailed", async () => {
      // Not through zkCli(): after AuthFailed its step markers fail too.
      const r = await run("sh", ["-c", 'exec "$0" "$@" 2>&1', zkCliPath, "-server", t.server().connectString], {
        input: "get /\nquit\n",
        timeoutMs: 30_000,
        env: {
          CLIENT_JVMFLAGS: `-XX:TieredStopAtLevel=1 -XX:+UseSerialGC -Xmx128m -Djava.net.preferIPv4Stack=true -Djava.security.auth.login.config=${badClient}`
        }
      })
      const output = r.stdout + r.stderr
      assert.isFalse(r.timedOut, output)
      assert.include(output, "WatchedEvent state:AuthFailed type:None path:null", output)
      assert.notInclude(output, "SaslAuthenticated", output)
      assert.include(output, "KeeperErrorCode = AuthFailed for /", output)
    })

    it.skipIf(noKazoo())("kazoo with sasl_options: create/read/set as bob; wrong password AuthFailed; anonymous NoAuth", async () => {
      const p = uniquePath("sasl-kazoo")
      const out = (await runPython(kazooScript, [t.server().connectString, p])) as Record<string, unknown>
      // With a wrong password kazoo either gets AuthFailedError on its first request or, when the
      // server's AuthFailed and close reach it while it is still starting, never finishes `start`
      // (seen against Apache ZooKeeper 3.8 in a loaded run). Either way it reads nothing; the exact
      // reply on the wire is checked below, byte for byte.
      assert.include(["AuthFailedError", "start: KazooTimeoutError"], out.bad, JSON.stringify(out))
      assert.deepStrictEqual({ ...out, bad: "AuthFailedError" }, {
        created: p,
        data: "kv",
        acl: [["sasl", "bob", 31]],
        data2: "kv2",
        bad: "AuthFailedError",
        anon: "NoAuthError"
      })
    })

    it("on the wire: a wrong response gets AuthFailed and the connection is closed; the right one completes", async () => {
      const port = t.server().port
      const exchange = async (password: string) => {
        const { conn, session } = await openSession(port, { timeoutMs: 10_000 })
        assert.isAbove(session.timeOut, 0)
        const sasl = SaslClient.start({ username: "bob", password, authzid: "bob" })
        const first = await call(conn, 1, { type: Op.sasl, token: sasl.initialResponse })
        assert.strictEqual(first.header.err, Err.Ok)
        const challenge = first.response?.type === "sasl" ? first.response.token : null
        const step = sasl.evaluateChallenge(challenge)
        if (step._tag !== "Response") throw new Error(`client step ${step._tag}`)
        const second = await call(conn, 2, { type: Op.sasl, token: step.token }).catch((e: Error) => e)
        return { conn, sasl, second }
      }

      const good = await exchange("bobpw")
      if (good.second instanceof Error) throw good.second
      assert.strictEqual(good.second.header.err, Err.Ok)
      const rspauth = good.second.response?.type === "sasl" ? good.second.response.token : null
      assert.strictEqual(good.sasl.evaluateChallenge(rspauth)._tag, "Complete")
      const who = await call(good.conn, 3, { type: Op.whoAmI })
      const ids = who.response?.type === "whoAmI" ? who.response.clientInfo.map((c) => `${c.authScheme}:${c.user}`) : []
      assert.include(ids, "sasl:bob")
      good.conn.destroy()

      const bad = await exchange("wrong")
      if (bad.second instanceof Error) throw bad.second
      assert.strictEqual(bad.second.header.err, Err.AuthFailed)
      await Promise.race([
        bad.conn.closed,
        new Promise((_, reject) => setTimeout(() => reject(new Error("connection still open 5 s after AuthFailed")), 5000))
      ])
    })
  },
  {
    config: { "authProvider.1": "org.apache.zookeeper.server.auth.SASLAuthenticationProvider" },
    ezkArgs: ["--jaas", serverJaas],
    zookeeperJvmFlags: [`-Djava.security.auth.login.config=${serverJaas}`]
  }
)
