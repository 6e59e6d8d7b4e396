/**
 * Drives the real ZooKeeper clients from the Debian packages as a user would: zkCli.sh (Java) with
 * commands on stdin, cli_mt (C) fed line by line with small delays, and Python scripts using kazoo
 * (run by Debian's /usr/bin/python3, where python3-kazoo installs). Every helper bounds its run
 * time and kills the child on timeout, so a hung server cannot hang the suite.
 */
import { spawn } from "node:child_process"
import { existsSync } from "node:fs"
import * as fs from "node:fs/promises"
import * as os from "node:os"
import * as path from "node:path"
import { missingTool } from "../support/requireTool.js"

export const zkCliPath = process.env.ZKCLI ?? "/usr/share/zookeeper/bin/zkCli.sh"
export const cliMtPath = process.env.CLI_MT ?? "/usr/lib/zookeeper/bin/cli_mt"
/** Debian's interpreter: python3-kazoo installs into its dist-packages, not into e.g. a pyenv python. */
export const debianPython = process.env.KAZOO_PYTHON ?? "/usr/bin/python3"

/** Result of a finished child process. */
export interface RunResult {
  readonly code: number | null
  readonly signal: NodeJS.Signals | null
  readonly stdout: string
  readonly stderr: string
  readonly timedOut: boolean
}

/** Runs a command with optional stdin (string, or timed chunks), bounded by `timeoutMs`. */
export const run = (
  command: string,
  args: ReadonlyArray<string>,
  options: {
    readonly input?: string | ReadonlyArray<{ readonly text: string; readonly delayMs: number }>
    readonly timeoutMs?: number
    readonly env?: Readonly<Record<string, string>>
    readonly cwd?: string
  } = {}
): Promise<RunResult> =>
  new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      stdio: ["pipe", "pipe", "pipe"],
      env: { ...process.env, ...options.env },
      ...(options.cwd !== undefined ? { cwd: options.cwd } : {})
    })
    let stdout = ""
    let stderr = ""
    let timedOut = false
    const timers: Array<NodeJS.Timeout> = []
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString("utf8")))
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString("utf8")))
    // A child that exits early closes stdin; later writes must not crash the test.
    child.stdin.on("error", () => {})
    const kill = setTimeout(() => {
      timedOut = true
      child.kill("SIGKILL")
    }, options.timeoutMs ?? 30_000)
    child.on("error", (e) => {
      clearTimeout(kill)
      for (const t of timers) clearTimeout(t)
      reject(e)
    })
    child.on("close", (code, signal) => {
      clearTimeout(kill)
      for (const t of timers) clearTimeout(t)
      resolve({ code, signal, stdout, stderr, timedOut })
    })
    const input = options.input
    if (input === undefined) child.stdin.end()
    else if (typeof input === "string") child.stdin.end(input)
    else {
      let at = 0
      for (const chunk of input) {
        at += chunk.delayMs
        timers.push(setTimeout(() => child.stdin.write(chunk.text), at))
      }
      timers.push(setTimeout(() => child.stdin.end(), at + 50))
    }
  })

// ---------------------------------------------------------------------------------------------
// zkCli.sh

/** True when zkCli.sh is missing: its tests skip (CI=true: the file fails). */
export const noZkCli = (): boolean => missingTool("zkCli.sh", existsSync(zkCliPath), "apt-get install zookeeper")

/** A watch event as zkCli prints it (`WatchedEvent state:S type:T path:P`). */
export interface CliWatchEvent {
  readonly state: string
  readonly type: string
  readonly path: string
}

/** What one zkCli run printed. `steps[i]` is the output of `commands[i]` without watch events. */
export interface ZkCliResult {
  readonly output: string
  readonly steps: ReadonlyArray<ReadonlyArray<string>>
  readonly events: ReadonlyArray<CliWatchEvent>
}

const STEP_MARK = "/__zkcli_step_"

/**
 * Runs zkCli.sh with `commands` on stdin (one session) and splits its merged stdout+stderr per
 * command: after each command a marker `ls /__zkcli_step_<i>` is sent, which prints
 * `Node does not exist: /__zkcli_step_<i>`; zkCli runs stdin commands one after another, so
 * everything between two markers belongs to one command. Watch events arrive on another thread at
 * any point, so they are pulled out into `events`.
 */
export const zkCli = async (
  connectString: string,
  commands: ReadonlyArray<string>,
  timeoutMs = 30_000,
  /** Extra client JVM flags, e.g. `-Djava.security.auth.login.config=<jaas>` for SASL. */
  jvmFlags: ReadonlyArray<string> = []
): Promise<ZkCliResult> => {
  const input = commands.map((c, i) => `${c}\nls ${STEP_MARK}${i}\n`).join("") + "quit\n"
  // sh merges stderr into stdout so the lines keep their order (Java flushes on each println).
  const result = await run("sh", ["-c", 'exec "$0" "$@" 2>&1', zkCliPath, "-server", connectString], {
    input,
    timeoutMs,
    env: {
      // Client JVM start-up dominates each run; C1 only and a small heap start fastest.
      CLIENT_JVMFLAGS: ["-XX:TieredStopAtLevel=1 -XX:+UseSerialGC -Xmx128m -Djava.net.preferIPv4Stack=true", ...jvmFlags].join(" ")
    }
  })
  const output = result.stdout + result.stderr
  if (result.timedOut) throw new Error(`zkCli.sh timed out after ${timeoutMs}ms:\n${output}`)
  const events: Array<CliWatchEvent> = []
  const steps: Array<Array<string>> = commands.map(() => [])
  let current = 0 // the banner lands in step 0 and is filtered below
  const lines = output.split("\n").map((l) => l.replace(/\r$/, ""))
  for (const line of lines) {
    const event = /^WatchedEvent state:(\S+) type:(\S+) path:(\S+)$/.exec(line)
    if (event !== null) {
      events.push({ state: event[1]!, type: event[2]!, path: event[3]! })
      continue
    }
    if (line === "WATCHER::" || line.trim() === "") continue
    if (/^SLF4J:/.test(line) || /^\s+at /.test(line)) continue
    const mark = new RegExp(`^Node does not exist: ${STEP_MARK}(\\d+)$`).exec(line)
    if (mark !== null) {
      current = Number(mark[1]) + 1
      continue
    }
    if (current >= commands.length) continue // after the last marker: quit's output
    steps[current]!.push(line)
  }
  // The banner ("Connecting to", "Welcome to ZooKeeper!", "JLine support is disabled") lands in step 0.
  const banner = /^(Connecting to |Welcome to ZooKeeper!|JLine support is)/
  if (steps.length > 0) steps[0] = steps[0]!.filter((l) => !banner.test(l))
  // The watcher thread's println can land inside a list zkCli is printing ("[", event, "a, b]"):
  // the event was taken out above; join the list's pieces again.
  for (let i = 0; i < steps.length; i++) steps[i] = joinSplitLists(steps[i]!)
  const marks = [...output.matchAll(new RegExp(`Node does not exist: ${STEP_MARK}(\\d+)`, "g"))].length
  if (marks !== commands.length) {
    throw new Error(`zkCli.sh printed ${marks} of ${commands.length} step markers (exit ${result.code}):\n${output}`)
  }
  return { output, steps, events }
}

const joinSplitLists = (lines: ReadonlyArray<string>): Array<string> => {
  const out: Array<string> = []
  for (const line of lines) {
    const prev = out[out.length - 1]
    if (prev !== undefined && prev.startsWith("[") && !prev.endsWith("]")) out[out.length - 1] = prev + line
    else out.push(line)
  }
  return out
}

/** zkCli's `stat` block (`cZxid = 0x..`, ...) from a step's lines. */
export const parseCliStat = (lines: ReadonlyArray<string>): Record<string, string> => {
  const stat: Record<string, string> = {}
  for (const line of lines) {
    const m = /^(\w+) = (.*)$/.exec(line)
    if (m !== null) stat[m[1]!] = m[2]!
  }
  return stat
}

/** zkCli's `ls` line `[a, b, c]` as a sorted list (the server's child order is unspecified). */
export const parseCliList = (line: string | undefined): Array<string> => {
  const m = /^\[(.*)\]$/.exec(line ?? "")
  if (m === null) throw new Error(`not a zkCli list: ${JSON.stringify(line)}`)
  return m[1] === "" ? [] : m[1]!.split(", ").sort()
}

// ---------------------------------------------------------------------------------------------
// cli_mt

/** True when cli_mt is missing: its tests skip (CI=true: the file fails). */
export const noCliMt = (): boolean => missingTool("cli_mt", existsSync(cliMtPath), "apt-get install zookeeper-bin")

/** A watcher callback line of cli_mt: `Watcher CHANGED_EVENT state = CONNECTED_STATE for path /x`. */
export interface CliMtEvent {
  readonly type: string
  readonly state: string
  readonly path: string | undefined
}

/** What one cli_mt run printed; `steps[i]` are the lines belonging to `commands[i]`. */
export interface CliMtResult {
  readonly output: string
  readonly steps: ReadonlyArray<ReadonlyArray<string>>
  readonly events: ReadonlyArray<CliMtEvent>
}

const MT_MARK = "/__climt_step_"

/**
 * Drives cli_mt (one session) the way a person at the prompt would: it waits for the session to
 * connect, then sends one command followed by a marker `ls /__climt_step_<i>` and waits until the
 * marker's answer (`/__climt_step_<i>: rc = -101`) has printed before typing the next command.
 * cli_mt prints some lines from its main thread (`Creating [..] node`, the synchronous exists's
 * `Error <rc> for <path>`) and completions from its completion thread, in reply order — so
 * everything between two markers belongs to one command. Timing lines (`time = N msec`) and blank
 * lines are dropped; watcher lines (printed whenever they arrive) go to `events`.
 */
export const cliMt = (connectString: string, commands: ReadonlyArray<string>, stepTimeoutMs = 10_000): Promise<CliMtResult> =>
  new Promise((resolve, reject) => {
    const child = spawn("sh", ["-c", 'exec "$0" "$@" 2>&1', cliMtPath, connectString], { stdio: ["pipe", "pipe", "pipe"] })
    child.stdin.on("error", () => {})
    let output = ""
    let waitingFor: RegExp | undefined
    let onSeen: () => void = () => {}
    let timer: NodeJS.Timeout | undefined
    let failed = false
    const fail = (why: string) => {
      if (failed) return
      failed = true
      clearTimeout(timer)
      child.kill("SIGKILL")
      reject(new Error(`cli_mt: ${why}\n--- output ---\n${output}`))
    }
    const check = () => {
      if (waitingFor !== undefined && waitingFor.test(output)) {
        waitingFor = undefined
        clearTimeout(timer)
        onSeen()
      }
    }
    const waitFor = (re: RegExp, what: string) =>
      new Promise<void>((res) => {
        waitingFor = re
        onSeen = res
        timer = setTimeout(() => fail(`no ${what} within ${stepTimeoutMs}ms`), stepTimeoutMs)
        check()
      })
    const collect = (d: Buffer) => {
      output += d.toString("utf8")
      check()
    }
    child.stdout.on("data", collect)
    child.stderr.on("data", collect)
    child.on("error", (e) => fail(e.message))
    const exited = new Promise<void>((res) => child.on("close", () => res()))

    const drive = async () => {
      // The watcher prints "Watcher SESSION_EVENT state = CONNECTED_STATE", its newline and then
      // "Got a new session id" in pieces; typing before it is done would splice lines together.
      await waitFor(/Got a new session id: \S+\n/, "session")
      for (let i = 0; i < commands.length && !failed; i++) {
        child.stdin.write(`${commands[i]}\nls ${MT_MARK}${i}\n`)
        await waitFor(new RegExp(`^${MT_MARK}${i}: rc = -101$`, "m"), `marker after \`${commands[i]}\``)
      }
      child.stdin.end("quit\n")
      const quit = setTimeout(() => child.kill("SIGKILL"), 5000)
      await exited
      clearTimeout(quit)
    }
    drive().then(
      () => {
        if (failed) return
        const steps: Array<Array<string>> = commands.map(() => [])
        const events: Array<CliMtEvent> = []
        let current = 0
        for (const line of output.split("\n")) {
          const event = /^Watcher (\w+) state = (\w+)(?: for path (\S+))?$/.exec(line)
          if (event !== null) {
            events.push({ type: event[1]!, state: event[2]!, path: event[3] })
            continue
          }
          const mark = new RegExp(`^${MT_MARK}(\\d+): rc = -101$`).exec(line)
          if (mark !== null) {
            current = Number(mark[1]) + 1
            continue
          }
          if (line.trim() === "" || /^time = -?\d+ msec$/.test(line) || /^Got a new session id/.test(line)) continue
          if (current < commands.length) steps[current]!.push(line)
        }
        resolve({ output, steps, events })
      },
      (e) => fail(String(e))
    )
  })

// ---------------------------------------------------------------------------------------------
// Python (kazoo)

/** True when Debian's python with kazoo is missing: its tests skip (CI=true: the file fails). */
export const noKazoo = (): boolean =>
  missingTool("kazoo", existsSync(debianPython) && existsSync("/usr/lib/python3/dist-packages/kazoo"), "apt-get install python3-kazoo")

/** Writes `script` to a temp file, runs it with `args`, and parses the last stdout line as JSON. */
export const runPython = async (script: string, args: ReadonlyArray<string>, timeoutMs = 60_000): Promise<unknown> => {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), "ezk-py-"))
  try {
    const file = path.join(dir, "script.py")
    await fs.writeFile(file, script)
    const result = await run(debianPython, [file, ...args], { timeoutMs, env: { PYTHONDONTWRITEBYTECODE: "1" } })
    const lines = result.stdout.trim().split("\n")
    const last = lines[lines.length - 1] ?? ""
    if (result.timedOut || result.code !== 0 || !last.startsWith("{")) {
      throw new Error(
        `python exited ${result.code}${result.timedOut ? " (timed out)" : ""}\nstdout:\n${result.stdout}\nstderr:\n${result.stderr.slice(-8000)}`
      )
    }
    return JSON.parse(last)
  } finally {
    await fs.rm(dir, { recursive: true, force: true })
  }
}
