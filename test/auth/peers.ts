/**
 * Runs the reference DIGEST-MD5 implementations (JDK via SaslPeer.java, Python puresasl as kazoo
 * drives it) as child processes speaking hex token lines, so tests can pit them against ours.
 */
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from "node:child_process"
import { existsSync, mkdtempSync, copyFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { createInterface } from "node:readline"
import { fileURLToPath } from "node:url"

const here = fileURLToPath(new URL(".", import.meta.url))

/** A line-oriented child process. */
export interface Peer {
  readonly send: (line: string) => void
  /** The next stdout line; rejects when the process exits first or after `timeoutMs`. */
  readonly next: (timeoutMs?: number) => Promise<string>
  readonly close: () => void
  readonly stderr: () => string
}

export const startPeer = (command: string, args: ReadonlyArray<string>): Peer => {
  const child: ChildProcessWithoutNullStreams = spawn(command, args, { stdio: ["pipe", "pipe", "pipe"] })
  const lines: Array<string> = []
  const waiters: Array<(line: string | null) => void> = []
  let ended = false
  let err = ""
  child.stderr.on("data", (d: Buffer) => {
    err += d.toString()
  })
  const rl = createInterface({ input: child.stdout })
  rl.on("line", (line) => {
    const w = waiters.shift()
    if (w) w(line)
    else lines.push(line)
  })
  rl.on("close", () => {
    ended = true
    for (const w of waiters.splice(0)) w(null)
  })
  return {
    send: (line) => {
      child.stdin.write(line + "\n")
    },
    next: (timeoutMs = 20_000) =>
      new Promise<string>((resolve, reject) => {
        const queued = lines.shift()
        if (queued !== undefined) return resolve(queued)
        if (ended) return reject(new Error(`${command} exited; stderr:\n${err}`))
        const timer = setTimeout(() => reject(new Error(`${command}: no output within ${timeoutMs} ms; stderr:\n${err}`)), timeoutMs)
        waiters.push((line) => {
          clearTimeout(timer)
          if (line === null) reject(new Error(`${command} exited; stderr:\n${err}`))
          else resolve(line)
        })
      }),
    close: () => {
      child.stdin.end()
      child.kill()
    },
    stderr: () => err
  }
}

export const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString("hex")
export const unhex = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, "hex"))
export const hexText = (s: string): string => Buffer.from(s, "utf8").toString("hex")

// ---------------------------------------------------------------------------------------------
// Java

/** The ZooKeeper jar (and slf4j) shipped by Debian; used for ZooKeeper's own callback handlers. */
const zkJars = ["/usr/share/java/zookeeper.jar", "/usr/share/java/slf4j-api.jar"]

export interface JavaPeers {
  readonly classDir: string
  /** Classpath with ZooKeeper's jar when installed. */
  readonly classpath: string
  readonly hasZooKeeperJar: boolean
}

/** Compile SaslPeer.java into a temp dir; a string says why Java cannot be used. */
export const compileJava = (): JavaPeers | string => {
  const probe = spawnSync("javac", ["-version"], { encoding: "utf8" })
  if (probe.error !== undefined || probe.status !== 0) return "javac not found (install a JDK, e.g. openjdk-17-jdk-headless)"
  const classDir = mkdtempSync(join(tmpdir(), "ezk-sasl-"))
  copyFileSync(join(here, "SaslPeer.java"), join(classDir, "SaslPeer.java"))
  const hasZooKeeperJar = zkJars.every((j) => existsSync(j))
  const classpath = hasZooKeeperJar ? [classDir, ...zkJars].join(":") : classDir
  const compiled = spawnSync("javac", ["-d", classDir, join(classDir, "SaslPeer.java")], { encoding: "utf8" })
  if (compiled.status !== 0) throw new Error(`javac failed:\n${compiled.stderr}`)
  return { classDir, classpath, hasZooKeeperJar }
}

export const startJava = (
  java: JavaPeers,
  args: ReadonlyArray<string>,
  properties: Readonly<Record<string, string>> = {}
): Peer =>
  startPeer("java", [
    ...Object.entries(properties).map(([k, v]) => `-D${k}=${v}`),
    "-cp",
    java.classpath,
    "SaslPeer",
    ...args
  ])

// ---------------------------------------------------------------------------------------------
// Python puresasl, driven like kazoo's ConnectionHandler._authenticate_with_sasl

const kazooLoop = `
import sys
from puresasl.client import SASLClient
user, password = bytes.fromhex(sys.argv[1]).decode(), bytes.fromhex(sys.argv[2]).decode()
# kazoo: sasl_options + service='zookeeper'; host is forced to 'zk-sasl-md5' for DIGEST-MD5.
cli = SASLClient(host='zk-sasl-md5', service='zookeeper', mechanism='DIGEST-MD5', username=user, password=password)
challenge = None
while True:
    if cli.complete:
        break
    try:
        response = cli.process(challenge=challenge)
    except Exception as err:
        print('ERROR', type(err).__name__, err, flush=True)
        sys.exit(0)
    if cli.complete and not response:
        break
    elif response is None:
        response = b''
    print('TOKEN', response.hex(), flush=True)
    line = sys.stdin.readline()
    if not line:
        sys.exit(0)
    challenge = bytes.fromhex(line.strip())
print('COMPLETE', flush=True)
`

/** A python3 that can import puresasl (Debian's, when a pyenv shim shadows it), or why not. */
export const findPuresasl = (): string | { readonly skip: string } => {
  for (const py of ["python3", "/usr/bin/python3"]) {
    const r = spawnSync(py, ["-c", "import puresasl"], { encoding: "utf8" })
    if (r.error === undefined && r.status === 0) return py
  }
  return { skip: "python3 with puresasl not found (Debian: python3-pure-sasl, pulled in by python3-kazoo)" }
}

export const startPuresasl = (python: string, user: string, password: string): Peer =>
  startPeer(python, ["-c", kazooLoop, hexText(user), hexText(password)])
