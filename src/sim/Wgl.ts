/**
 * A Wing–Gong–Lowe linearizability search over the writes of a small history, as a second
 * opinion next to the zxid-based checks: is there one order of the writes, consistent with real
 * time, in which a set of versioned registers (one per key) gives every recorded outcome? Pure.
 */
import type { Op, WriteStep } from "./History.js"

interface Register {
  readonly exists: boolean
  readonly value: string | null
  readonly version: number
}

type State = ReadonlyMap<string, Register>

const ABSENT: Register = { exists: false, value: null, version: -1 }

/** The error a step meets in `state`, or null when it applies. */
const stepError = (state: State, s: WriteStep): string | null => {
  const r = state.get(s.key) ?? ABSENT
  if (s.kind === "create") return r.exists ? "NodeExists" : null
  if (!r.exists) return "NoNode"
  return s.version >= 0 && s.version !== r.version ? "BadVersion" : null
}

const applyStep = (state: Map<string, Register>, s: WriteStep): void => {
  const r = state.get(s.key) ?? ABSENT
  if (s.kind === "create") state.set(s.key, { exists: true, value: s.value ?? "", version: 0 })
  else if (s.kind === "delete") state.set(s.key, ABSENT)
  else state.set(s.key, { exists: true, value: s.value ?? "", version: r.version + 1 })
}

/** The state after `op` if it applies atomically (all steps, as a multi does), else null. */
const applyAll = (state: State, op: Op): State | null => {
  const next = new Map(state)
  for (const s of op.steps) {
    if (stepError(next, s) !== null) return null
    applyStep(next, s)
  }
  return next
}

/** Whether a definite failure is explained by `state`: the recorded error (or, for a multi, some step) fails. */
const failureFits = (state: State, op: Op): boolean => {
  if (op.steps.length > 1) return applyAll(state, op) === null
  return stepError(state, op.steps[0]!) === op.error
}

const key = (done: number, state: State): string =>
  `${done}|${[...state].filter(([, r]) => r.exists).sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, r]) => `${k}=${r.value}@${r.version}`).join(",")}`

export type WglResult = { readonly _tag: "Linearizable" } | { readonly _tag: "NotLinearizable"; readonly longestPrefix: ReadonlyArray<number> } | { readonly _tag: "TooLarge" }

/**
 * Searches for a linearization of the completed writes (ok, fail, info) of `ops`. Info ops may
 * take effect at any point after their invocation, or never. `maxOps` bounds the search.
 */
export const check = (ops: ReadonlyArray<Op>, maxOps = 20): WglResult => {
  const writes = ops.filter((o) => o.kind !== "get" && o.kind !== "syncGet" && o.outcome !== null && o.steps.length > 0)
  if (writes.length > maxOps) return { _tag: "TooLarge" }
  const n = writes.length
  const end = writes.map((o) => (o.outcome === "info" ? Infinity : o.completeMs!))
  const seen = new Set<string>()
  let longest: Array<number> = []
  const path: Array<number> = []

  const search = (done: number, state: State): boolean => {
    // Finished when every op that must have happened (ok, fail) is placed; info ops may never apply.
    let mustRemain = false
    for (let i = 0; i < n; i++) if ((done & (1 << i)) === 0 && writes[i]!.outcome !== "info") mustRemain = true
    if (!mustRemain) return true
    const k = key(done, state)
    if (seen.has(k)) return false
    seen.add(k)
    let horizon = Infinity
    for (let i = 0; i < n; i++) if ((done & (1 << i)) === 0) horizon = Math.min(horizon, end[i]!)
    for (let i = 0; i < n; i++) {
      if ((done & (1 << i)) !== 0) continue
      const op = writes[i]!
      // Linearizable next only if no other pending op completed before this one began.
      if (op.invokeMs > horizon) continue
      const next = op.outcome === "fail" ? (failureFits(state, op) ? state : null) : applyAll(state, op)
      if (next === null) continue
      path.push(op.id)
      if (path.length > longest.length) longest = [...path]
      if (search(done | (1 << i), next)) return true
      path.pop()
    }
    return false
  }
  return search(0, new Map()) ? { _tag: "Linearizable" } : { _tag: "NotLinearizable", longestPrefix: longest }
}
