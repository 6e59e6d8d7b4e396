/**
 * The history file: a recorded run as JSON lines, one object per line with a `type`, so that a
 * history from real processes (`npm run chaos`) or from a user's own deployment can be checked by
 * `ezk check-history` (docs/checker.md has the format with examples). Pure: text in, text out.
 *
 *   {"type":"op", id, process, session, kind, key | steps | (value, version), invokeMs, completeMs, outcome, error?, zxid?, read?}
 *   {"type":"peer", sid, lastZxid, digest?, snapshots?, log: [{zxid, session, writes: [{kind, key, value?, version?}], bytes?}]}
 *   {"type":"leader", epoch, sid, atMs}
 *   {"type":"watch", process, session, fromZxid: {key: zxid}, events: [{type, path, atMs}], disconnectedAtMs?}
 *   {"type":"run", converged?: true | "why not", ephemeralsLeft?: [...]}
 *   {"type":"note", atMs, text}
 *
 * Zxids are numbers or "0x…" strings (written as strings). Lines that are empty or start with `#` are
 * skipped; an unknown `type` or a malformed field is an error naming the line.
 */
import type { CommittedTxn, LeaderSighting, PeerFinal, TxnWrite } from "./Checkers.js"
import type { History, Op, OpKind, Outcome, ReadResult, WatchLog, WriteStep } from "./History.js"

/** Everything a history file holds; `peers` and `leaders` may be empty (their checkers are then skipped). */
export interface HistoryFile {
  readonly history: History
  readonly peers: ReadonlyArray<PeerFinal & { readonly hasDigest: boolean }>
  readonly leaders: ReadonlyArray<LeaderSighting>
  /** null: converged (or not recorded). */
  readonly notConverged: string | null
  readonly ephemeralsLeft: ReadonlyArray<string>
}

export class HistoryFileError extends Error {
  override readonly name = "HistoryFileError"
}

const OP_KINDS: ReadonlyArray<OpKind> = ["create", "ephemeral", "delete", "set", "get", "syncGet", "multi"]
const OUTCOMES: ReadonlyArray<Outcome> = ["ok", "fail", "info"]
const STEP_KINDS: ReadonlyArray<WriteStep["kind"]> = ["create", "delete", "set"]

type Json = Record<string, unknown>

/** Field readers: each throws a message naming the field; `parse` adds the line. */
const field = (o: Json, name: string): unknown => {
  if (!(name in o)) throw new Error(`missing "${name}"`)
  return o[name]
}
const num = (o: Json, name: string): number => {
  const v = field(o, name)
  if (typeof v !== "number" || !Number.isFinite(v)) throw new Error(`"${name}" must be a number`)
  return v
}
const str = (o: Json, name: string): string => {
  const v = field(o, name)
  if (typeof v !== "string") throw new Error(`"${name}" must be a string`)
  return v
}
const optStr = (o: Json, name: string): string | null => (o[name] === undefined || o[name] === null ? null : str(o, name))
const oneOf = <A extends string>(o: Json, name: string, allowed: ReadonlyArray<A>): A => {
  const v = str(o, name)
  if (!(allowed as ReadonlyArray<string>).includes(v)) throw new Error(`"${name}" must be one of ${allowed.join(", ")}, not "${v}"`)
  return v as A
}
const obj = (v: unknown, what: string): Json => {
  if (typeof v !== "object" || v === null || Array.isArray(v)) throw new Error(`${what} must be an object`)
  return v as Json
}
const arr = (o: Json, name: string): ReadonlyArray<unknown> => {
  const v = o[name] ?? []
  if (!Array.isArray(v)) throw new Error(`"${name}" must be an array`)
  return v
}
const zxidOf = (v: unknown, what: string): number => {
  if (typeof v === "number" && Number.isSafeInteger(v) && v >= 0) return v
  if (typeof v === "string" && /^0x[0-9a-f]+$/i.test(v)) return parseInt(v.slice(2), 16)
  throw new Error(`${what} must be a zxid (a number or "0x…")`)
}
const zxid = (o: Json, name: string): number => zxidOf(field(o, name), `"${name}"`)
const optZxid = (o: Json, name: string): number | null => (o[name] === undefined || o[name] === null ? null : zxid(o, name))

const step = (v: unknown): WriteStep => {
  const s = obj(v, "a step")
  const value = optStr(s, "value")
  return { kind: oneOf(s, "kind", STEP_KINDS), key: str(s, "key"), ...(value === null ? {} : { value }), version: s.version === undefined ? -1 : num(s, "version") }
}

const read = (v: unknown): ReadResult => {
  const r = obj(v, `"read"`)
  const exists = field(r, "exists")
  if (typeof exists !== "boolean") throw new Error(`"read.exists" must be true or false`)
  return exists
    ? { exists, value: optStr(r, "value"), version: num(r, "version"), mzxid: zxid(r, "mzxid") }
    : { exists, value: null, version: -1, mzxid: 0 }
}

const op = (o: Json, id: number): Op => {
  const kind = oneOf(o, "kind", OP_KINDS)
  const reads = kind === "get" || kind === "syncGet"
  if (kind === "multi" && o.steps === undefined) throw new Error(`a multi needs "steps"`)
  // A single write may be given flat (key, value, version) instead of as one step.
  const steps = reads ? [] : o.steps !== undefined ? arr(o, "steps").map(step) : [step({ kind: kind === "ephemeral" ? "create" : kind, key: o.key, value: o.value, version: o.version })]
  const outcome = o.outcome === undefined || o.outcome === null ? null : oneOf(o, "outcome", OUTCOMES)
  return {
    id: o.id === undefined ? id : num(o, "id"),
    process: num(o, "process"),
    session: o.session === undefined ? "" : str(o, "session"),
    kind,
    steps,
    key: reads ? str(o, "key") : (steps[0]?.key ?? ""),
    invokeMs: num(o, "invokeMs"),
    completeMs: o.completeMs === undefined || o.completeMs === null ? null : num(o, "completeMs"),
    outcome,
    error: optStr(o, "error"),
    zxid: optZxid(o, "zxid"),
    read: o.read === undefined || o.read === null ? null : read(o.read)
  }
}

const write = (v: unknown): TxnWrite => {
  const w = obj(v, "a write")
  const kind = oneOf(w, "kind", STEP_KINDS)
  return { kind, key: str(w, "key"), value: optStr(w, "value"), version: w.version === undefined ? (kind === "create" ? 0 : -1) : num(w, "version") }
}

const txn = (v: unknown): CommittedTxn => {
  const t = obj(v, "a log entry")
  const zx = zxid(t, "zxid")
  const session = str(t, "session")
  const writes = arr(t, "writes").map(write)
  // Without the logged bytes, peers are compared on what the checkers read of the txn.
  return { zxid: zx, session, writes, bytes: optStr(t, "bytes") ?? JSON.stringify([session, writes]) }
}

const peer = (o: Json): HistoryFile["peers"][number] => {
  const digest = optStr(o, "digest")
  return {
    sid: num(o, "sid"),
    lastProcessedZxid: zxid(o, "lastZxid"),
    digest: digest ?? "",
    hasDigest: digest !== null,
    snapshots: arr(o, "snapshots").map((z, i) => zxidOf(z, `"snapshots[${i}]"`)),
    log: arr(o, "log").map(txn)
  }
}

const watch = (o: Json): WatchLog => {
  const from = obj(o.fromZxid ?? {}, `"fromZxid"`)
  return {
    process: num(o, "process"),
    session: o.session === undefined ? "" : str(o, "session"),
    fromZxid: new Map(Object.entries(from).map(([k, z]) => [k, zxidOf(z, `"fromZxid.${k}"`)])),
    events: arr(o, "events").map((e) => {
      const x = obj(e, "a watch event")
      return { type: str(x, "type"), path: str(x, "path"), atMs: num(x, "atMs") }
    }),
    disconnectedAtMs: o.disconnectedAtMs === undefined || o.disconnectedAtMs === null ? null : num(o, "disconnectedAtMs")
  }
}

/** Parses a history file; throws HistoryFileError naming the first bad line. */
export const parse = (text: string): HistoryFile => {
  const history: History = { ops: [], watches: [], events: [] }
  const peers: Array<HistoryFile["peers"][number]> = []
  const leaders: Array<LeaderSighting> = []
  let notConverged: string | null = null
  const ephemeralsLeft: Array<string> = []
  const lines = text.split("\n")
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim()
    if (line === "" || line.startsWith("#")) continue
    try {
      let parsed: unknown
      try {
        parsed = JSON.parse(line)
      } catch (e) {
        throw new Error(`not JSON (${(e as Error).message})`)
      }
      const o = obj(parsed, "a line")
      const type = str(o, "type")
      if (type === "op") history.ops.push(op(o, history.ops.length))
      else if (type === "peer") peers.push(peer(o))
      else if (type === "leader") leaders.push({ epoch: num(o, "epoch"), sid: num(o, "sid"), atMs: num(o, "atMs") })
      else if (type === "watch") history.watches.push(watch(o))
      else if (type === "note") history.events.push(`${num(o, "atMs")} ${str(o, "text")}`)
      else if (type === "run") {
        if (o.converged !== undefined && o.converged !== true) notConverged = typeof o.converged === "string" ? o.converged : "the run did not converge"
        ephemeralsLeft.push(...arr(o, "ephemeralsLeft").map((e) => String(e)))
      } else throw new Error(`unknown type "${type}" (op, peer, leader, watch, run, note)`)
    } catch (e) {
      throw new HistoryFileError(`line ${i + 1}: ${(e as Error).message}`)
    }
  }
  return { history, peers, leaders, notConverged, ephemeralsLeft }
}

const hex = (z: number | null): string | null => (z === null ? null : `0x${z.toString(16)}`)

const opLine = (o: Op): Json => ({
  type: "op",
  id: o.id,
  process: o.process,
  session: o.session,
  kind: o.kind,
  ...(o.kind === "get" || o.kind === "syncGet" ? { key: o.key } : { steps: o.steps }),
  invokeMs: o.invokeMs,
  completeMs: o.completeMs,
  outcome: o.outcome,
  ...(o.error === null || o.error === "" ? {} : { error: o.error }),
  zxid: hex(o.zxid),
  ...(o.read === null ? {} : { read: o.read.exists ? { ...o.read, mzxid: hex(o.read.mzxid) } : { exists: false } })
})

/** Writes a history file (the inverse of `parse`). Notes keep the history's free-form event lines. */
export const serialize = (file: Omit<HistoryFile, "peers"> & { readonly peers: ReadonlyArray<PeerFinal & { readonly hasDigest?: boolean }> }): string => {
  const lines: Array<Json> = [
    { type: "run", converged: file.notConverged ?? true, ephemeralsLeft: file.ephemeralsLeft },
    ...file.history.ops.map(opLine),
    ...file.history.watches.map((w) => ({ type: "watch", process: w.process, session: w.session, fromZxid: Object.fromEntries([...w.fromZxid].map(([k, z]) => [k, hex(z)])), events: w.events, disconnectedAtMs: w.disconnectedAtMs })),
    ...file.leaders.map((l) => ({ type: "leader", ...l })),
    ...file.peers.map((p) => ({
      type: "peer",
      sid: p.sid,
      lastZxid: hex(p.lastProcessedZxid),
      ...(p.hasDigest === false ? {} : { digest: p.digest }),
      snapshots: p.snapshots.map(hex),
      log: p.log.map((t) => ({ zxid: hex(t.zxid), session: t.session, writes: t.writes, bytes: t.bytes }))
    })),
    ...file.history.events.map((e) => {
      const m = /^(-?\d+(?:\.\d+)?) (.*)$/s.exec(e)
      return { type: "note", atMs: m === null ? 0 : Number(m[1]), text: m === null ? e : m[2] }
    })
  ]
  return lines.map((l) => JSON.stringify(l)).join("\n") + "\n"
}
