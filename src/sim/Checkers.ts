/**
 * The guarantees ZooKeeper gives, checked over a recorded history and the peers' final state.
 * Pure: the run (or a tool reading a real deployment) gathers the inputs.
 *
 * - every peer applied the same committed txn sequence (same bytes per zxid, no hole, equal
 *   digests at equal zxids);
 * - no acknowledged write is lost: its zxid is in the committed sequence, written by its session;
 * - writes are linearizable: zxid order agrees with real time; each ok read saw exactly the
 *   key's state after the committed prefix up to its reply zxid (a versioned register);
 * - per session: writes in FIFO order, reads monotonic (never behind an earlier op of the session);
 * - a read after sync sees every write acknowledged before the sync began;
 * - at most one leader per epoch; the run converged and every operation completed;
 * - ephemerals are gone once their sessions expired (the run reports what is left);
 * - watch notifications of a connected session: none lost, extra or out of zxid order.
 */
import * as Zxid from "../wire/Zxid.js"
import { isWrite, type History, type Op, type WatchLog } from "./History.js"
import * as Wgl from "./Wgl.js"

/** One write of a committed txn, on a workload key. */
export interface TxnWrite {
  readonly kind: "create" | "delete" | "set"
  readonly key: string
  readonly value: string | null
  /** For set: the node's version after it. */
  readonly version: number
}

export interface CommittedTxn {
  readonly zxid: number
  /** Session id in hex (0x…) of the client that caused it. */
  readonly session: string
  readonly writes: ReadonlyArray<TxnWrite>
  /** The logged entry, as a comparable string (peers must agree on it). */
  readonly bytes: string
}

/** What a peer holds at the end of a run. */
export interface PeerFinal {
  readonly sid: number
  readonly lastProcessedZxid: number
  readonly digest: string
  /** Zxids of the snapshots it received by SNAP (the sync leaves a gap in the log that the snapshot covers). */
  readonly snapshots: ReadonlyArray<number>
  /** Its logged txns, in zxid order (the checker only trusts those up to lastProcessedZxid). */
  readonly log: ReadonlyArray<CommittedTxn>
}

export interface LeaderSighting {
  readonly epoch: number
  readonly sid: number
  readonly atMs: number
}

export interface CheckInput {
  readonly history: History
  readonly peers: ReadonlyArray<PeerFinal>
  readonly leaders: ReadonlyArray<LeaderSighting>
  /** null when the ensemble converged in the heal phase; else why not. */
  readonly notConverged: string | null
  /** Check watch notifications (History.watches); off for histories recorded without them. */
  readonly checkWatches?: boolean
  /** Ephemerals still on a peer well after every client session ended without closing (should be none). */
  readonly ephemeralsLeft?: ReadonlyArray<string>
}

export interface Violation {
  readonly checker: string
  readonly message: string
  /** A string of the event trace near which it shows (an op id `#n` or a zxid). */
  readonly marker: string
}

const hex = Zxid.toHex

/**
 * The zxids a peer vouches for with its log: after its newest snapshot, up to what it applied. Log
 * entries at or below the newest snapshot are superseded by it: a learner synced by SNAP keeps the
 * proposals it logged but never saw committed (ZooKeeper does not truncate them either), and neither
 * recovery nor DIFF reads them again.
 */
const trustedFloor = (p: PeerFinal): number => Math.max(0, ...p.snapshots)
const vouches = (p: PeerFinal, zxid: number): boolean => zxid > trustedFloor(p) && zxid <= p.lastProcessedZxid

/** The committed sequence all peers agree on (merged), and where they disagree. */
export const committedSequence = (peers: ReadonlyArray<PeerFinal>): { readonly merged: ReadonlyArray<CommittedTxn>; readonly violations: Array<Violation> } => {
  const violations: Array<Violation> = []
  const byZxid = new Map<number, { readonly txn: CommittedTxn; readonly sid: number }>()
  const add = (p: PeerFinal, t: CommittedTxn) => {
    const prior = byZxid.get(t.zxid)
    if (prior === undefined) byZxid.set(t.zxid, { txn: t, sid: p.sid })
    else if (prior.txn.bytes !== t.bytes) {
      violations.push({ checker: "same-sequence", message: `peers ${prior.sid} and ${p.sid} committed different txns at ${hex(t.zxid)}`, marker: `${hex(t.zxid)} ` })
    }
  }
  for (const p of peers) for (const t of p.log) if (vouches(p, t.zxid)) add(p, t)
  // Entries under a snapshot fill in only zxids no peer vouches for (every peer took a snapshot since).
  for (const p of peers) {
    for (const t of p.log) if (t.zxid <= trustedFloor(p) && !byZxid.has(t.zxid) && !peers.some((q) => vouches(q, t.zxid))) add(p, t)
  }
  const merged = [...byZxid.values()].map((e) => e.txn).sort((a, b) => a.zxid - b.zxid)
  // A hole: a peer skipped a zxid that others committed, inside the range its own log vouches for.
  for (const p of peers) {
    const own = new Set(p.log.map((t) => t.zxid))
    const first = p.log.find((t) => vouches(p, t.zxid))?.zxid ?? Infinity
    for (const t of merged) {
      if (t.zxid > first && vouches(p, t.zxid) && !own.has(t.zxid)) {
        violations.push({ checker: "same-sequence", message: `peer ${p.sid} applied past ${hex(t.zxid)} without it in its log (a hole)`, marker: `${hex(t.zxid)} ` })
        break
      }
    }
  }
  for (let i = 1; i < merged.length; i++) {
    const a = merged[i - 1]!.zxid
    const b = merged[i]!.zxid
    if (Zxid.epochOf(a) === Zxid.epochOf(b) && b !== a + 1) {
      violations.push({ checker: "same-sequence", message: `the committed sequence has a hole between ${hex(a)} and ${hex(b)}`, marker: `${hex(b)} ` })
    }
  }
  for (const p of peers) {
    for (const q of peers) {
      if (p.sid < q.sid && p.lastProcessedZxid === q.lastProcessedZxid && p.digest !== q.digest) {
        violations.push({ checker: "same-sequence", message: `peers ${p.sid} and ${q.sid} are both at ${hex(p.lastProcessedZxid)} with different tree digests`, marker: `${hex(p.lastProcessedZxid)} ` })
      }
    }
  }
  return { merged, violations }
}

const acked = (ops: ReadonlyArray<Op>): Array<Op> => ops.filter((o) => o.outcome === "ok" && o.zxid !== null)

/** Every acknowledged write is in the committed sequence at its zxid, by its session, on its keys. */
export const noLostWrites = (ops: ReadonlyArray<Op>, merged: ReadonlyArray<CommittedTxn>): Array<Violation> => {
  const byZxid = new Map(merged.map((t) => [t.zxid, t]))
  const out: Array<Violation> = []
  for (const op of acked(ops).filter(isWrite)) {
    const t = byZxid.get(op.zxid!)
    const keys = op.steps.map((s) => s.key).join(",")
    if (t === undefined) out.push({ checker: "no-lost-write", message: `acknowledged write #${op.id} (${keys}) at ${hex(op.zxid!)} is not in the committed sequence`, marker: `#${op.id} ` })
    else if (t.session !== op.session || t.writes.map((w) => w.key).join(",") !== keys) {
      out.push({ checker: "no-lost-write", message: `acknowledged write #${op.id} (${keys}, session ${op.session}) at ${hex(op.zxid!)}, but the committed txn there is ${t.session} on ${t.writes.map((w) => w.key).join(",")}`, marker: `#${op.id} ` })
    }
  }
  return out
}

/** A write that completed before another began has the smaller zxid. */
export const realTimeOrder = (ops: ReadonlyArray<Op>): Array<Violation> => {
  const writes = acked(ops).filter(isWrite)
  const byEnd = [...writes].sort((a, b) => a.completeMs! - b.completeMs!)
  const byStart = [...writes].sort((a, b) => a.invokeMs - b.invokeMs)
  const out: Array<Violation> = []
  let j = 0
  let latest: Op | null = null
  for (const b of byStart) {
    while (j < byEnd.length && byEnd[j]!.completeMs! < b.invokeMs) {
      if (latest === null || byEnd[j]!.zxid! > latest.zxid!) latest = byEnd[j]!
      j++
    }
    if (latest !== null && latest.zxid! >= b.zxid!) {
      out.push({ checker: "linearizable", message: `write #${b.id} (${hex(b.zxid!)}) began after write #${latest.id} (${hex(latest.zxid!)}) completed, yet orders before it`, marker: `#${b.id} ` })
    }
  }
  return out
}

/** Per session: writes in issue order get increasing zxids; no op sees an older state than an earlier one. */
export const sessionOrder = (ops: ReadonlyArray<Op>): Array<Violation> => {
  const out: Array<Violation> = []
  const last = new Map<number, Op>()
  const lastWrite = new Map<number, Op>()
  for (const op of acked(ops)) {
    const prev = last.get(op.process)
    if (prev !== undefined && op.zxid! < prev.zxid!) {
      const checker = isWrite(op) ? "session-fifo" : "monotonic-reads"
      out.push({ checker, message: `#${op.id} on session ${op.session} is at ${hex(op.zxid!)}, behind #${prev.id} of the same session at ${hex(prev.zxid!)}`, marker: `#${op.id} ` })
    }
    const pw = lastWrite.get(op.process)
    if (isWrite(op) && pw !== undefined && op.zxid! <= pw.zxid!) {
      out.push({ checker: "session-fifo", message: `write #${op.id} got ${hex(op.zxid!)}, not after the session's earlier write #${pw.id} at ${hex(pw.zxid!)}`, marker: `#${op.id} ` })
    }
    if (prev === undefined || op.zxid! >= prev.zxid!) last.set(op.process, op)
    if (isWrite(op)) lastWrite.set(op.process, op)
  }
  return out
}

/** A read after sync is at least at every write acknowledged before the sync began. */
export const readAfterSync = (ops: ReadonlyArray<Op>): Array<Violation> => {
  const writes = acked(ops).filter(isWrite).sort((a, b) => a.completeMs! - b.completeMs!)
  const out: Array<Violation> = []
  for (const r of acked(ops).filter((o) => o.kind === "syncGet")) {
    const missed = writes.filter((w) => w.completeMs! < r.invokeMs && w.zxid! > r.zxid!)
    if (missed.length > 0) {
      out.push({ checker: "read-after-sync", message: `sync+read #${r.id} read at ${hex(r.zxid!)} but write #${missed[0]!.id} at ${hex(missed[0]!.zxid!)} was acknowledged before the sync began`, marker: `#${r.id} ` })
    }
  }
  return out
}

/** Every ok read saw the key as the committed sequence left it at the read's zxid. */
export const readValues = (ops: ReadonlyArray<Op>, merged: ReadonlyArray<CommittedTxn>): Array<Violation> => {
  const reads = acked(ops).filter((o) => !isWrite(o) && o.read !== null).sort((a, b) => a.zxid! - b.zxid!)
  const state = new Map<string, { readonly value: string | null; readonly version: number; readonly mzxid: number }>()
  const out: Array<Violation> = []
  let i = 0
  for (const r of reads) {
    for (; i < merged.length && merged[i]!.zxid <= r.zxid!; i++) {
      const t = merged[i]!
      for (const w of t.writes) {
        if (w.kind === "delete") state.delete(w.key)
        else state.set(w.key, { value: w.value, version: w.kind === "create" ? 0 : w.version, mzxid: t.zxid })
      }
    }
    const want = state.get(r.key)
    const got = r.read!
    const same = want === undefined ? !got.exists : got.exists && got.value === want.value && got.version === want.version && got.mzxid === want.mzxid
    if (!same) {
      const show = want === undefined ? "absent" : `${want.value} v${want.version} at ${hex(want.mzxid)}`
      const saw = got.exists ? `${got.value} v${got.version} at ${hex(got.mzxid)}` : "absent"
      out.push({ checker: "linearizable", message: `read #${r.id} of ${r.key} at ${hex(r.zxid!)} saw ${saw}; the committed sequence says ${show}`, marker: `#${r.id} ` })
    }
  }
  return out
}

const EVENT_OF = { create: "NodeCreated", set: "NodeDataChanged", delete: "NodeDeleted" } as const

/**
 * For a session that stays connected: its persistent watches on the keys deliver one notification
 * per committed write on a key after the registration, in zxid order, none extra; and each
 * notification arrives before any reply that shows its txn (ZooKeeper's ordering guarantee).
 */
export const watchNotifications = (watches: ReadonlyArray<WatchLog>, ops: ReadonlyArray<Op>, merged: ReadonlyArray<CommittedTxn>): Array<Violation> => {
  const out: Array<Violation> = []
  for (const w of watches) {
    const cut = w.disconnectedAtMs ?? Infinity
    const expected = merged.flatMap((t) =>
      t.writes.filter((x) => t.zxid > (w.fromZxid.get(x.key) ?? Infinity)).map((x) => ({ zxid: t.zxid, type: EVENT_OF[x.kind], path: x.key })))
    const got = w.events.filter((e) => e.atMs < cut)
    const bad = got.findIndex((e, i) => expected[i] === undefined || expected[i]!.type !== e.type || expected[i]!.path !== e.path)
    if (bad >= 0) {
      const want = expected[bad]
      out.push({
        checker: "watch-order",
        message: `session ${w.session}: notification ${bad + 1} is ${got[bad]!.type} ${got[bad]!.path} at ${got[bad]!.atMs} ms, expected ${want === undefined ? "none" : `${want.type} ${want.path} (txn ${hex(want.zxid)})`}`,
        marker: `p${w.process} `
      })
      continue
    }
    for (const op of ops) {
      if (op.process !== w.process || op.outcome !== "ok" || op.zxid === null || op.completeMs === null || op.completeMs >= cut) continue
      const need = expected.filter((e) => e.zxid <= op.zxid!).length
      const delivered = w.events.filter((e) => e.atMs <= op.completeMs!).length
      if (delivered < need) {
        out.push({ checker: "watch-order", message: `session ${w.session}: reply #${op.id} at ${hex(op.zxid)} arrived before the notification of ${need - delivered} earlier txn(s) on the keys`, marker: `#${op.id} ` })
        break
      }
    }
  }
  return out
}

/** At most one leader per epoch. */
export const oneLeaderPerEpoch = (sightings: ReadonlyArray<LeaderSighting>): Array<Violation> => {
  const byEpoch = new Map<number, Set<number>>()
  const out: Array<Violation> = []
  for (const s of sightings) {
    const sids = byEpoch.get(s.epoch) ?? new Set()
    sids.add(s.sid)
    byEpoch.set(s.epoch, sids)
    if (sids.size === 2) out.push({ checker: "one-leader", message: `epoch ${s.epoch} has leaders ${[...sids].join(" and ")}`, marker: `${s.atMs} ` })
  }
  return out
}

/**
 * An ok read answered at zxid Z must show every acknowledged write on its key with a zxid <= Z:
 * a node that exists has mzxid >= that write's zxid; a node that is absent was deleted after it,
 * by a delete that may have happened (an ok delete in between, or one with an unknown outcome) or
 * by the expiry of an ephemeral's session. Needs the history only (no peer logs).
 */
export const readsSeeAckedWrites = (ops: ReadonlyArray<Op>): Array<Violation> => {
  const acked = ops.filter((o) => o.outcome === "ok" && o.zxid !== null)
  const writesOn = new Map<string, Array<Op>>()
  for (const w of acked) {
    if (!isWrite(w)) continue
    for (const key of new Set(w.steps.map((s) => s.key))) writesOn.set(key, [...(writesOn.get(key) ?? []), w])
  }
  const out: Array<Violation> = []
  for (const r of acked) {
    if (isWrite(r) || r.read === null) continue
    const z = r.zxid!
    const got = r.read
    const writes = writesOn.get(r.key) ?? []
    const missed = got.exists
      ? writes.find((w) => w.zxid! > got.mzxid && w.zxid! <= z)
      : writes
        .filter((w) => w.zxid! <= z && w.steps.some((s) => s.key === r.key && s.kind !== "delete"))
        .find((w) => !mayHaveDeleted(ops, r.key, w.zxid!, z))
    if (missed !== undefined) {
      const saw = got.exists ? `${got.value} v${got.version} at ${hex(got.mzxid)}` : "absent"
      out.push({
        checker: "read-sees-acked-writes",
        message: `read #${r.id} of ${r.key} answered at ${hex(z)} saw ${saw}, but write #${missed.id} on it was acknowledged at ${hex(missed.zxid!)}`,
        marker: `#${r.id} `
      })
    }
  }
  return out
}

const mayHaveDeleted = (ops: ReadonlyArray<Op>, key: string, after: number, upTo: number): boolean =>
  ops.some((o) =>
    (o.kind === "ephemeral" && o.steps.some((s) => s.key === key)) ||
    (o.outcome !== "fail" && o.steps.some((s) => s.key === key && s.kind === "delete") &&
      (o.outcome !== "ok" || o.zxid === null || (o.zxid > after && o.zxid <= upTo))))

/** Every check; an empty result means the run is valid. */
export const checkAll = (input: CheckInput, wglMaxOps = 16): Array<Violation> => {
  const ops = input.history.ops
  const { merged, violations } = committedSequence(input.peers)
  const out = [...violations]
  if (input.notConverged !== null) out.push({ checker: "converges", message: input.notConverged, marker: "heal" })
  for (const left of input.ephemeralsLeft ?? []) out.push({ checker: "ephemerals-expire", message: `a session that vanished still has ephemerals: ${left}`, marker: "clients cut off" })
  for (const op of ops) {
    if (op.outcome === null) out.push({ checker: "converges", message: `op #${op.id} never completed`, marker: `#${op.id} ` })
  }
  out.push(...noLostWrites(ops, merged), ...realTimeOrder(ops), ...readsSeeAckedWrites(ops), ...sessionOrder(ops), ...readAfterSync(ops), ...readValues(ops, merged), ...oneLeaderPerEpoch(input.leaders))
  if (input.checkWatches === true) out.push(...watchNotifications(input.history.watches, ops, merged))
  const wgl = Wgl.check(ops, wglMaxOps)
  if (wgl._tag === "NotLinearizable") out.push({ checker: "wgl", message: `no linearization of the writes exists (longest prefix: ${wgl.longestPrefix.map((id) => `#${id}`).join(" ")})`, marker: "invoke" })
  return out
}
