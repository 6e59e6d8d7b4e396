/**
 * Durability under kill -9. Several sessions pipeline creates and setData calls as fast as the
 * socket takes them; the server is SIGKILLed at a random moment mid-stream, restarted on the same
 * data dir, and the recovered tree is compared with what was acknowledged:
 *
 *  - every write whose success reply arrived is there, with its value;
 *  - nothing holds a value that was never written;
 *  - per session, the surviving writes are exactly a prefix of what it issued (a session's
 *    requests are applied in order and the log is replayed as a prefix), so there are no holes,
 *    and each counter node holds the last value written within that prefix, at the matching version;
 *  - what one restart recovered, every later restart recovers too;
 *  - after recovery new writes get zxids above every acknowledged one.
 *
 * A small snapCount makes snapshots happen during the load, so recovery is snapshot + log tail.
 * ezk is also killed while it is still starting up / replaying its log. ZooKeeper runs the same
 * rounds as a check of the test itself (its helper sets forceSync=no, which is fine here: a killed
 * process loses nothing the kernel already has; this is about writing before acknowledging).
 * The random schedule comes from CRASH_SEED (printed) so a failing run can be replayed.
 */
import { assert, it } from "@effect/vitest"
import { describeTargets, type TargetServer } from "../support/targets.js"
import { Op } from "../../src/wire/Codes.js"
import { type PipelinedSession, startPipelinedSession } from "./rawClient.js"

const WRITERS = 4
/** Requests in flight per session. */
const WINDOW = 256
const COUNTERS = 3
const ROUNDS = 3

const openAcl = [{ perms: 31, id: { scheme: "world", id: "anyone" } }]
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
const enc = (s: string) => new TextEncoder().encode(s)
const dec = (b: Uint8Array | null) => (b === null ? null : new TextDecoder().decode(b))

/** mulberry32: a small seeded PRNG, so a failing schedule can be replayed with CRASH_SEED. */
const prng = (seed: number) => () => {
  seed = (seed + 0x6d2b79f5) | 0
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed)
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296
}

type WriteOp =
  | { readonly kind: "create"; readonly path: string; readonly value: string }
  | { readonly kind: "set"; readonly path: string; readonly value: string; readonly counter: number; readonly seq: number }

/** Everything one writer session issued, and which of it was acknowledged. */
interface WriterLog {
  readonly prefix: string
  readonly counters: ReadonlyArray<string>
  readonly ops: Array<WriteOp>
  readonly acked: Array<boolean>
  readonly ackZxid: Array<number>
  /** Replies with an error code (none expected). */
  readonly errors: Array<string>
  /** Highest applied op index found by the first verification after its crash (-1: none). */
  settled: number | undefined
}

const padding = (i: number) => "x".repeat((i * 37) % 160)

/** The i-th op of a writer: mostly creates of distinct nodes, every 5th a setData on a counter. */
const nextOp = (log: WriterLog, i: number, counterSeq: Array<number>): WriteOp => {
  if (i % 5 === 4) {
    const counter = Math.floor(i / 5) % COUNTERS
    const seq = ++counterSeq[counter]!
    return { kind: "set", path: log.counters[counter]!, value: `${log.counters[counter]}=v${seq}`, counter, seq }
  }
  const path = `${log.prefix}/n${i}`
  return { kind: "create", path, value: `${path}#${padding(i)}` }
}

/** Creates the writer's parent and counters (acknowledged before the load starts). */
const setUpWriter = async (s: PipelinedSession, prefix: string): Promise<WriterLog> => {
  const counters = Array.from({ length: COUNTERS }, (_, c) => `${prefix}-c${c}`)
  for (const [path, value] of [[prefix, ""], ...counters.map((c) => [c, `${c}=v0`] as const)] as const) {
    const r = await s.call({ type: Op.create, path, data: enc(value), acl: openAcl, flags: 0, ttl: -1 })
    if (r.header.err !== 0) throw new Error(`setting up ${path}: err ${r.header.err}`)
  }
  return { prefix, counters, ops: [], acked: [], ackZxid: [], errors: [], settled: undefined }
}

/** Pipelines writes until `stopped()` or the connection dies; returns when every reply is in or lost. */
const runWriter = async (s: PipelinedSession, log: WriterLog, stopped: () => boolean) => {
  const counterSeq = Array.from({ length: COUNTERS }, () => 0)
  const inflight: Array<Promise<void>> = []
  try {
    for (let i = 0; !stopped() && !s.conn.isClosed(); i++) {
      const op = nextOp(log, i, counterSeq)
      log.ops.push(op)
      log.acked.push(false)
      log.ackZxid.push(0)
      const request =
        op.kind === "create"
          ? { type: Op.create, path: op.path, data: enc(op.value), acl: openAcl, flags: 0, ttl: -1 }
          : { type: Op.setData, path: op.path, data: enc(op.value), version: -1 }
      inflight.push(
        s.call(request).then((r) => {
          if (r.header.err !== 0) log.errors.push(`${op.kind} ${op.path}: err ${r.header.err}`)
          else {
            log.acked[i] = true
            log.ackZxid[i] = r.header.zxid
          }
        })
      )
      if (inflight.length >= WINDOW) await inflight.shift()
    }
  } catch {
    // The connection died under us (the kill): everything still pending is unacknowledged.
  }
  await Promise.allSettled(inflight)
}

/**
 * Reads back every writer's subtree and checks it against the logs; returns the problems found
 * (empty = consistent). Sets `settled` on first sight and checks it on later ones.
 */
const verify = async (server: TargetServer, logs: ReadonlyArray<WriterLog>): Promise<Array<string>> => {
  const s = await startPipelinedSession(server.port)
  const problems: Array<string> = []
  try {
    for (const log of logs) {
      const kids = await s.call({ type: Op.getChildren, path: log.prefix, watch: false })
      const response = kids.response
      if (response?.type !== "children") {
        problems.push(`${log.prefix}: getChildren err ${kids.header.err}`)
        continue
      }
      const opIndex = new Map<string, number>()
      log.ops.forEach((op, i) => op.kind === "create" && opIndex.set(op.path, i))
      const existing = new Set(response.children.map((c) => `${log.prefix}/${c}`))
      let applied = -1
      for (const path of existing) {
        const i = opIndex.get(path)
        if (i === undefined) problems.push(`${path} exists but was never created`)
        else applied = Math.max(applied, i)
      }
      // Values of every node that exists or must exist, and of the counters.
      const toRead = [...new Set([...existing, ...log.ops.filter((op, i) => op.kind === "create" && log.acked[i]).map((op) => op.path)])]
      const reads = await Promise.all(
        [...toRead, ...log.counters].map((path) => s.call({ type: Op.getData, path, watch: false }).then((r) => [path, r] as const))
      )
      const data = new Map<string, { value: string | null; version: number } | undefined>()
      for (const [path, r] of reads) {
        data.set(path, r.response?.type === "data" ? { value: dec(r.response.data), version: r.response.stat.version } : undefined)
      }
      // Counter values: which set op (by seq) is in effect.
      const setIndex = new Map<string, number>()
      log.ops.forEach((op, i) => op.kind === "set" && setIndex.set(`${op.path} ${op.seq}`, i))
      const counterSeq: Array<number> = []
      log.counters.forEach((c, ci) => {
        const d = data.get(c)
        const m = d?.value === null || d === undefined ? null : new RegExp(`^${c}=v(\\d+)$`).exec(d.value)
        if (d === undefined || m === null) {
          problems.push(`counter ${c}: ${d === undefined ? "missing" : `holds ${JSON.stringify(d.value)}, never written`}`)
          counterSeq[ci] = -1
          return
        }
        const seq = Number(m[1])
        counterSeq[ci] = seq
        if (d.version !== seq) problems.push(`counter ${c} holds v${seq} at version ${d.version}`)
        if (seq > 0) {
          const i = setIndex.get(`${c} ${seq}`)
          if (i === undefined) problems.push(`counter ${c} holds v${seq}, never written`)
          else applied = Math.max(applied, i)
        }
      })

      // Acknowledged ⇒ applied; applied ops form a prefix; values are the written ones.
      const expectedSeq = Array.from({ length: COUNTERS }, () => 0)
      log.ops.forEach((op, i) => {
        if (log.acked[i] && i > applied) {
          problems.push(`acknowledged ${op.kind} ${op.path} (op ${i}, zxid 0x${log.ackZxid[i]!.toString(16)}) lost`)
        }
        if (i > applied) return
        if (op.kind === "set") expectedSeq[op.counter] = op.seq
        else {
          const d = data.get(op.path)
          if (d === undefined) {
            if (!log.acked[i]) problems.push(`hole: ${op.path} (op ${i}) missing although op ${applied} of the same session survived`)
          } else if (d.value !== op.value) problems.push(`${op.path} holds ${JSON.stringify(d.value)}, wrote ${JSON.stringify(op.value)}`)
          else if (d.version !== 0) problems.push(`${op.path} at version ${d.version}, expected 0`)
        }
      })
      log.counters.forEach((c, ci) => {
        if (counterSeq[ci] !== -1 && counterSeq[ci] !== expectedSeq[ci]) {
          problems.push(`counter ${c} holds v${counterSeq[ci]}, but the surviving prefix (ops 0..${applied}) ends with v${expectedSeq[ci]}`)
        }
      })
      if (log.settled === undefined) log.settled = applied
      else if (log.settled !== applied) {
        problems.push(`${log.prefix}: a previous restart recovered ops 0..${log.settled}, this one 0..${applied}`)
      }
    }
  } finally {
    s.close()
  }
  return problems
}

const report = (server: TargetServer, problems: ReadonlyArray<string>, what: string) =>
  `${what}: ${problems.length} problems\n${problems.slice(0, 25).join("\n")}\n--- server output (tail) ---\n${server
    .output()
    .slice(-4000)}`

/** One load-and-kill round: returns the writers' logs and counts. */
const loadAndKill = async (server: TargetServer, round: number, killAfterMs: number) => {
  const sessions = await Promise.all(Array.from({ length: WRITERS }, () => startPipelinedSession(server.port)))
  const logs = await Promise.all(sessions.map((s, w) => setUpWriter(s, `/crash/r${round}w${w}`)))
  let stop = false
  const running = sessions.map((s, w) => runWriter(s, logs[w]!, () => stop))
  await sleep(killAfterMs)
  const inFlightAtKill = sessions.reduce((n, s) => n + s.inFlight(), 0)
  await server.kill9()
  stop = true
  await Promise.all(running)
  for (const s of sessions) s.close()
  const issued = logs.reduce((n, l) => n + l.ops.length, 0)
  const acked = logs.reduce((n, l) => n + l.acked.filter(Boolean).length, 0)
  return { logs, inFlightAtKill, issued, acked }
}

/** Resolves when a just-spawned ezk has printed its first log line (config loaded, recovery next). */
const firstOutput = async (server: TargetServer) => {
  const t0 = Date.now()
  while (server.ezk!.output() === "" && Date.now() - t0 < 10_000) await sleep(2)
}

/**
 * Restarts the server; for ezk also returns how long recovery took, from its first log line to
 * serving (the window in which the start-up kills below should land).
 */
const restartTimed = async (server: TargetServer): Promise<number | undefined> => {
  if (server.ezk === undefined) {
    await server.restart()
    return undefined
  }
  await server.ezk.start({ wait: false })
  await firstOutput(server)
  const t0 = Date.now()
  await server.ezk.ready()
  return Date.now() - t0
}

const maxAckZxid = (logs: ReadonlyArray<WriterLog>) => {
  let max = 0
  for (const l of logs) for (const z of l.ackZxid) if (z > max) max = z
  return max
}

describeTargets(
  "kill -9 under pipelined writes",
  (t) => {
    const seed = Number(process.env.CRASH_SEED ?? Math.floor(Math.random() * 2 ** 31))
    const random = prng(seed)
    const logs: Array<WriterLog> = []
    const recoveryWindows: Array<number> = []

    it("every acknowledged write survives each restart", async () => {
      console.log(`[crash ${t.name}] CRASH_SEED=${seed}`)
      const server = t.server()
      const root = await startPipelinedSession(server.port)
      await root.call({ type: Op.create, path: "/crash", data: null, acl: openAcl, flags: 0, ttl: -1 })
      root.close()
      for (let round = 0; round < ROUNDS; round++) {
        const killAfterMs = 300 + Math.floor(random() * 1200)
        const r = await loadAndKill(server, round, killAfterMs)
        logs.push(...r.logs)
        console.log(
          `[crash ${t.name}] round ${round}: killed after ${killAfterMs}ms with ${r.inFlightAtKill} requests in flight; ` +
            `${r.issued} issued, ${r.acked} acknowledged`
        )
        assert.isAbove(r.acked, 100, "the load did not get going")
        assert.isAbove(r.inFlightAtKill, 0, "the kill did not land mid-stream")
        assert.deepStrictEqual(r.logs.flatMap((l) => l.errors), [], "writes failed before the kill")
        const window = await restartTimed(server)
        if (window !== undefined) recoveryWindows.push(window)
        const problems = await verify(server, logs)
        assert.deepStrictEqual(problems, [], report(server, problems, `after round ${round}`))
      }
      // Recovered zxids are not handed out again.
      const s = await startPipelinedSession(server.port)
      const fresh = await s.call({ type: Op.create, path: "/crash/after", data: null, acl: openAcl, flags: 0, ttl: -1 })
      s.close()
      assert.strictEqual(fresh.header.err, 0)
      assert.isAbove(fresh.header.zxid, maxAckZxid(logs), "a zxid was reused after recovery")
    })

    // ezk only: ZooKeeper's start-up has no "serving" log line to time the kills against.
    if (t.name === "ezk")
    it("kill -9 while starting up and replaying the log loses nothing either", async () => {
      const server = t.server()
      const ezk = server.ezk!
      // A fresh log tail to replay, as in the rounds above; kill each start at a point of the
      // recovery window those restarts took (a killed start never gets to a start-up snapshot, so
      // every attempt replays the same tail), and once before the first log line.
      const r = await loadAndKill(server, ROUNDS, 800)
      logs.push(...r.logs)
      const recoveryMs = Math.max(...recoveryWindows, 20)
      let killedBeforeServing = 0
      const points: Array<string> = []
      for (const fraction of [-1, 0.15, 0.4, 0.65, 0.9]) {
        await ezk.start({ wait: false })
        if (fraction < 0) await sleep(30)
        else {
          await firstOutput(server)
          await sleep(Math.floor(recoveryMs * fraction * (0.8 + 0.4 * random())))
        }
        const serving = /ezk serving on/.test(ezk.output())
        if (!serving) killedBeforeServing++
        points.push(serving ? "serving" : (ezk.output().trim().split("\n").pop() ?? "(no output)").slice(0, 100) || "(no output)")
        await server.kill9()
      }
      console.log(`[crash ${t.name}] recovery windows ${recoveryWindows.join("/")}ms; last output at each kill:\n  ${points.join("\n  ")}`)
      assert.isAtLeast(killedBeforeServing, 2, "kills did not land during start-up")
      await server.restart()
      const problems = await verify(server, logs)
      assert.deepStrictEqual(problems, [], report(server, problems, "after kills during start-up"))
      const s = await startPipelinedSession(server.port)
      const fresh = await s.call({ type: Op.create, path: "/crash/after-recovery-kills", data: null, acl: openAcl, flags: 0, ttl: -1 })
      s.close()
      assert.isAbove(fresh.header.zxid, maxAckZxid(logs), "a zxid was reused after recovery")
    })
  },
  { config: { snapCount: 3000 } }
)
