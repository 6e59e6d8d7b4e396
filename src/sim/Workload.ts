/**
 * The simulated clients: `sessions` sequential workers, each with its own ZooKeeper session
 * (the project's Effect client over the memory network), doing create/delete, blind and
 * versioned setData, getData with and without a preceding sync, and two-key multis over a few
 * keys; now and then a session moves to another server on purpose. Every choice is drawn from Effect's Random (seeded by the run), every time from its
 * Clock, so one seed gives one history.
 */
import { Clock, Duration, Effect, Random, type Scope, Stream, type Exit } from "effect"
import { ZooKeeper } from "../client/index.js"
import * as MultiOp from "../client/MultiOp.js"
import type { ZkError, MultiError } from "../client/ZooKeeperError.js"
import { Transport } from "../net/Transport.js"
import * as History from "./History.js"

export interface WorkloadOptions {
  readonly sessions: number
  readonly keys: number
  readonly connectString: string
  /** The Transport of client machine `c<process>`. */
  readonly transportFor: (worker: number) => Transport["Type"]
  /** Virtual ms at which the run started (history times are relative to it). */
  readonly startMs: number
  /** Workers stop issuing new operations once this returns true. */
  readonly stopped: () => boolean
  readonly sessionTimeoutMs?: number
  /** An op without a reply after this long is recorded as info and its session abandoned. */
  readonly opTimeoutMs?: number
  /** Pause between a worker's operations (drawn from [0, thinkMs]). */
  readonly thinkMs?: number
  /** Run when the workload stops, before the worker's last session closes: cuts the client off so that its session must expire. */
  readonly vanish?: (worker: number) => void
  /** Each session sets persistent watches on the keys and records their notifications (History.watches). */
  readonly watch?: boolean
  /** Percent of operations that create an ephemeral node of the session (default 8). */
  readonly ephemeralPercent?: number
  /**
   * Percent of idle moments at which a connected session moves to the next server on purpose, as a
   * ZooKeeper client does on a server-list change (default 0: sessions move only when a link breaks).
   */
  readonly movePercent?: number
}

export const keyPath = (i: number): string => `/k${i}`

/** Ephemeral nodes are created under this prefix (`/e-p<process>-<n>`), one per create. */
export const EPHEMERAL_PREFIX = "/e-"

const EPHEMERAL = 1

/** Server errors that say the write was definitely not applied. */
const DEFINITE = new Set(["NoNode", "NodeExists", "BadVersion", "NotEmpty", "BadArguments"])

const text = (b: Uint8Array | null): string | null => (b === null ? null : new TextDecoder().decode(b))

/** Runs every worker until `stopped()` and their last operations completed (or timed out). */
export const run = (history: History.History, options: WorkloadOptions): Effect.Effect<void> =>
  Effect.forEach(Array.from({ length: options.sessions }, (_, i) => i), (w) => worker(history, options, w), { concurrency: "unbounded", discard: true })

const worker = (history: History.History, options: WorkloadOptions, w: number): Effect.Effect<void> =>
  Effect.gen(function* () {
    let generation = 0
    while (!options.stopped()) {
      // A new session is a new process: ops on different sessions are not ordered by FIFO.
      const process = w * 1000 + generation++
      yield* Effect.scoped(session(history, options, w, process)).pipe(Effect.ignore)
      if (!options.stopped()) yield* Effect.sleep(Duration.millis(500))
    }
  })

const now = (options: WorkloadOptions) => Effect.map(Clock.currentTimeMillis, (t) => t - options.startMs)

/** One session: ops until the run stops or the session dies; its scope closes the client. */
const session = (history: History.History, options: WorkloadOptions, w: number, process: number): Effect.Effect<void, ZkError, Scope.Scope> =>
  Effect.gen(function* () {
    const timeoutMs = options.sessionTimeoutMs ?? 6000
    const zk = yield* ZooKeeper.make({ connectString: options.connectString, sessionTimeoutMs: timeoutMs }).pipe(
      Effect.provideService(Transport, options.transportFor(w))
    )
    const sessionId = `0x${(yield* zk.session).sessionId.toString(16)}`
    History.note(history, yield* now(options), `p${process} session ${sessionId} on c${w}`)
    if (options.watch === true) yield* watchKeys(history, options, zk, process, sessionId)
    const versions = new Map<string, number>()
    let counter = 0
    while (!options.stopped()) {
      const think = options.thinkMs ?? 50
      yield* Effect.sleep(Duration.millis(yield* Random.nextIntBetween(0, think + 1)))
      if ((options.movePercent ?? 0) > 0 && (yield* Random.nextIntBetween(0, 100)) < options.movePercent! && (yield* zk.state) === "Connected") {
        // Nothing is in flight: the session reconnects to the next server and the next op waits for
        // it. FIFO order and monotonic reads must hold across the move (the checkers are per session).
        yield* zk.dropConnection
        History.note(history, yield* now(options), `p${process} moves session ${sessionId} to the next server`)
      }
      const key = keyPath(yield* Random.nextIntBetween(0, options.keys))
      const value = `p${process}.${counter++}`
      const roll = yield* Random.nextIntBetween(0, 100)
      const ephemeral = roll >= 100 - (options.ephemeralPercent ?? 8)
      const kind: History.OpKind = ephemeral ? "ephemeral" : roll < 15 ? "create" : roll < 25 ? "delete" : roll < 50 ? "set" : roll < 65 ? "get" : roll < 85 ? "syncGet" : "multi"
      const steps: Array<History.WriteStep> = []
      if (kind === "ephemeral") steps.push({ kind: "create", key: `${EPHEMERAL_PREFIX}p${process}-${counter}`, value, version: -1 })
      if (kind === "create") steps.push({ kind: "create", key, value, version: -1 })
      if (kind === "delete") steps.push({ kind: "delete", key, version: (yield* Random.nextBoolean) ? (versions.get(key) ?? 0) : -1 })
      if (kind === "set") steps.push({ kind: "set", key, value, version: (yield* Random.nextBoolean) ? (versions.get(key) ?? 0) : -1 })
      if (kind === "multi") {
        const other = keyPath(yield* Random.nextIntBetween(0, options.keys))
        steps.push({ kind: "set", key, value, version: -1 })
        if (other !== key) steps.push({ kind: (yield* Random.nextBoolean) ? "create" : "set", key: other, value: `${value}b`, version: -1 })
      }
      const op = History.invoke(history, { process, session: sessionId, kind, steps, key, invokeMs: yield* now(options) })
      const exit = yield* Effect.exit(perform(zk, op).pipe(Effect.timeout(Duration.millis(options.opTimeoutMs ?? 20_000))))
      const at = yield* now(options)
      const zxid = yield* zk.lastZxid
      if (exit._tag === "Success") {
        const read = exit.value
        if (read !== null && read.exists) versions.set(key, read.version)
        History.complete(history, op, at, "ok", { zxid, read })
        continue
      }
      const outcome = classify(op, exit)
      History.complete(history, op, at, outcome.outcome, { zxid: outcome.outcome === "info" ? null : zxid, error: outcome.error, read: outcome.read })
      if (outcome.error === "SessionExpired" || outcome.error === "TimeoutException") return
    }
    options.vanish?.(w)
  })

/** A persistent recursive watch; notifications on the keys recorded (the checker reads them until the session first disconnects). */
const watchKeys = (history: History.History, options: WorkloadOptions, zk: ZooKeeper.Client, process: number, session: string) =>
  Effect.gen(function* () {
    const log: History.WatchLog = { process, session, fromZxid: new Map(), events: [], disconnectedAtMs: null }
    history.watches.push(log)
    yield* Stream.runForEach(zk.states, (state) =>
      Effect.flatMap(now(options), (t) => Effect.sync(() => {
        if (state !== "Connected" && log.disconnectedAtMs === null) log.disconnectedAtMs = t
      }))
    ).pipe(Effect.forkScoped)
    // One recursive watch, one stream: notifications keep their arrival order across keys (a stream
    // per key would record same-instant notifications in fiber order).
    const keys = new Set(Array.from({ length: options.keys }, (_, i) => keyPath(i)))
    const events = yield* zk.addWatch("/", "PersistentRecursive")
    const from = yield* zk.lastZxid
    for (const k of keys) log.fromZxid.set(k, from)
    yield* Stream.runForEach(events, (e) =>
      keys.has(e.path) ? Effect.flatMap(now(options), (t) => Effect.sync(() => void log.events.push({ type: e.type, path: e.path, atMs: t }))) : Effect.void
    ).pipe(Effect.ignore, Effect.forkScoped)
  })

/** Issues the request(s); a successful read returns what it saw, a write null. */
const perform = (zk: ZooKeeper.Client, op: History.Op): Effect.Effect<History.ReadResult | null, ZkError | MultiError> => {
  if (op.kind === "get" || op.kind === "syncGet") {
    const read = Effect.map(zk.getData(op.key), ({ data, stat }) => ({ exists: true, value: text(data), version: stat.version, mzxid: stat.mzxid }))
    return op.kind === "get" ? read : Effect.zipRight(zk.sync(op.key), read)
  }
  if (op.kind === "multi") return Effect.as(zk.multi(op.steps.map(toMultiOp)), null)
  const step = op.steps[0]!
  if (step.kind === "create") return Effect.as(zk.create(step.key, step.value ?? "", op.kind === "ephemeral" ? { mode: EPHEMERAL } : {}), null)
  if (step.kind === "delete") return Effect.as(zk.delete(step.key, step.version), null)
  return Effect.as(zk.setData(step.key, step.value ?? "", step.version), null)
}

const toMultiOp = (s: History.WriteStep): MultiOp.WriteOp =>
  s.kind === "create" ? MultiOp.create(s.key, s.value ?? "") : s.kind === "delete" ? MultiOp.delete(s.key, s.version) : MultiOp.setData(s.key, s.value ?? "", s.version)

const classify = (
  op: History.Op,
  exit: Exit.Exit<unknown, unknown>
): { readonly outcome: History.Outcome; readonly error: string; readonly read: History.ReadResult | null } => {
  if (exit._tag === "Success") return { outcome: "ok", error: "", read: null }
  const failure = exit.cause._tag === "Fail" ? (exit.cause.error as { readonly _tag?: string; readonly code?: string }) : null
  const tag = failure?._tag ?? "Defect"
  if (tag === "KeeperError" || tag === "MultiError") {
    const code = failure!.code ?? "Unknown"
    // A read of a missing node is a successful read of "absent" (but a sync that fails is not).
    if (code === "NoNode" && !History.isWrite(op)) return { outcome: "ok", error: code, read: { exists: false, value: null, version: -1, mzxid: 0 } }
    return { outcome: DEFINITE.has(code) || tag === "MultiError" ? "fail" : "info", error: code, read: null }
  }
  return { outcome: "info", error: tag, read: null }
}
