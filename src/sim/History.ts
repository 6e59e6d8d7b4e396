/**
 * The recorded history of a simulated (or real) run: every client operation with its invocation,
 * completion, outcome and reply zxid, plus what happened around it (faults, role changes). Pure
 * data; the workload records into it and the checkers read it.
 */

/** A client operation as the workload issues it. */
export type OpKind = "create" | "ephemeral" | "delete" | "set" | "get" | "syncGet" | "multi"

/** One write inside a `multi` (or the write of a single-op call). */
export interface WriteStep {
  readonly kind: "create" | "delete" | "set"
  readonly key: string
  /** The value written (unique per write in the workload). */
  readonly value?: string
  /** Expected version; -1 for a blind write. */
  readonly version: number
}

/**
 * ok: the server acknowledged it. fail: the server definitely did not apply it (NoNode, BadVersion, …).
 * info: unknown (connection loss, timeout, session expired): it may or may not have been applied.
 */
export type Outcome = "ok" | "fail" | "info"

/** What a getData saw. */
export interface ReadResult {
  readonly exists: boolean
  readonly value: string | null
  readonly version: number
  readonly mzxid: number
}

export interface Op {
  readonly id: number
  /** The worker (Jepsen's "process"): a sequential client; a new session gets a new process. */
  readonly process: number
  /** The session id (hex), once known. */
  readonly session: string
  readonly kind: OpKind
  /** The keys it reads or writes. */
  readonly steps: ReadonlyArray<WriteStep>
  /** For reads: the key read. */
  readonly key: string
  readonly invokeMs: number
  completeMs: number | null
  outcome: Outcome | null
  /** Error name for fail/info outcomes. */
  error: string | null
  /** The reply header's zxid: the txn's zxid for a write, the server's last applied zxid for a read. */
  zxid: number | null
  read: ReadResult | null
}

/** The watch notifications one session received on the workload keys (persistent watches). */
export interface WatchLog {
  readonly process: number
  readonly session: string
  /** Per key, the zxid its watch was registered at: every later txn on the key must be notified. */
  readonly fromZxid: Map<string, number>
  /** In arrival order. */
  readonly events: Array<{ readonly type: string; readonly path: string; readonly atMs: number }>
  /** When the session first left Connected (events may then be missed legitimately). */
  disconnectedAtMs: number | null
}

/** A history: ops in invocation order, watch logs and a free-form event log (virtual ms + text). */
export interface History {
  readonly ops: Array<Op>
  readonly watches: Array<WatchLog>
  readonly events: Array<string>
}

export const empty = (): History => ({ ops: [], watches: [], events: [] })

/** Records an invocation; the caller completes the returned op. */
export const invoke = (
  history: History,
  fields: Pick<Op, "process" | "session" | "kind" | "steps" | "key" | "invokeMs">
): Op => {
  const op: Op = { id: history.ops.length, ...fields, completeMs: null, outcome: null, error: null, zxid: null, read: null }
  history.ops.push(op)
  history.events.push(`${fields.invokeMs} p${fields.process} invoke #${op.id} ${describeOp(op)}`)
  return op
}

export const complete = (
  history: History,
  op: Op,
  atMs: number,
  outcome: Outcome,
  details: { readonly zxid?: number | null; readonly error?: string | null; readonly read?: ReadResult | null } = {}
): void => {
  op.completeMs = atMs
  op.outcome = outcome
  op.zxid = details.zxid ?? null
  op.error = details.error ?? null
  op.read = details.read ?? null
  history.events.push(`${atMs} p${op.process} ${outcome} #${op.id}${op.zxid === null ? "" : ` zxid 0x${op.zxid.toString(16)}`}${op.error === null ? "" : ` ${op.error}`}${op.read === null ? "" : ` read ${describeRead(op.read)}`}`)
}

export const note = (history: History, atMs: number, text: string): void => {
  history.events.push(`${atMs} ${text}`)
}

/** True for ops that change state (single writes and multi). */
export const isWrite = (op: Op): boolean => op.kind !== "get" && op.kind !== "syncGet"

export const describeOp = (op: Pick<Op, "kind" | "steps" | "key">): string =>
  isWrite(op as Op)
    ? `${op.kind} ${op.steps.map((s) => `${s.kind}(${s.key}${s.value === undefined ? "" : `=${s.value}`}${s.version >= 0 ? ` v${s.version}` : ""})`).join(" ")}`
    : `${op.kind} ${op.key}`

const describeRead = (r: ReadResult): string => (r.exists ? `${r.value} v${r.version} m0x${r.mzxid.toString(16)}` : "none")

/** The events within `radius` lines of the first line containing `marker` (for failure reports). */
export const around = (history: History, marker: string, radius = 15): ReadonlyArray<string> => {
  // A marker ending in a space may also end a line ("zxid 0x…" at the end of an event).
  const i = history.events.findIndex((e) => e.includes(marker) || (marker.endsWith(" ") && e.endsWith(marker.trimEnd())))
  if (i < 0) return history.events.slice(-radius)
  return history.events.slice(Math.max(0, i - radius), i + radius + 1)
}
