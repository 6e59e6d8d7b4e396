/**
 * `npm run chaos`: the simulation's workload and checkers against real processes. Starts a 3- or
 * 5-node ensemble of ezk or Apache ZooKeeper 3.8 on loopback (test/support/mixedEnsemble.ts, one
 * harness for both), runs the sim's workload (src/sim/Workload.ts: several sessions of the
 * project's Effect client over TCP, creates, blind and versioned setData, reads with and without
 * sync, multi, ephemerals, a recursive watch per session) while a seeded nemesis kill -9s, SIGSTOPs
 * and restarts a minority of the peers; then heals, waits until every peer serves at the same zxid,
 * and reconstructs each peer's committed sequence from its data dir after stopping it (both write
 * ZooKeeper's txn-log format, read by src/storage/TxnLog.ts). The history goes to a file
 * (src/sim/HistoryFile.ts) and is checked from that file, exactly as `ezk check-history` would.
 *
 * Real time and real processes: a run is not replayable; the seed fixes the nemesis schedule and the
 * clients' choices, not the interleaving.
 */
import { Effect, Random } from "effect"
import * as fs from "node:fs/promises"
import * as os from "node:os"
import * as path from "node:path"
import { layerNode } from "../src/disk/Disk.js"
import { makePrng } from "../src/net/internal/prng.js"
import * as Tcp from "../src/net/Tcp.js"
import { type Socket, TransportError, type TransportService } from "../src/net/Transport.js"
import * as ZooKeeper from "../src/client/ZooKeeper.js"
import * as CheckHistory from "../src/sim/CheckHistory.js"
import type { CommittedTxn, LeaderSighting, PeerFinal } from "../src/sim/Checkers.js"
import * as History from "../src/sim/History.js"
import { decode } from "../src/sim/Run.js"
import * as Workload from "../src/sim/Workload.js"
import { directories } from "../src/storage/Storage.js"
import * as TxnLog from "../src/storage/TxnLog.js"
import { Op } from "../src/wire/Codes.js"
import { readTxnEntry } from "../src/wire/TxnRecords.js"
import * as Zxid from "../src/wire/Zxid.js"
import { apacheZkAvailable, fourLetterWord } from "../test/support/apacheZk.js"
import { ezkAvailable } from "../test/support/ezkServer.js"
import { type MixedEnsemble, type MixedPeer, parseMode, startMixedEnsemble } from "../test/support/mixedEnsemble.js"

export type Target = "ezk" | "zookeeper"

export interface ChaosOptions {
  readonly target: Target
  readonly nodes: number
  /** Length of the fault phase. */
  readonly seconds: number
  readonly seed: number
  /** Where the history file goes (default: a temp file). */
  readonly out?: string
  readonly sessions?: number
  readonly keys?: number
  readonly log?: (line: string) => void
}

export interface ChaosResult {
  readonly target: Target
  readonly nodes: number
  readonly seconds: number
  readonly seed: number
  readonly kills: number
  readonly pauses: number
  readonly report: CheckHistory.Report
  readonly historyFile: string
  readonly wallMs: number
}

const SESSION_TIMEOUT_MS = 4000
const OP_TIMEOUT_MS = 10_000
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/** True when the target's server can be started here (ezk: dist/ built; zookeeper: the Debian jar). */
export const targetAvailable = (target: Target): boolean => (target === "ezk" ? ezkAvailable() : apacheZkAvailable())

const srvr = async (p: MixedPeer): Promise<{ readonly mode: string | undefined; readonly zxid: number | null }> => {
  const text = await fourLetterWord(p.clientPort, "srvr", "127.0.0.1", 1000).catch(() => "")
  const z = /^Zxid: (0x[0-9a-f]+)/m.exec(text)?.[1]
  return { mode: parseMode(text), zxid: z === undefined ? null : parseInt(z.slice(2), 16) }
}

/** The epoch a serving peer is in: its currentEpoch file (a leader's zxid stays in the old epoch until its first txn). */
const currentEpoch = async (p: MixedPeer, zxid: number): Promise<number> => {
  const text = await fs.readFile(path.join(directories({ dataDir: p.dataDir }).snapDir, "currentEpoch"), "utf8").catch(() => "")
  const n = parseInt(text.trim(), 10)
  return Number.isFinite(n) ? n : Zxid.epochOf(zxid)
}

/** The seeded nemesis: every 1-3 s, kill -9 or SIGSTOP a healthy peer (the leader half the time), never more than a minority at once. */
const nemesis = (ens: MixedEnsemble, seed: number, note: (text: string) => void) => {
  const random = makePrng(seed ^ 0x5eed)
  const faulty = new Map<number, { readonly kind: "killed" | "paused"; readonly until: number }>()
  const counts = { kills: 0, pauses: 0 }
  const pick = <A>(xs: ReadonlyArray<A>): A => xs[Math.floor(random() * xs.length)]!
  const minority = Math.floor((ens.peers.length - 1) / 2)

  const recover = async (p: MixedPeer) => {
    const f = faulty.get(p.sid)
    if (f === undefined) return
    faulty.delete(p.sid)
    if (f.kind === "paused") {
      const pid = p.pid()
      if (pid !== undefined) process.kill(pid, "SIGCONT")
      note(`nemesis SIGCONT peer ${p.sid}`)
    } else {
      await p.start()
      note(`nemesis restart peer ${p.sid}`)
    }
  }

  const step = async () => {
    const now = Date.now()
    for (const p of ens.peers) if ((faulty.get(p.sid)?.until ?? Infinity) <= now) await recover(p)
    if (faulty.size >= minority) return
    const healthy = ens.peers.filter((p) => !faulty.has(p.sid) && p.pid() !== undefined)
    const modes = await Promise.all(healthy.map((p) => p.mode()))
    const leader = healthy.find((_, i) => modes[i] === "leader")
    const victim = leader !== undefined && random() < 0.5 ? leader : pick(healthy)
    const role = victim === leader ? "leader" : "peer"
    if (random() < 0.5) {
      counts.kills++
      faulty.set(victim.sid, { kind: "killed", until: now + 1000 + random() * 3000 })
      await victim.kill()
      note(`nemesis kill -9 ${role} ${victim.sid}`)
    } else {
      counts.pauses++
      faulty.set(victim.sid, { kind: "paused", until: now + 1000 + random() * 4000 })
      const pid = victim.pid()
      if (pid !== undefined) process.kill(pid, "SIGSTOP")
      note(`nemesis SIGSTOP ${role} ${victim.sid}`)
    }
  }

  return {
    counts,
    /** Sids of the SIGSTOPped peers (they cannot answer `srvr`). */
    paused: (): ReadonlySet<number> => new Set([...faulty].filter(([, f]) => f.kind === "paused").map(([sid]) => sid)),
    run: async (untilMs: number) => {
      for (;;) {
        await sleep(1000 + random() * 2000)
        if (Date.now() >= untilMs) return
        await step()
      }
    },
    heal: async () => {
      for (const p of ens.peers) await recover(p)
    }
  }
}

/**
 * The clients' TCP, per worker, with a switch that cuts a worker off from every server: when the
 * workload stops, each client vanishes before its session closes (as in the simulation), so the
 * ensemble must expire every session and delete its ephemerals.
 */
const vanishingClients = () => {
  const cut = new Set<number>()
  const sockets = new Map<number, Set<Socket>>()
  return {
    transportFor: (w: number): TransportService => ({
      listen: Tcp.transport.listen,
      resolve: Tcp.transport.resolve,
      connect: (o) =>
        cut.has(w)
          ? Effect.fail(new TransportError({ reason: "Refused", address: `${o.host}:${o.port}`, detail: "client vanished" }))
          : Effect.tap(Tcp.transport.connect(o), (socket) => Effect.sync(() => void sockets.set(w, (sockets.get(w) ?? new Set()).add(socket))))
    }),
    vanish: (w: number) => {
      cut.add(w)
      for (const socket of sockets.get(w) ?? []) socket.destroy()
    }
  }
}

/** Polls `srvr` on every live peer: each leader seen, with its epoch. */
const watchLeaders = (ens: MixedEnsemble, startMs: number, paused: () => ReadonlySet<number>) => {
  const sightings: Array<LeaderSighting> = []
  let running = true
  const done = (async () => {
    while (running) {
      for (const p of ens.peers) {
        if (p.pid() === undefined || paused().has(p.sid)) continue
        const s = await srvr(p)
        if (s.mode !== "leader" || s.zxid === null) continue
        const epoch = await currentEpoch(p, s.zxid)
        const last = sightings.findLast((x) => x.sid === p.sid)
        if (last?.epoch !== epoch) sightings.push({ epoch, sid: p.sid, atMs: Date.now() - startMs })
      }
      await sleep(250)
    }
  })()
  return { sightings, stop: async () => ((running = false), await done) }
}

/** Waits until every peer serves at the same last zxid (twice in a row); returns it. */
const converge = async (ens: MixedEnsemble, timeoutMs: number): Promise<{ readonly zxid: number | null; readonly why: string | null }> => {
  const deadline = Date.now() + timeoutMs
  let last = ""
  let seen: ReadonlyArray<{ readonly mode: string | undefined; readonly zxid: number | null }> = []
  while (Date.now() < deadline) {
    seen = await Promise.all(ens.peers.map(srvr))
    const zxids = new Set(seen.map((s) => s.zxid))
    const key = JSON.stringify(seen)
    if (seen.every((s) => s.mode !== undefined) && zxids.size === 1 && key === last) return { zxid: seen[0]!.zxid, why: null }
    last = key
    await sleep(500)
  }
  return { zxid: null, why: `not converged ${timeoutMs} ms after heal: ${seen.map((s, i) => `${ens.peers[i]!.sid}:${s.mode ?? "down"}@${s.zxid === null ? "?" : Zxid.toHex(s.zxid)}`).join(" ")}` }
}

/** What one peer serves on the keys and the root's children: compared between peers at equal zxids. */
const fingerprint = (p: MixedPeer, keys: number) =>
  Effect.scoped(Effect.gen(function* () {
    const zk = yield* ZooKeeper.make({ connectString: p.connectString, sessionTimeoutMs: SESSION_TIMEOUT_MS })
    const parts: Array<string> = [(yield* zk.getChildren("/")).filter((c) => c !== "zookeeper").sort().join(",")]
    for (let i = 0; i < keys; i++) {
      const got = yield* zk.getData(Workload.keyPath(i)).pipe(Effect.option)
      parts.push(got._tag === "None" ? "-" : `${new TextDecoder().decode(got.value.data ?? new Uint8Array())}@${got.value.stat.version}/${Zxid.toHex(got.value.stat.mzxid)}`)
    }
    return parts.join("|")
  }))

/** Ephemerals (`/e-…`) still present once every client vanished: their sessions must expire within the timeout. */
const ephemeralsLeft = (ens: MixedEnsemble, waitMs: number) =>
  Effect.scoped(Effect.gen(function* () {
    const zk = yield* ZooKeeper.make({ connectString: ens.peers.map((p) => p.connectString).join(","), sessionTimeoutMs: SESSION_TIMEOUT_MS })
    const deadline = Date.now() + waitMs
    for (;;) {
      yield* zk.sync("/")
      const left = (yield* zk.getChildren("/")).filter((c) => c.startsWith(Workload.EPHEMERAL_PREFIX.slice(1)))
      if (left.length === 0 || Date.now() > deadline) return left.map((c) => `/${c}`)
      yield* Effect.sleep(500)
    }
  }))

/**
 * A logged txn as the checkers compare it between peers: its bytes, except that a failed multi is
 * compared by its header, sub-txn count and digest. ZooKeeper 3.8's leader may log the sub-txns
 * before the failing one with type error (the apply marks them in the shared record) while its
 * followers log their original types; either way nothing of the multi applies.
 */
const comparable = (zxid: number, entry: Uint8Array): CommittedTxn => {
  const t = decode(zxid, entry)
  const e = readTxnEntry(entry)
  if (e.txn.type !== Op.multi || !e.txn.txns.some((s) => s.type === Op.error)) return t
  const digest = e.digest === null ? "none" : `${e.digest.version}:${e.digest.hi}:${e.digest.lo}`
  return { ...t, bytes: `${t.bytes.slice(0, TXN_HEADER_BYTES * 2)} failed multi of ${e.txn.txns.length} digest ${digest}` }
}
const TXN_HEADER_BYTES = 32

/** A stopped peer's committed sequence, from its data dir. */
const peerFinal = (p: MixedPeer, lastZxid: number, digest: string) =>
  Effect.gen(function* () {
    const { snapDir, logDir } = directories({ dataDir: p.dataDir })
    const raw = yield* TxnLog.readFrom(logDir, 0)
    const snapshots = (yield* Effect.promise(() => fs.readdir(snapDir).catch(() => []))).flatMap((f) => {
      const m = /^snapshot\.([0-9a-f]+)$/.exec(f)
      return m === null ? [] : [parseInt(m[1]!, 16)]
    })
    return { sid: p.sid, lastProcessedZxid: lastZxid, digest, hasDigest: true, snapshots, log: raw.map((t) => comparable(t.zxid, t.entry)) } satisfies PeerFinal & { hasDigest: boolean }
  }).pipe(Effect.provide(layerNode))

export const runChaos = async (options: ChaosOptions): Promise<ChaosResult> => {
  const log = options.log ?? ((line: string) => console.log(line))
  const wallStart = Date.now()
  const keys = options.keys ?? 4
  const ens = await startMixedEnsemble({
    peers: Array.from({ length: options.nodes }, (_, i) => ({ sid: i + 1, kind: options.target === "ezk" ? "ezk" : "zk" })),
    tickTime: 500
  })
  try {
    await ens.ready()
    const history = History.empty()
    const startMs = Date.now()
    const note = (text: string) => {
      History.note(history, Date.now() - startMs, text)
      log(`${((Date.now() - startMs) / 1000).toFixed(1)}s ${text}`)
    }
    const chaos = nemesis(ens, options.seed, note)
    const leaders = watchLeaders(ens, startMs, chaos.paused)
    let stopped = false
    const clients = vanishingClients()
    const workload = Effect.runPromise(
      Workload.run(history, {
        sessions: options.sessions ?? 5,
        keys,
        connectString: ens.peers.map((p) => p.connectString).join(","),
        transportFor: clients.transportFor,
        vanish: clients.vanish,
        startMs,
        stopped: () => stopped,
        sessionTimeoutMs: SESSION_TIMEOUT_MS,
        opTimeoutMs: OP_TIMEOUT_MS,
        thinkMs: 20,
        watch: true
      }).pipe(Effect.withRandom(Random.make(options.seed)))
    )
    note(`faults for ${options.seconds} s (seed ${options.seed}, ${options.target}, ${options.nodes} nodes)`)
    await chaos.run(startMs + options.seconds * 1000)
    await chaos.heal()
    note("heal: every peer up and running")
    await ens.ready().catch(() => undefined)
    await sleep(2000)
    stopped = true
    await workload
    note("workload ended, clients vanished")
    const left = await Effect.runPromise(ephemeralsLeft(ens, SESSION_TIMEOUT_MS + 10_000))
    const converged = await converge(ens, 30_000)
    note(converged.why ?? `converged at ${Zxid.toHex(converged.zxid!)}`)
    await leaders.stop()
    const digests = await Promise.all(ens.peers.map((p) => Effect.runPromise(fingerprint(p, keys)).catch((e) => `unreadable: ${e}`)))
    const finals: Array<PeerFinal & { hasDigest: boolean }> = []
    for (const [i, p] of ens.peers.entries()) {
      await p.kill()
      if (converged.zxid !== null) finals.push(await Effect.runPromise(peerFinal(p, converged.zxid, digests[i]!)))
    }
    const text = CheckHistory.serialize({ history, peers: finals, leaders: leaders.sightings, notConverged: converged.why, ephemeralsLeft: left })
    const historyFile = options.out ?? path.join(os.tmpdir(), `ezk-chaos-${options.target}-${options.seed}-${process.pid}.jsonl`)
    await fs.writeFile(historyFile, text)
    // Checked from the file's text, as `ezk check-history` reads it.
    const report = CheckHistory.checkHistory(CheckHistory.parse(text))
    // The servers' own logs of an INVALID run, for the post-mortem.
    if (!report.valid) await fs.writeFile(`${historyFile}.logs`, ens.logs())
    return { target: options.target, nodes: options.nodes, seconds: options.seconds, seed: options.seed, ...chaos.counts, report, historyFile, wallMs: Date.now() - wallStart }
  } catch (e) {
    log(ens.logs().slice(-20_000))
    throw e
  } finally {
    await ens.stop()
  }
}

export const formatResult = (r: ChaosResult): string =>
  `${r.report.valid ? "VALID" : "INVALID"} ${r.target}: ${r.nodes} nodes, ${r.seconds} s of faults (seed ${r.seed}), ${r.kills} kill -9, ${r.pauses} SIGSTOP, ${(r.wallMs / 1000).toFixed(1)} s wall; history ${r.historyFile}\n${CheckHistory.formatReport(r.report)}`
