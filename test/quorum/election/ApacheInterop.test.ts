/**
 * ElectionNet + FastLeaderElection against real Apache ZooKeeper 3.8 (the Debian package): two
 * QuorumPeerMain JVMs as servers 1 and 2, ezk as server 3 with the newest log. All three must
 * elect ezk, and the JVMs' notifications must carry the same config text ezk sends.
 */
import { assert, describe, it } from "@effect/vitest"
import { type ChildProcess, spawn } from "node:child_process"
import * as fs from "node:fs/promises"
import * as os from "node:os"
import * as path from "node:path"
import { Effect, Queue } from "effect"
import * as QV from "../../../src/quorum/core/QuorumVerifier.js"
import * as ElectionNet from "../../../src/quorum/election/ElectionNet.js"
import * as FLE from "../../../src/quorum/election/FastLeaderElection.js"
import { noApacheZk, zookeeperJar } from "../../support/apacheZk.js"
import { portBelowEphemeralRange } from "../../support/ezkEnsemble.js"

const host = "127.0.0.1"

interface Ports {
  readonly sid: number
  readonly quorumPort: number
  readonly electionPort: number
  readonly clientPort: number
}

/** One QuorumPeerMain in a temp dir, killed (by its own pid) and removed when the scope closes. */
const quorumPeer = (me: Ports, all: ReadonlyArray<Ports>) =>
  Effect.acquireRelease(
    Effect.promise(async () => {
      const dir = await fs.mkdtemp(path.join(os.tmpdir(), "ezk-fle-interop-"))
      const dataDir = path.join(dir, "data")
      await fs.mkdir(dataDir)
      await fs.writeFile(path.join(dataDir, "myid"), `${me.sid}\n`)
      const cfg = [
        "tickTime=500", "initLimit=10", "syncLimit=5", `dataDir=${dataDir}`, `clientPort=${me.clientPort}`,
        `clientPortAddress=${host}`, "admin.enableServer=false",
        ...all.map((p) => `server.${p.sid}=${host}:${p.quorumPort}:${p.electionPort}`)
      ].join("\n") + "\n"
      await fs.writeFile(path.join(dir, "zoo.cfg"), cfg)
      const child = spawn(process.env.JAVA ?? "java", [
        "-Xmx128m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-Djava.net.preferIPv4Stack=true",
        "-Dzookeeper.admin.enableServer=false", "-cp", `${dir}:${zookeeperJar}`,
        "org.apache.zookeeper.server.quorum.QuorumPeerMain", path.join(dir, "zoo.cfg")
      ], { cwd: dir, stdio: "ignore" })
      return { child, dir }
    }),
    ({ child, dir }) =>
      Effect.promise(async () => {
        await stop(child)
        await fs.rm(dir, { recursive: true, force: true })
      })
  )

const stop = (child: ChildProcess) =>
  new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve()
    child.once("exit", () => resolve())
    child.kill("SIGKILL")
  })

describe.skipIf(noApacheZk())("FastLeaderElection against Apache ZooKeeper 3.8", () => {
  it.live("two real servers and ezk (newest log) elect ezk", () =>
    Effect.scoped(Effect.gen(function*() {
      const ports: Array<Ports> = []
      for (const sid of [1, 2, 3]) {
        const [quorumPort, electionPort, clientPort] = yield* Effect.promise(() => Promise.all([portBelowEphemeralRange(), portBelowEphemeralRange(), portBelowEphemeralRange()]))
        ports.push({ sid, quorumPort: quorumPort!, electionPort: electionPort!, clientPort: clientPort! })
      }
      const members = ports.map((p) => ({ sid: p.sid, host, electionPort: p.electionPort, type: "participant" as const }))
      const config = FLE.quorumConfigText(ports.map((p) => ({ ...p, host, type: "participant" as const })))
      const net = yield* ElectionNet.make({ sid: 3, members, cnxTimeoutMs: 2000, handshakeTimeoutMs: 2500 })
      // Tap the inbox to look at what the JVMs send.
      const seen: Array<ElectionNet.Received> = []
      const inbox = yield* Queue.unbounded<ElectionNet.Received>()
      yield* Queue.take(net.inbox).pipe(
        Effect.tap((r) => (seen.push(r), Queue.offer(inbox, r))),
        Effect.forever,
        Effect.forkScoped
      )
      const verifier = QV.majority(members.map((m) => ({ sid: m.sid, type: m.type })))
      const fle = yield* FLE.make({ sid: 3, verifier, net: { ...net, inbox }, config })
      yield* quorumPeer(ports[0]!, ports)
      yield* quorumPeer(ports[1]!, ports)
      const decided = yield* fle.lookForLeader({ lastLoggedZxid: 0x100000005, currentEpoch: 1 }).pipe(
        Effect.timeoutFail({ duration: "40 seconds", onTimeout: () => new Error("no decision with Apache ZooKeeper") })
      )
      assert.strictEqual(decided.leader, 3)
      assert.strictEqual(decided.state, "LEADING")
      const fromJvms = seen.filter((r) => r.from !== 3)
      assert.isTrue(fromJvms.some((r) => r.notification.leader === 3 && r.notification.zxid === 0x100000005), "the JVMs voted for ezk")
      for (const r of fromJvms) {
        assert.strictEqual(r.notification.version, 2)
        assert.strictEqual(r.notification.config, config, "ZooKeeper's config text is the one ezk sends")
      }
    })), 60_000)
})
