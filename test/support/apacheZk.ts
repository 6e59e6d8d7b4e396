/**
 * Starts a real Apache ZooKeeper 3.8 standalone server (the Debian package) on a free loopback
 * port in a temp dir, for integration tests. Use either the plain async functions (vitest
 * `beforeAll`/`afterAll`) or the scoped Effect `apacheZk`.
 *
 * The JVM is launched directly (`java -cp <conf>:/usr/share/java/zookeeper.jar
 * org.apache.zookeeper.server.ZooKeeperServerMain zoo.cfg`), which is what zkServer.sh
 * `start-foreground` ends up running, minus Debian's fixed log/pid locations. Readiness is
 * `ruok` → `imok` and then `conf` reporting our own dataDir (it only answers once the server is
 * serving, and a stranger on the port is never mistaken for our server).
 */
import { type ChildProcess, spawn } from "node:child_process"
import { existsSync } from "node:fs"
import * as fs from "node:fs/promises"
import * as net from "node:net"
import * as os from "node:os"
import * as path from "node:path"
import { Effect, type Scope } from "effect"
import { killOnExit } from "./children.js"
import { missingTool } from "./requireTool.js"

/** Options of `startApacheZk`. */
export interface ApacheZkOptions {
  /** zoo.cfg tickTime. Default 2000 (sessions: 4000..40000 ms). */
  readonly tickTime?: number
  /** Extra zoo.cfg lines (override the defaults written by this helper). */
  readonly config?: Readonly<Record<string, string | number | boolean>>
  /** Extra JVM flags, appended after ours and after $SERVER_JVMFLAGS / $JVMFLAGS. */
  readonly jvmFlags?: ReadonlyArray<string>
  /** How long to wait for `imok`. Default 30000. */
  readonly startTimeoutMs?: number
}

/** A running server. */
export interface ApacheZk {
  readonly host: string
  readonly port: number
  /** `127.0.0.1:<port>`. */
  readonly connectString: string
  /** Temp dir holding zoo.cfg and data/. Removed by `stop`. */
  readonly dir: string
  readonly dataDir: string
  /** Current JVM pid (changes after `restart`). */
  readonly pid: () => number | undefined
  /** Sends a four-letter word and returns the reply text. */
  readonly fourLetterWord: (cmd: string) => Promise<string>
  /** Stops the JVM (SIGTERM, then SIGKILL) and keeps data; `start` brings it back on the same port. */
  readonly kill: () => Promise<void>
  /** Starts the JVM again with the same config and data (sessions survive if within their timeout). */
  readonly start: () => Promise<void>
  /** Stops the JVM and deletes the temp dir. Idempotent. */
  readonly stop: () => Promise<void>
  /** Captured stdout/stderr of the current JVM (last 64 KiB). */
  readonly output: () => string
}

/** Where the Debian package puts the server jar (its manifest Class-Path pulls in the rest). */
export const zookeeperJar = process.env.ZK_JAR ?? "/usr/share/java/zookeeper.jar"

/** True when Apache ZooKeeper and java look installed, so suites can `skipIf(!available)`. */
export const apacheZkAvailable = (): boolean => existsSync(zookeeperJar)

/** True when the jar is missing and its tests should skip (a failure under CI=true, see requireTool). */
export const noApacheZk = (): boolean =>
  missingTool("Apache ZooKeeper 3.8 (zookeeper.jar)", apacheZkAvailable(), "apt-get install zookeeper")

/** A TCP port that was free on 127.0.0.1 a moment ago. */
export const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const server = net.createServer()
    server.unref()
    server.on("error", reject)
    server.listen(0, "127.0.0.1", () => {
      const address = server.address()
      const port = typeof address === "object" && address !== null ? address.port : 0
      server.close(() => resolve(port))
    })
  })

/** Sends a four-letter word (ruok, srvr, mntr, ...) and collects the reply until the server closes. */
export const fourLetterWord = (port: number, cmd: string, host = "127.0.0.1", timeoutMs = 2000): Promise<string> =>
  new Promise((resolve, reject) => {
    const socket = net.connect({ host, port })
    const chunks: Array<Buffer> = []
    const timer = setTimeout(() => {
      socket.destroy()
      reject(new Error(`${cmd}: no reply from ${host}:${port} within ${timeoutMs}ms`))
    }, timeoutMs)
    socket.on("connect", () => socket.end(cmd))
    socket.on("data", (c: Buffer) => chunks.push(c))
    socket.on("error", (e) => {
      clearTimeout(timer)
      reject(e)
    })
    socket.on("close", () => {
      clearTimeout(timer)
      resolve(Buffer.concat(chunks).toString("utf8"))
    })
  })

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

const envFlags = (): Array<string> =>
  [process.env.SERVER_JVMFLAGS, process.env.JVMFLAGS].flatMap((s) => (s ?? "").split(/\s+/)).filter((s) => s !== "")

/** Starts a standalone Apache ZooKeeper on a free port; resolves once it answers `imok`. */
export const startApacheZk = async (options: ApacheZkOptions = {}): Promise<ApacheZk> => {
  if (!apacheZkAvailable()) throw new Error(`Apache ZooKeeper not found at ${zookeeperJar} (apt install zookeeper)`)
  let lastError: unknown
  // A free port can be taken between probing and binding; retry with a new one.
  for (let tries = 0; tries < 3; tries++) {
    const port = await freePort()
    try {
      return await startOn(port, options)
    } catch (e) {
      lastError = e
    }
  }
  throw lastError
}

const startOn = async (port: number, options: ApacheZkOptions): Promise<ApacheZk> => {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), "ezk-apache-zk-"))
  const dataDir = path.join(dir, "data")
  await fs.mkdir(dataDir)
  const config: Record<string, string | number | boolean> = {
    tickTime: options.tickTime ?? 2000,
    dataDir,
    clientPort: port,
    clientPortAddress: "127.0.0.1",
    "4lw.commands.whitelist": "*",
    "admin.enableServer": false,
    // Tests open many connections from 127.0.0.1; 0 = unlimited.
    maxClientCnxns: 0,
    ...options.config
  }
  const cfgPath = path.join(dir, "zoo.cfg")
  await fs.writeFile(cfgPath, Object.entries(config).map(([k, v]) => `${k}=${v}`).join("\n") + "\n")
  const args = [
    "-Xmx256m",
    "-XX:+UseSerialGC",
    "-XX:TieredStopAtLevel=1",
    "-Djava.net.preferIPv4Stack=true",
    "-Dzookeeper.extendedTypesEnabled=true",
    "-Dzookeeper.admin.enableServer=false",
    // Test data need not survive a power cut; fsync makes every write slow.
    "-Dzookeeper.forceSync=no",
    ...envFlags(),
    ...(options.jvmFlags ?? []),
    "-cp",
    `${dir}:${zookeeperJar}`,
    "org.apache.zookeeper.server.ZooKeeperServerMain",
    cfgPath
  ]

  let child: ChildProcess | undefined
  let output = ""
  let exited: Promise<void> = Promise.resolve()

  const launch = async () => {
    output = ""
    const proc = spawn(process.env.JAVA ?? "java", args, { cwd: dir, stdio: ["ignore", "pipe", "pipe"] })
    child = proc
    killOnExit(proc)
    let exitCode: number | null | undefined
    exited = new Promise((resolve) => {
      proc.on("exit", (code) => {
        exitCode = code
        resolve()
      })
      proc.on("error", (e) => {
        output += `spawn error: ${e.message}\n`
        exitCode = -1
        resolve()
      })
    })
    const collect = (c: Buffer) => {
      output = (output + c.toString("utf8")).slice(-65536)
    }
    proc.stdout?.on("data", collect)
    proc.stderr?.on("data", collect)

    const deadline = Date.now() + (options.startTimeoutMs ?? 30_000)
    while (Date.now() < deadline) {
      if (exitCode !== undefined) throw new Error(`ZooKeeper exited with ${exitCode} before serving on ${port}:\n${output}`)
      const reply = await fourLetterWord(port, "ruok", "127.0.0.1", 1000).catch(() => "")
      if (reply === "imok") {
        // `ruok` answers as soon as the JVM listens; `conf` only once the server is serving.
        const conf = await fourLetterWord(port, "conf", "127.0.0.1", 2000).catch(() => "")
        if (conf.includes(dataDir)) return
        if (conf.includes("dataDir=")) throw new Error(`port ${port} is served by another ZooKeeper:\n${conf}`)
      }
      await sleep(100)
    }
    throw new Error(`ZooKeeper did not answer imok on ${port} within ${options.startTimeoutMs ?? 30_000}ms:\n${output}`)
  }

  const kill = async () => {
    const proc = child
    child = undefined
    if (proc === undefined || proc.exitCode !== null || proc.signalCode !== null) return
    proc.kill("SIGTERM")
    const done = await Promise.race([exited.then(() => true), sleep(5000).then(() => false)])
    if (!done) {
      proc.kill("SIGKILL")
      await exited
    }
  }

  let stopped = false
  const stop = async () => {
    if (stopped) return
    stopped = true
    await kill()
    await fs.rm(dir, { recursive: true, force: true })
  }

  try {
    await launch()
  } catch (e) {
    await stop()
    throw e
  }

  return {
    host: "127.0.0.1",
    port,
    connectString: `127.0.0.1:${port}`,
    dir,
    dataDir,
    pid: () => child?.pid,
    fourLetterWord: (cmd) => fourLetterWord(port, cmd),
    kill,
    start: async () => {
      if (stopped) throw new Error("server was stopped")
      await kill()
      await launch()
    },
    stop,
    output: () => output
  }
}

/** Stops a server started by `startApacheZk` (same as `zk.stop()`). */
export const stopApacheZk = (zk: ApacheZk): Promise<void> => zk.stop()

/** The server as a scoped resource: started on acquire, stopped when the Scope closes. */
export const apacheZk = (options: ApacheZkOptions = {}): Effect.Effect<ApacheZk, Error, Scope.Scope> =>
  Effect.acquireRelease(
    Effect.tryPromise({ try: () => startApacheZk(options), catch: (e) => (e instanceof Error ? e : new Error(String(e))) }),
    (zk) => Effect.promise(() => zk.stop())
  )
