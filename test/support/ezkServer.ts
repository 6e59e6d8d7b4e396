/**
 * Starts the built ezk server (`node dist/cli/main.js server ...`) as a child process on a free
 * loopback port with its data in a temp dir, for integration tests — the counterpart of
 * apacheZk.ts with the same shape, plus what crash tests need: `kill9` (SIGKILL, data kept),
 * `start` again on the same port and data dir, and a `start({ wait: false })` that returns right
 * after spawning so a test can kill the server while it is still recovering.
 *
 * Readiness is the server's own log line `ezk serving on <host>:<port>` (logfmt on stdout or
 * stderr). The first start uses `--port 0` and takes the port from that line; later starts pass
 * that port explicitly so clients can reconnect to the same address.
 */
import { type ChildProcess, spawn } from "node:child_process"
import { existsSync } from "node:fs"
import * as fs from "node:fs/promises"
import * as os from "node:os"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { fourLetterWord } from "./apacheZk.js"
import { killOnExit } from "./children.js"
import { missingTool } from "./requireTool.js"

/** The built CLI; override with EZK_CLI (e.g. to test an installed package). */
export const ezkCli: string =
  process.env.EZK_CLI ?? path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../bin/ezk.cjs")

/** True when the CLI has been built (`npx tsc -p tsconfig.build.json`). */
export const ezkAvailable = (): boolean => existsSync(ezkCli)

/** True when the CLI is not built and its tests should skip (a failure under CI=true, see requireTool). */
export const noEzkBuild = (): boolean => missingTool("the built ezk CLI (dist/)", ezkAvailable(), "npm run build")

/** Options of `startEzk`. */
export interface EzkOptions {
  /** `--tick-time`. Default 2000, as the zoo.cfg apacheZk.ts writes. */
  readonly tickTime?: number
  /** Extra config as zoo.cfg keys, passed as `--set key=value` (same keys as ApacheZkOptions.config). */
  readonly config?: Readonly<Record<string, string | number | boolean>>
  /** `--4lw-whitelist`. Default `*`, as apacheZk.ts does (unless config sets 4lw.commands.whitelist). */
  readonly fourLetterWordWhitelist?: string
  /** `--extended-types` (TTL nodes). Default true, as apacheZk.ts enables them too. */
  readonly extendedTypes?: boolean
  /** Further raw CLI arguments after ours. */
  readonly args?: ReadonlyArray<string>
  /** How long to wait for the "serving" line. Default 30000. */
  readonly startTimeoutMs?: number
  /** Data dir to use instead of a fresh temp one (not removed by `stop`). */
  readonly dataDir?: string
}

/** A running (or killed, restartable) ezk server. */
export interface EzkServer {
  readonly host: string
  readonly port: number
  /** `127.0.0.1:<port>`. */
  readonly connectString: string
  /** Temp dir holding data/. Removed by `stop`. */
  readonly dir: string
  readonly dataDir: string
  /** Current process id (changes after `start`), undefined while not running. */
  readonly pid: () => number | undefined
  /** Sends a four-letter word and returns the reply text. */
  readonly fourLetterWord: (cmd: string) => Promise<string>
  /** SIGTERM (SIGKILL after 5 s) and wait for exit; data kept. */
  readonly kill: () => Promise<void>
  /** SIGKILL and wait for exit; data kept. */
  readonly kill9: () => Promise<void>
  /**
   * Starts the process again on the same port and data dir (stopping a running one first with
   * SIGTERM). With `wait: false` it returns once spawned; `ready()` then waits for serving.
   */
  readonly start: (options?: { readonly wait?: boolean }) => Promise<void>
  /** Waits until the current process logs that it serves (or fails if it exits first). */
  readonly ready: () => Promise<void>
  /** Stops the process and deletes the temp dir. Idempotent. */
  readonly stop: () => Promise<void>
  /** Captured stdout/stderr of the current process (last 64 KiB). */
  readonly output: () => string
  /** Exit code / signal of the last process that ended, for failure messages. */
  readonly lastExit: () => string | undefined
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

const SERVING = /ezk serving on (\S+?):(\d+)/

/** Starts ezk on a free loopback port; resolves once it logs that it serves. */
export const startEzk = async (options: EzkOptions = {}): Promise<EzkServer> => {
  if (!ezkAvailable()) throw new Error(`ezk CLI not built: ${ezkCli} missing (run npx tsc -p tsconfig.build.json)`)
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), "ezk-server-"))
  const dataDir = options.dataDir ?? path.join(dir, "data")
  await fs.mkdir(dataDir, { recursive: true })

  const baseArgs = (port: number): Array<string> => [
    ezkCli,
    "server",
    "--host",
    "127.0.0.1",
    "--port",
    String(port),
    "--data-dir",
    dataDir,
    "--tick-time",
    String(options.tickTime ?? 2000),
    // Flags beat --set, so a whitelist given as config must not be overridden by our default.
    ...(options.config?.["4lw.commands.whitelist"] === undefined
      ? ["--4lw-whitelist", options.fourLetterWordWhitelist ?? "*"]
      : []),
    ...((options.extendedTypes ?? true) ? ["--extended-types"] : []),
    // maxClientCnxns=0 (unlimited) as apacheZk.ts writes it: tests open many connections from 127.0.0.1.
    ...Object.entries({ maxClientCnxns: 0, ...options.config }).flatMap(([k, v]) => ["--set", `${k}=${v}`]),
    ...(options.args ?? [])
  ]

  let port = 0
  let child: ChildProcess | undefined
  let output = ""
  let exited: Promise<void> = Promise.resolve()
  let exitInfo: string | undefined
  let servingSeen: Promise<void> = Promise.resolve()

  const spawnServer = () => {
    output = ""
    exitInfo = undefined
    const proc = spawn(process.execPath, baseArgs(port), { cwd: dir, stdio: ["ignore", "pipe", "pipe"] })
    child = proc
    killOnExit(proc)
    let onServing: () => void = () => {}
    let onFailed: (e: Error) => void = () => {}
    servingSeen = new Promise<void>((resolve, reject) => {
      onServing = resolve
      onFailed = reject
    })
    // Not every caller waits (start({ wait: false }) then kill9): never an unhandled rejection.
    servingSeen.catch(() => {})
    exited = new Promise((resolve) => {
      const done = (info: string) => {
        exitInfo = info
        onFailed(new Error(`ezk exited (${info}) before serving on port ${port || "0"}:\n${output}`))
        resolve()
      }
      proc.on("exit", (code, signal) => done(signal !== null ? `signal ${signal}` : `code ${code}`))
      proc.on("error", (e) => {
        output += `spawn error: ${e.message}\n`
        done(`spawn error ${e.message}`)
      })
    })
    let lineBuffer = ""
    const collect = (c: Buffer) => {
      const text = c.toString("utf8")
      output = (output + text).slice(-65536)
      lineBuffer = (lineBuffer + text).slice(-4096)
      const m = SERVING.exec(lineBuffer)
      if (m !== null) {
        const seen = Number(m[2])
        if (port === 0) port = seen
        if (seen === port) onServing()
        else onFailed(new Error(`ezk serves on ${seen}, expected ${port}:\n${output}`))
        lineBuffer = ""
      }
    }
    proc.stdout?.on("data", collect)
    proc.stderr?.on("data", collect)
  }

  const ready = async () => {
    const timeoutMs = options.startTimeoutMs ?? 30_000
    let timer: NodeJS.Timeout | undefined
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`ezk did not log "ezk serving on" within ${timeoutMs}ms:\n${output}`)),
        timeoutMs
      )
    })
    try {
      await Promise.race([servingSeen, timeout])
    } finally {
      clearTimeout(timer)
    }
  }

  const killWith = async (signal: NodeJS.Signals) => {
    const proc = child
    child = undefined
    if (proc === undefined || proc.exitCode !== null || proc.signalCode !== null) {
      await exited
      return
    }
    proc.kill(signal)
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
    await killWith("SIGTERM")
    // A caller-supplied dataDir lives outside `dir` and stays.
    await fs.rm(dir, { recursive: true, force: true })
  }

  try {
    spawnServer()
    await ready()
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
    kill: () => killWith("SIGTERM"),
    kill9: () => killWith("SIGKILL"),
    start: async (startOptions = {}) => {
      if (stopped) throw new Error("server was stopped")
      await killWith("SIGTERM")
      spawnServer()
      if (startOptions.wait ?? true) await ready()
    },
    ready,
    stop,
    output: () => output,
    lastExit: () => exitInfo
  }
}
