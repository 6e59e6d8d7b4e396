/**
 * Starts an ensemble of real ezk processes (the built CLI, `ezk server --config zoo.cfg`) on free
 * loopback ports, for integration tests: N participants plus M observers, each with its own temp
 * dir holding zoo.cfg and data/myid. Peers are addressed by their sid (1..N+M, as in zoo.cfg);
 * observers get the highest sids.
 *
 * Readiness of a peer is its own log line: a learner logs "serving in epoch N", the leader
 * "serving epoch N". A restarted process starts with empty captured output, so the line seen is
 * always the current process's. Processes are SIGKILLed when the test worker exits, whatever happens.
 *
 * The readers at the end look at one peer at a time: a raw session on its client port, `sync`
 * first (so the peer has caught up with the leader), then the read.
 */
import { type ChildProcess, spawn } from "node:child_process"
import * as fs from "node:fs/promises"
import * as net from "node:net"
import * as os from "node:os"
import * as path from "node:path"
import { Err, Op } from "../../src/wire/Codes.js"
import { type PipelinedSession, startPipelinedSession } from "../interop/rawClient.js"
import { fourLetterWord } from "./apacheZk.js"
import { ezkAvailable, ezkCli, noEzkBuild } from "./ezkServer.js"
import { killOnExit } from "./children.js"

export { ezkAvailable, noEzkBuild }

/** Options of `startEnsemble`. */
export interface EnsembleOptions {
  /** Voting participants. Default 3. */
  readonly nodes?: number
  /** Observers (sids after the participants). Default 0. */
  readonly observers?: number
  /** Default 500 (with initLimit=10, syncLimit=5: 5 s to join, 2.5 s of silence to give up). */
  readonly tickTime?: number
  /** Extra zoo.cfg keys for every peer. */
  readonly config?: Readonly<Record<string, string | number | boolean>>
  /** How long `start`/`ready` wait for a peer to serve. Default 30000. */
  readonly startTimeoutMs?: number
}

/** One peer of the ensemble. */
export interface EnsemblePeer {
  readonly sid: number
  readonly observer: boolean
  readonly clientPort: number
  readonly quorumPort: number
  readonly electionPort: number
  /** `127.0.0.1:<clientPort>`. */
  readonly connectString: string
  /** Temp dir of this peer (zoo.cfg, data/). */
  readonly dir: string
  readonly dataDir: string
  /** Current process id, undefined while not running. */
  readonly pid: () => number | undefined
  /** Captured stdout+stderr of the current process (last 1 MiB). */
  readonly output: () => string
}

/** A running ensemble. */
export interface EzkEnsemble {
  readonly peers: ReadonlyArray<EnsemblePeer>
  readonly peer: (sid: number) => EnsemblePeer
  /** Client addresses of all participants (observers excluded), comma separated. */
  readonly connectString: string
  /** Client addresses of the given sids. */
  readonly connectStringOf: (sids: ReadonlyArray<number>) => string
  /** Sends a four-letter word to a peer's client port. */
  readonly fourLetterWord: (sid: number, cmd: string) => Promise<string>
  /** The `Mode:` of `srvr` (leader/follower/observer/standalone), undefined if it does not answer with one. */
  readonly mode: (sid: number) => Promise<string | undefined>
  /** Waits until exactly one running peer reports Mode leader and returns its sid. */
  readonly leader: (timeoutMs?: number) => Promise<number>
  /** Sids of running participants that are not the leader. */
  readonly followers: () => Promise<Array<number>>
  /** SIGKILL and wait for exit; data kept. */
  readonly kill9: (sid: number) => Promise<void>
  /** SIGTERM (SIGKILL after 5 s) and wait for exit; data kept. */
  readonly stop: (sid: number) => Promise<void>
  /** Starts a stopped peer again with the same config and data; waits until it serves unless `wait: false`. */
  readonly start: (sid: number, options?: { readonly wait?: boolean }) => Promise<void>
  /** Waits until the peer's current process logs that it serves. */
  readonly ready: (sid: number) => Promise<void>
  /** Waits until the current process's output matches `pattern`; returns the match. */
  readonly waitForLog: (sid: number, pattern: RegExp, timeoutMs?: number) => Promise<RegExpExecArray>
  /** Deletes a stopped peer's data dir except myid. */
  readonly wipe: (sid: number) => Promise<void>
  readonly running: (sid: number) => boolean
  /** Stops every peer and deletes the temp dirs. Idempotent. */
  readonly stopAll: () => Promise<void>
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
const SERVING = /serving (in )?epoch \d+/
const OUTPUT_LIMIT = 1 << 20

/**
 * A port that was free a moment ago, below Linux's ephemeral range (32768+). A port from the
 * ephemeral range (`listen(0)`) can be taken by the outgoing quorum/election connection of another
 * peer before its own peer binds it (seen: EADDRINUSE on an election port at start-up).
 * Each vitest worker draws from its own slice of 20000–31999 and never hands a port out twice: a
 * quorum port is bound only while its peer leads, so a port drawn again by another suite (the
 * probe sees it free) was once taken before its leader needed it, and the ensemble never formed.
 */
export const portBelowEphemeralRange = async (): Promise<number> => {
  for (;;) {
    const candidate = nextCandidate()
    const free = await new Promise<boolean>((resolve) => {
      const server = net.createServer()
      server.once("error", () => resolve(false))
      server.listen(candidate, "127.0.0.1", () => server.close(() => resolve(true)))
    })
    if (free) return candidate
  }
}

const SLICES = 4
const SLICE = 12_000 / SLICES
const slice = (Number(process.env.VITEST_POOL_ID ?? "1") - 1) % SLICES
const sliceStart = 20_000 + slice * SLICE
// A random start: runs outside vitest (bench, scripts) and successive test files in one worker spread out.
let cursor = Math.floor(Math.random() * SLICE)
const nextCandidate = (): number => sliceStart + (cursor++ % SLICE)

interface Slot {
  readonly peer: EnsemblePeer
  child: ChildProcess | undefined
  output: string
  exited: Promise<void>
  exitInfo: string | undefined
}

/** zoo.cfg of one peer: the shared server list plus its own dataDir and client port. */
const zooCfg = (
  options: EnsembleOptions,
  peer: EnsemblePeer,
  all: ReadonlyArray<Pick<EnsemblePeer, "sid" | "observer" | "quorumPort" | "electionPort" | "clientPort">>
): string => {
  const lines: Record<string, string | number | boolean> = {
    tickTime: options.tickTime ?? 500,
    initLimit: 10,
    syncLimit: 5,
    dataDir: peer.dataDir,
    clientPort: peer.clientPort,
    clientPortAddress: "127.0.0.1",
    "4lw.commands.whitelist": "*",
    maxClientCnxns: 0,
    ...(peer.observer ? { peerType: "observer" } : {}),
    ...options.config
  }
  const servers = all.map(
    (p) =>
      `server.${p.sid}=127.0.0.1:${p.quorumPort}:${p.electionPort}${p.observer ? ":observer" : ""};127.0.0.1:${p.clientPort}`
  )
  return [...Object.entries(lines).map(([k, v]) => `${k}=${v}`), ...servers, ""].join("\n")
}

/** Starts the ensemble and waits until every peer serves. */
export const startEnsemble = async (options: EnsembleOptions = {}): Promise<EzkEnsemble> => {
  if (!ezkAvailable()) throw new Error(`ezk CLI not built: ${ezkCli} missing (run npm run build)`)
  const nodes = options.nodes ?? 3
  const total = nodes + (options.observers ?? 0)
  const root = await fs.mkdtemp(path.join(os.tmpdir(), "ezk-ensemble-"))
  const startTimeoutMs = options.startTimeoutMs ?? 30_000

  const taken = new Set<number>()
  const port = async (): Promise<number> => {
    for (;;) {
      const p = await portBelowEphemeralRange()
      if (taken.has(p)) continue
      taken.add(p)
      return p
    }
  }
  const slots: Array<Slot> = []
  for (let sid = 1; sid <= total; sid++) {
    const dir = path.join(root, `node${sid}`)
    const dataDir = path.join(dir, "data")
    const clientPort = await port()
    const slot: Slot = {
      peer: {
        sid,
        observer: sid > nodes,
        clientPort,
        quorumPort: await port(),
        electionPort: await port(),
        connectString: `127.0.0.1:${clientPort}`,
        dir,
        dataDir,
        pid: () => slot.child?.pid,
        output: () => slot.output
      },
      child: undefined,
      output: "",
      exited: Promise.resolve(),
      exitInfo: undefined
    }
    slots.push(slot)
  }
  for (const { peer } of slots) {
    await fs.mkdir(peer.dataDir, { recursive: true })
    await fs.writeFile(path.join(peer.dataDir, "myid"), `${peer.sid}\n`)
    await fs.writeFile(path.join(peer.dir, "zoo.cfg"), zooCfg(options, peer, slots.map((s) => s.peer)))
  }

  const slotOf = (sid: number): Slot => {
    const slot = slots[sid - 1]
    if (slot === undefined) throw new Error(`no peer with sid ${sid}`)
    return slot
  }
  const isRunning = (slot: Slot) => slot.child !== undefined && slot.child.exitCode === null && slot.child.signalCode === null

  const spawnPeer = (slot: Slot) => {
    slot.output = ""
    slot.exitInfo = undefined
    const proc = spawn(process.execPath, [ezkCli, "server", "--config", path.join(slot.peer.dir, "zoo.cfg")], {
      cwd: slot.peer.dir,
      stdio: ["ignore", "pipe", "pipe"]
    })
    slot.child = proc
    killOnExit(proc)
    slot.exited = new Promise((resolve) => {
      const done = (info: string) => {
        slot.exitInfo = info
        resolve()
      }
      proc.on("exit", (code, signal) => done(signal !== null ? `signal ${signal}` : `code ${code}`))
      proc.on("error", (e) => done(`spawn error ${e.message}`))
    })
    const collect = (c: Buffer) => {
      if (slot.child === proc) slot.output = (slot.output + c.toString("utf8")).slice(-OUTPUT_LIMIT)
    }
    proc.stdout?.on("data", collect)
    proc.stderr?.on("data", collect)
  }

  const waitForLog = async (sid: number, pattern: RegExp, timeoutMs = startTimeoutMs): Promise<RegExpExecArray> => {
    const slot = slotOf(sid)
    const deadline = Date.now() + timeoutMs
    for (;;) {
      const m = pattern.exec(slot.output)
      if (m !== null) return m
      if (!isRunning(slot)) throw new Error(`peer ${sid} exited (${slot.exitInfo}) before logging ${pattern}:\n${slot.output}`)
      if (Date.now() > deadline) throw new Error(`peer ${sid} did not log ${pattern} within ${timeoutMs}ms:\n${slot.output}`)
      await sleep(25)
    }
  }

  const killWith = async (slot: Slot, signal: NodeJS.Signals) => {
    const proc = slot.child
    if (proc === undefined || !isRunning(slot)) return slot.exited
    proc.kill(signal)
    const done = await Promise.race([slot.exited.then(() => true), sleep(5000).then(() => false)])
    if (!done) {
      proc.kill("SIGKILL")
      await slot.exited
    }
  }

  const mode = async (sid: number): Promise<string | undefined> => {
    try {
      const reply = await fourLetterWord(slotOf(sid).peer.clientPort, "srvr")
      return /^Mode: (\S+)/m.exec(reply)?.[1]
    } catch {
      return undefined
    }
  }

  const leader = async (timeoutMs = startTimeoutMs): Promise<number> => {
    const deadline = Date.now() + timeoutMs
    let seen = ""
    for (;;) {
      const running = slots.filter(isRunning).map((s) => s.peer.sid)
      const modes = await Promise.all(running.map(async (sid) => [sid, await mode(sid)] as const))
      const leaders = modes.filter(([, m]) => m === "leader")
      if (leaders.length === 1) return leaders[0]![0]
      seen = modes.map(([sid, m]) => `${sid}:${m}`).join(" ")
      if (Date.now() > deadline) {
        const tails = slots.filter(isRunning).map((s) => `--- peer ${s.peer.sid} ---\n${s.output.slice(-4000)}`)
        throw new Error(`no single leader within ${timeoutMs}ms (modes ${seen})\n${tails.join("\n")}`)
      }
      await sleep(50)
    }
  }

  let stopped = false
  const stopAll = async () => {
    if (stopped) return
    stopped = true
    await Promise.all(slots.map((s) => killWith(s, "SIGTERM")))
    await fs.rm(root, { recursive: true, force: true })
  }

  const ensemble: EzkEnsemble = {
    peers: slots.map((s) => s.peer),
    peer: (sid) => slotOf(sid).peer,
    connectString: slots.filter((s) => !s.peer.observer).map((s) => s.peer.connectString).join(","),
    connectStringOf: (sids) => sids.map((sid) => slotOf(sid).peer.connectString).join(","),
    fourLetterWord: (sid, cmd) => fourLetterWord(slotOf(sid).peer.clientPort, cmd),
    mode,
    leader,
    followers: async () => {
      const lead = await leader()
      return slots.filter((s) => isRunning(s) && !s.peer.observer && s.peer.sid !== lead).map((s) => s.peer.sid)
    },
    kill9: (sid) => killWith(slotOf(sid), "SIGKILL"),
    stop: (sid) => killWith(slotOf(sid), "SIGTERM"),
    start: async (sid, startOptions = {}) => {
      if (stopped) throw new Error("ensemble was stopped")
      const slot = slotOf(sid)
      if (isRunning(slot)) throw new Error(`peer ${sid} is running`)
      spawnPeer(slot)
      if (startOptions.wait ?? true) await waitForLog(sid, SERVING)
    },
    ready: async (sid) => void (await waitForLog(sid, SERVING)),
    waitForLog,
    wipe: async (sid) => {
      const slot = slotOf(sid)
      if (isRunning(slot)) throw new Error(`peer ${sid} must be stopped before wiping`)
      for (const entry of await fs.readdir(slot.peer.dataDir)) {
        if (entry !== "myid") await fs.rm(path.join(slot.peer.dataDir, entry), { recursive: true, force: true })
      }
    },
    running: (sid) => isRunning(slotOf(sid)),
    stopAll
  }

  try {
    for (const slot of slots) spawnPeer(slot)
    await Promise.all(slots.map((s) => ensemble.ready(s.peer.sid)))
  } catch (e) {
    await stopAll()
    throw e
  }
  return ensemble
}

// ---------------------------------------------------------------------------------------------
// Reading peer by peer

export const openAcl = [{ perms: 31, id: { scheme: "world", id: "anyone" } }]
export const enc = (s: string) => new TextEncoder().encode(s)

/** Runs `body` with a session on peer `sid` after syncing `path`; closes the session. */
export const onPeer = async <A>(
  ensemble: EzkEnsemble,
  sid: number,
  path: string,
  body: (s: PipelinedSession) => Promise<A>
): Promise<A> => {
  const s = await startPipelinedSession(ensemble.peer(sid).clientPort, 10_000)
  try {
    const synced = await s.call({ type: Op.sync, path })
    if (synced.header.err !== 0) throw new Error(`sync ${path} on peer ${sid}: error ${synced.header.err}`)
    return await body(s)
  } finally {
    s.close()
  }
}

/** A znode's data as text on peer `sid` (after sync), undefined when it does not exist. */
export const dataOn = (ensemble: EzkEnsemble, sid: number, path: string): Promise<string | undefined> =>
  onPeer(ensemble, sid, path, async (s) => {
    const r = await s.call({ type: Op.getData, path, watch: false })
    if (r.header.err === Err.NoNode) return undefined
    if (r.response?.type !== "data") throw new Error(`getData ${path} on peer ${sid}: error ${r.header.err}`)
    return r.response.data === null ? "" : new TextDecoder().decode(r.response.data)
  })

/** A znode's children (sorted) on peer `sid` (after sync). */
export const childrenOn = (ensemble: EzkEnsemble, sid: number, path: string): Promise<Array<string>> =>
  onPeer(ensemble, sid, path, async (s) => {
    const r = await s.call({ type: Op.getChildren, path, watch: false })
    if (r.response?.type !== "children") throw new Error(`getChildren ${path} on peer ${sid}: error ${r.header.err}`)
    return [...r.response.children].sort()
  })

/** `dataOn` for every running peer, as `{ sid: data }`. */
export const dataEverywhere = async (ensemble: EzkEnsemble, path: string): Promise<Record<number, string | undefined>> => {
  const out: Record<number, string | undefined> = {}
  for (const p of ensemble.peers) if (ensemble.running(p.sid)) out[p.sid] = await dataOn(ensemble, p.sid, path)
  return out
}

/** `{ sid: value }` for every running peer, to compare with `dataEverywhere`. */
export const everywhere = <A>(ensemble: EzkEnsemble, value: A): Record<number, A> =>
  Object.fromEntries(ensemble.peers.filter((p) => ensemble.running(p.sid)).map((p) => [p.sid, value]))
