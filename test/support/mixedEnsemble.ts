/**
 * A mixed ensemble on loopback for interop tests: every peer is either the built ezk CLI
 * (`node bin/ezk.cjs server --config zoo.cfg`) or Apache ZooKeeper 3.8 from the Debian package
 * (`QuorumPeerMain zoo.cfg`), and all of them read the same server.N lines. Each peer has its own
 * dir (zoo.cfg, data/myid, its log), can be stopped, wiped and started again on the same ports,
 * and reports its role through `srvr` (Mode: leader/follower), which both kinds answer only while
 * they serve.
 *
 * ZooKeeper logs through log4j 1.2 (slf4j-log4j12 from the Debian package) to stdout, so a failing
 * test can print every peer's log next to ezk's logfmt.
 */
import { type ChildProcess, spawn } from "node:child_process"
import * as fs from "node:fs/promises"
import * as os from "node:os"
import * as path from "node:path"
import { fourLetterWord, zookeeperJar } from "./apacheZk.js"
import { portBelowEphemeralRange } from "./ezkEnsemble.js"
import { ezkCli } from "./ezkServer.js"
import { killOnExit } from "./children.js"

export type PeerKind = "ezk" | "zk"

/** Options of `startMixedEnsemble`. */
export interface MixedEnsembleOptions {
  /** One entry per server.N line, in the order the peers are started; `observer` makes it a non-voting observer. */
  readonly peers: ReadonlyArray<{ readonly sid: number; readonly kind: PeerKind; readonly observer?: boolean }>
  /** Default 500 (short, so elections and syncLimit are quick). */
  readonly tickTime?: number
  readonly initLimit?: number
  readonly syncLimit?: number
  /** TTL nodes and the other extended types (`extendedTypesEnabled`, read by both kinds from zoo.cfg). */
  readonly extendedTypes?: boolean
  /** How long to wait until every peer serves as leader or follower. Default 60000. */
  readonly readyTimeoutMs?: number
}

export interface MixedPeer {
  readonly sid: number
  readonly kind: PeerKind
  readonly clientPort: number
  /** `127.0.0.1:<clientPort>`. */
  readonly connectString: string
  readonly dataDir: string
  /** Current process id, undefined while stopped. */
  readonly pid: () => number | undefined
  readonly start: () => Promise<void>
  /** SIGKILL and wait for the exit; data kept. */
  readonly kill: () => Promise<void>
  /** Deletes everything in the data dir except myid (the peer must be stopped). */
  readonly wipe: () => Promise<void>
  /** "leader" | "follower" | "observer" while it serves, else undefined. */
  readonly mode: () => Promise<string | undefined>
  /** The peer's output (last 4 MiB of this and earlier runs). */
  readonly output: () => string
}

export interface MixedEnsemble {
  readonly peers: ReadonlyArray<MixedPeer>
  readonly peer: (sid: number) => MixedPeer
  /** Waits until every running peer serves (leader, follower or observer) and exactly one leads; returns the leader. */
  readonly ready: (timeoutMs?: number) => Promise<MixedPeer>
  /** Every peer's log, headed by sid and kind, for failure messages. */
  readonly logs: () => string
  /** Kills every peer and removes the temp dir. Idempotent. */
  readonly stop: () => Promise<void>
}

const host = "127.0.0.1"
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

const LOG4J = [
  "log4j.rootLogger=INFO, CONSOLE",
  "log4j.appender.CONSOLE=org.apache.log4j.ConsoleAppender",
  "log4j.appender.CONSOLE.layout=org.apache.log4j.PatternLayout",
  "log4j.appender.CONSOLE.layout.ConversionPattern=%d{ISO8601} [myid:%X{myid}] %-5p [%t:%C{1}@%L] %m%n"
].join("\n") + "\n"

/** The log4j 1.2 binding from the Debian package; without it ZooKeeper logs nothing. */
const LOG_JARS = ["/usr/share/java/slf4j-log4j12.jar", "/usr/share/java/log4j-1.2.jar"]

/** Parses `srvr`: the Mode line, present only while the server serves. */
export const parseMode = (srvr: string): string | undefined => /^Mode: (\w+)/m.exec(srvr)?.[1]

export const startMixedEnsemble = async (options: MixedEnsembleOptions): Promise<MixedEnsemble> => {
  const root = await fs.mkdtemp(path.join(os.tmpdir(), "ezk-mixed-"))
  const ports = await Promise.all(
    // Below the ephemeral range: a listen(0) port can be taken by another peer's outgoing connection
    // before its own peer binds it (a ZooKeeper peer then exits: "Exception while listening").
    options.peers.map(async (p) => ({ ...p, quorumPort: await portBelowEphemeralRange(), electionPort: await portBelowEphemeralRange(), clientPort: await portBelowEphemeralRange() }))
  )
  const serverLines = ports.map((p) => `server.${p.sid}=${host}:${p.quorumPort}:${p.electionPort}${p.observer === true ? ":observer" : ""}`)
  const peers = await Promise.all(ports.map(async (p) => {
    const dir = path.join(root, `peer${p.sid}`)
    const dataDir = path.join(dir, "data")
    await fs.mkdir(dataDir, { recursive: true })
    await fs.writeFile(path.join(dataDir, "myid"), `${p.sid}\n`)
    const cfg = [
      `tickTime=${options.tickTime ?? 500}`, `initLimit=${options.initLimit ?? 10}`, `syncLimit=${options.syncLimit ?? 5}`,
      `dataDir=${dataDir}`, `clientPort=${p.clientPort}`, `clientPortAddress=${host}`, "4lw.commands.whitelist=*",
      "maxClientCnxns=0", ...(options.extendedTypes === true ? ["extendedTypesEnabled=true"] : []),
      ...(p.kind === "zk" ? ["admin.enableServer=false"] : []), ...(p.observer === true ? ["peerType=observer"] : []),
      ...serverLines
    ].join("\n") + "\n"
    const cfgPath = path.join(dir, "zoo.cfg")
    await fs.writeFile(cfgPath, cfg)
    if (p.kind === "zk") await fs.writeFile(path.join(dir, "log4j.properties"), LOG4J)
    return makePeer(p.sid, p.kind, p.clientPort, dir, dataDir, cfgPath)
  }))

  const peer = (sid: number) => {
    const found = peers.find((p) => p.sid === sid)
    if (found === undefined) throw new Error(`no peer ${sid}`)
    return found
  }
  const logs = () => peers.map((p) => `===== peer ${p.sid} (${p.kind}) =====\n${p.output()}`).join("\n")

  const ready = async (timeoutMs = options.readyTimeoutMs ?? 60_000) => {
    const deadline = Date.now() + timeoutMs
    let modes: Array<string | undefined> = []
    while (Date.now() < deadline) {
      const live = peers.filter((p) => p.pid() !== undefined)
      modes = await Promise.all(live.map((p) => p.mode()))
      const leaders = live.filter((_, i) => modes[i] === "leader")
      if (leaders.length === 1 && modes.every((m) => m === "leader" || m === "follower" || m === "observer")) return leaders[0]!
      await sleep(200)
    }
    throw new Error(`ensemble not ready within ${timeoutMs} ms (modes ${JSON.stringify(modes)})\n${logs()}`)
  }

  let stopped = false
  const stop = async () => {
    if (stopped) return
    stopped = true
    await Promise.all(peers.map((p) => p.kill()))
    await fs.rm(root, { recursive: true, force: true })
  }

  try {
    for (const p of peers) await p.start()
  } catch (e) {
    await stop()
    throw e
  }
  return { peers, peer, ready, logs, stop }
}

const makePeer = (sid: number, kind: PeerKind, clientPort: number, dir: string, dataDir: string, cfgPath: string): MixedPeer => {
  let child: ChildProcess | undefined
  let exited: Promise<void> = Promise.resolve()
  let output = ""

  const command = (): [string, Array<string>] =>
    kind === "ezk"
      ? [process.execPath, [ezkCli, "server", "--config", cfgPath]]
      : [process.env.JAVA ?? "java", [
        "-Xmx192m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-Djava.net.preferIPv4Stack=true",
        "-Dzookeeper.admin.enableServer=false", "-Dzookeeper.forceSync=no", "-Dlog4j.configuration=log4j.properties",
        "-cp", [dir, zookeeperJar, ...LOG_JARS].join(":"),
        "org.apache.zookeeper.server.quorum.QuorumPeerMain", cfgPath
      ]]

  const start = async () => {
    if (child !== undefined) throw new Error(`peer ${sid} is already running`)
    const [cmd, args] = command()
    const proc = spawn(cmd, args, { cwd: dir, stdio: ["ignore", "pipe", "pipe"] })
    child = proc
    killOnExit(proc)
    output += `----- start (${new Date().toISOString()}) -----\n`
    const collect = (c: Buffer) => {
      output = (output + c.toString("utf8")).slice(-4_194_304)
    }
    proc.stdout?.on("data", collect)
    proc.stderr?.on("data", collect)
    exited = new Promise((resolve) => {
      proc.on("exit", (code, signal) => {
        output += `----- exit ${code ?? signal} -----\n`
        if (child === proc) child = undefined
        resolve()
      })
      proc.on("error", (e) => {
        output += `spawn error: ${e.message}\n`
        if (child === proc) child = undefined
        resolve()
      })
    })
  }

  const kill = async () => {
    const proc = child
    if (proc === undefined) return
    proc.kill("SIGKILL")
    await exited
    child = undefined
  }

  const wipe = async () => {
    if (child !== undefined) throw new Error(`peer ${sid} must be stopped before wiping`)
    for (const entry of await fs.readdir(dataDir)) {
      if (entry !== "myid") await fs.rm(path.join(dataDir, entry), { recursive: true, force: true })
    }
  }

  return {
    sid,
    kind,
    clientPort,
    connectString: `${host}:${clientPort}`,
    dataDir,
    pid: () => child?.pid,
    start,
    kill,
    wipe,
    mode: () => fourLetterWord(clientPort, "srvr", host, 1000).then(parseMode, () => undefined),
    output: () => output
  }
}
