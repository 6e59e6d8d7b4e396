/**
 * Who votes and which sets of voters form a quorum (quorum.md §6): ZooKeeper's QuorumMaj and
 * QuorumHierarchical (`group.N` / `weight.N`). Observers and unknown sids never count.
 */
import { assert } from "./internal/assert.js"

/** A server id (`myid`). */
export type Sid = number

/** A `server.N` line's role. */
export type PeerType = "participant" | "observer"

/** One server of the configuration; `group`/`weight` only matter for hierarchical quorums. */
export interface ServerSpec {
  readonly sid: Sid
  readonly type: PeerType
  readonly group?: number
  readonly weight?: number
}

/** Decides quorums for one configuration. */
export interface QuorumVerifier {
  readonly kind: "majority" | "hierarchical"
  /** The participants (voters), weight 0 included: they may vote in a group but never be elected. */
  readonly voters: ReadonlySet<Sid>
  /** Whether the voters among `sids` form a quorum; observers and unknown sids are ignored. */
  readonly containsQuorum: (sids: Iterable<Sid>) => boolean
  /** Whether `sid` is a participant of this configuration. */
  readonly isVoter: (sid: Sid) => boolean
  /** FLE's weight: 0 for observers, unknown sids and `weight.N=0` servers, which can never be elected. */
  readonly weight: (sid: Sid) => number
}

const participants = (servers: ReadonlyArray<ServerSpec>): Set<Sid> => {
  const sids = new Set<Sid>()
  for (const s of servers) {
    assert(Number.isInteger(s.sid), `sid ${s.sid} is an integer`)
    assert(!sids.has(s.sid), `sid ${s.sid} is listed once`)
    if (s.type === "participant") sids.add(s.sid)
  }
  return sids
}

/** QuorumMaj: a set is a quorum iff it holds more than half of the voters. */
export const majority = (servers: ReadonlyArray<ServerSpec>): QuorumVerifier => {
  const voters = participants(servers)
  const half = Math.floor(voters.size / 2)
  return {
    kind: "majority",
    voters,
    containsQuorum: (sids) => {
      // Counted without allocating (the leader asks once per ACK); an array is deduplicated in place.
      if (sids instanceof Set) {
        let n = 0
        for (const sid of sids) if (voters.has(sid)) n++
        return n > half
      }
      if (Array.isArray(sids)) {
        const a = sids as ReadonlyArray<Sid>
        let n = 0
        for (let i = 0; i < a.length; i++) if (voters.has(a[i]!) && a.indexOf(a[i]!) === i) n++
        return n > half
      }
      const seen = new Set<Sid>()
      for (const sid of sids) if (voters.has(sid)) seen.add(sid)
      return seen.size > half
    },
    isVoter: (sid) => voters.has(sid),
    weight: (sid) => (voters.has(sid) ? 1 : 0)
  }
}

/**
 * QuorumHierarchical: a quorum needs a majority of the (non-zero-weight) groups, each with more than
 * half of that group's weight. Every participant must be in a group; weights default to 1.
 */
export const hierarchical = (servers: ReadonlyArray<ServerSpec>): QuorumVerifier => {
  const voters = participants(servers)
  const groupOf = new Map<Sid, number>()
  const weightOf = new Map<Sid, number>()
  const groupWeight = new Map<number, number>()
  for (const s of servers) {
    if (s.type !== "participant") continue
    assert(s.group !== undefined, `participant ${s.sid} belongs to a group`)
    const w = s.weight ?? 1
    assert(Number.isInteger(w) && w >= 0, `weight of ${s.sid} is a non-negative integer`)
    groupOf.set(s.sid, s.group)
    weightOf.set(s.sid, w)
    groupWeight.set(s.group, (groupWeight.get(s.group) ?? 0) + w)
  }
  // ZooKeeper does not count groups whose whole weight is zero.
  const groups = [...groupWeight.values()].filter((w) => w > 0).length
  return {
    kind: "hierarchical",
    voters,
    containsQuorum: (sids) => {
      const seen = new Set<Sid>()
      const got = new Map<number, number>()
      for (const sid of sids) {
        const g = groupOf.get(sid)
        if (g === undefined || seen.has(sid)) continue
        seen.add(sid)
        got.set(g, (got.get(g) ?? 0) + (weightOf.get(sid) ?? 0))
      }
      let majorities = 0
      for (const [g, w] of got) if (w * 2 > (groupWeight.get(g) ?? 0)) majorities++
      return majorities * 2 > groups
    },
    isVoter: (sid) => voters.has(sid),
    weight: (sid) => weightOf.get(sid) ?? 0
  }
}

/** Hierarchical when any server names a group (as `group.N` lines switch ZooKeeper over), else majority. */
export const make = (servers: ReadonlyArray<ServerSpec>): QuorumVerifier =>
  servers.some((s) => s.group !== undefined) ? hierarchical(servers) : majority(servers)
