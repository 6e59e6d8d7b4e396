/**
 * Helpers shared by the end-to-end suites: temp dirs that are removed after the file, raw
 * request/reply calls over rawClient.ts connections, polling, and running the ezk CLI as a plain
 * child process (for start-up failures and output checks that startEzk's readiness wait cannot see).
 */
import { type ChildProcess, spawn } from "node:child_process"
import { mkdtempSync, rmSync, writeFileSync } from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import {
  readReplyHeader,
  readResponse,
  readWatcherEvent,
  type ReplyHeader,
  type Request,
  type Response,
  type WatcherEvent
} from "../../src/wire/ClientRecords.js"
import { Op } from "../../src/wire/Codes.js"
import { JuteReader } from "../../src/wire/Jute.js"
import { openSession, type RawConnection, rawRequestFrame, requestFrame } from "../interop/rawClient.js"
import { ezkCli } from "../support/ezkServer.js"

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

export const enc = (s: string): Uint8Array => new TextEncoder().encode(s)
export const dec = (b: Uint8Array | null): string | null => (b === null ? null : new TextDecoder().decode(b))

export const openAcl = [{ perms: 31, id: { scheme: "world", id: "anyone" } }]

const tempDirs: Array<string> = []
/** A temp dir removed by {@link removeTempDirs} (call it from afterAll). */
export const tempDir = (prefix: string): string => {
  const dir = mkdtempSync(path.join(os.tmpdir(), `ezk-e2e-${prefix}-`))
  tempDirs.push(dir)
  return dir
}
export const removeTempDirs = (): void => {
  for (const d of tempDirs.splice(0)) rmSync(d, { recursive: true, force: true })
}

/** Writes `text` to `name` in a fresh temp dir and returns its path (synchronous: usable at module load). */
export const tempFile = (name: string, text: string): string => {
  const file = path.join(tempDir("file"), name)
  writeFileSync(file, text)
  return file
}

let counter = 0
/** A top-level path no other test of the run uses. */
export const uniquePath = (name: string): string => `/${name}-${process.pid}-${Date.now().toString(36)}-${counter++}`

/** Polls `check` every `everyMs` until it is true; fails with `what` after `timeoutMs`. */
export const waitUntil = async (check: () => boolean | Promise<boolean>, timeoutMs: number, what: string, everyMs = 50): Promise<number> => {
  const started = Date.now()
  while (Date.now() - started < timeoutMs) {
    if (await check()) return Date.now() - started
    await sleep(everyMs)
  }
  throw new Error(`${what}: not reached within ${timeoutMs}ms`)
}

/**
 * A raw session for sequential request/reply exchanges: `call` sends one request and waits for its
 * reply; notifications that arrive meanwhile are kept for `nextEvent`. It never pings, so a test
 * controls exactly when the server last heard from it.
 */
export interface RawSession {
  readonly conn: RawConnection
  readonly sessionId: bigint
  readonly passwd: Uint8Array
  readonly timeOut: number
  readonly call: (request: Request, timeoutMs?: number) => Promise<{ header: ReplyHeader; response: Response | undefined }>
  /** The next watch notification (queued or still to come). */
  readonly nextEvent: (timeoutMs?: number) => Promise<WatcherEvent>
  /** Sends a ping (its reply is skipped by `call`/`nextEvent`). */
  readonly ping: () => void
  readonly close: () => void
}

/** Opens a connection and a new session; see {@link RawSession}. */
export const rawSession = async (port: number, timeoutMs = 10_000): Promise<RawSession> => {
  const { conn, session } = await openSession(port, { timeoutMs })
  if (session.timeOut <= 0) throw new Error("server refused the session")
  return wrapSession(conn, session.sessionId, session.passwd, session.timeOut)
}

const wrapSession = (conn: RawConnection, sessionId: bigint, passwd: Uint8Array, timeOut: number): RawSession => {
  let xid = 0
  const events: Array<WatcherEvent> = []
  /** Reads frames until one that is not a ping reply; notifications go to `events`. */
  const nextNonPing = async (timeoutMs: number, wantEvent: boolean) => {
    for (;;) {
      if (wantEvent && events.length > 0) return undefined
      const f = await conn.nextFrame(timeoutMs)
      const r = new JuteReader(f)
      const header = readReplyHeader(r)
      if (header.xid === -2) continue
      if (header.xid === -1) {
        events.push(readWatcherEvent(r))
        continue
      }
      return { header, r }
    }
  }
  return {
    conn,
    sessionId,
    passwd,
    timeOut,
    call: async (request, timeoutMs = 5000) => {
      xid++
      conn.write(requestFrame(xid, request))
      const got = await nextNonPing(timeoutMs, false)
      if (got === undefined) throw new Error("unreachable")
      if (got.header.xid !== xid) throw new Error(`reply xid ${got.header.xid}, expected ${xid}`)
      return { header: got.header, response: got.header.err === 0 ? readResponse(got.r, request.type) : undefined }
    },
    nextEvent: async (timeoutMs = 5000) => {
      const got = await nextNonPing(timeoutMs, true)
      if (got !== undefined) throw new Error(`unexpected reply xid ${got.header.xid} while waiting for an event`)
      return events.shift()!
    },
    ping: () => conn.write(rawRequestFrame(-2, Op.ping)),
    close: () => conn.destroy()
  }
}

/** One request on a raw connection with nothing else in flight: its reply header and decoded body. */
export const call = async (
  conn: RawConnection,
  xid: number,
  request: Request,
  timeoutMs = 5000
): Promise<{ header: ReplyHeader; response: Response | undefined }> => {
  conn.write(requestFrame(xid, request))
  for (;;) {
    const f = await conn.nextFrame(timeoutMs)
    const r = new JuteReader(f)
    const header = readReplyHeader(r)
    if (header.xid === -1 || header.xid === -2) continue // notifications / pings
    if (header.xid !== xid) throw new Error(`reply xid ${header.xid}, expected ${xid}`)
    return { header, response: header.err === 0 ? readResponse(r, request.type) : undefined }
  }
}

/** Resolves when the server has closed `conn`; rejects after `timeoutMs`. */
export const closedWithin = (conn: RawConnection, timeoutMs: number, what = "connection"): Promise<void> =>
  Promise.race([
    conn.closed,
    new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`${what} still open after ${timeoutMs}ms`)), timeoutMs))
  ])

/** How an ezk CLI process ended and what it printed. */
export interface CliRun {
  readonly code: number | null
  readonly signal: NodeJS.Signals | null
  readonly stdout: string
  readonly stderr: string
  /** From spawn to exit. */
  readonly ms: number
}

/** An ezk CLI child process. */
export interface EzkProcess {
  readonly pid: number | undefined
  readonly stdout: () => string
  readonly stderr: () => string
  readonly exited: Promise<CliRun>
  readonly kill: (signal: NodeJS.Signals) => void
}

const children = new Set<ChildProcess>()
process.on("exit", () => {
  for (const c of children) c.kill("SIGKILL")
})

/** Spawns `node bin/ezk.cjs <args>`; SIGKILLed after `timeoutMs` (then `exited` reports the signal). */
export const spawnEzk = (args: ReadonlyArray<string>, timeoutMs = 15_000): EzkProcess => {
  const started = Date.now()
  const child = spawn(process.execPath, [ezkCli, ...args], { stdio: ["ignore", "pipe", "pipe"] })
  children.add(child)
  let stdout = ""
  let stderr = ""
  child.stdout.on("data", (d: Buffer) => (stdout += d.toString("utf8")))
  child.stderr.on("data", (d: Buffer) => (stderr += d.toString("utf8")))
  const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs)
  const exited = new Promise<CliRun>((resolve, reject) => {
    child.on("error", (e) => {
      clearTimeout(timer)
      children.delete(child)
      reject(e)
    })
    child.on("close", (code, signal) => {
      clearTimeout(timer)
      children.delete(child)
      resolve({ code, signal, stdout, stderr, ms: Date.now() - started })
    })
  })
  return { pid: child.pid, stdout: () => stdout, stderr: () => stderr, exited, kill: (signal) => void child.kill(signal) }
}

/** Runs `ezk <args>` to its end. */
export const runEzk = (args: ReadonlyArray<string>, timeoutMs = 15_000): Promise<CliRun> => spawnEzk(args, timeoutMs).exited

/** Non-empty lines of a text. */
export const lines = (text: string): Array<string> => text.split("\n").filter((l) => l.trim() !== "")
