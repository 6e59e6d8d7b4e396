/** Shared helpers of the storage tests: a txn generator over a live tree, fixture loading, tree comparison. */
import { assert } from "@effect/vitest"
import { Effect } from "effect"
import { readdirSync, readFileSync } from "node:fs"
import { Disk, join, makeMemory } from "../../src/disk/Disk.js"
import { DataTree, type DataTreeOptions } from "../../src/tree/DataTree.js"
import { childPath } from "../../src/tree/Paths.js"
import { clientOwner, nodeStat } from "../../src/tree/ZNode.js"
import type { ACL } from "../../src/wire/ClientRecords.js"
import { Op } from "../../src/wire/Codes.js"
import { encodeWith } from "../../src/wire/Jute.js"
import { type Txn, type TxnEntry, type TxnHeader, writeTxnEntry } from "../../src/wire/TxnRecords.js"

export const vectorsDir = new URL("../fixtures/vectors/", import.meta.url).pathname

export const treeOptions: DataTreeOptions = { extendedTypes: true, digestEnabled: true }

/** Small deterministic PRNG (mulberry32) for generators that must replay from a seed. */
export const rng = (seed: number) => {
  let a = seed >>> 0
  const next = (): number => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
  return {
    next,
    int: (n: number): number => Math.floor(next() * n),
    pick: <A>(xs: ReadonlyArray<A>): A => xs[Math.floor(next() * xs.length)]!
  }
}
export type Rng = ReturnType<typeof rng>

const world = (perms: number): ACL => ({ perms, id: { scheme: "world", id: "anyone" } })
export const ACL_POOL: ReadonlyArray<ReadonlyArray<ACL>> = [
  [world(31)],
  [world(1)],
  [{ perms: 31, id: { scheme: "digest", id: "alice:aYXlLOpEooaV1cRAvUL1fp9Qt7E=" } }],
  [{ perms: 31, id: { scheme: "ip", id: "127.0.0.1" } }, world(1)]
]

const enc = new TextEncoder()

/**
 * Plays the leader: builds valid txns against a live tree, applies them, and returns the entries
 * (with the TxnDigest after each) as a server would log them.
 */
export class TxnDriver {
  readonly tree: DataTree
  zxid: number
  time = 1_795_000_000_000
  private uniq: number
  constructor(tree?: DataTree) {
    this.tree = tree ?? new DataTree(treeOptions)
    this.zxid = this.tree.lastProcessedZxid
    // Fresh names and session ids even when continuing a recovered tree.
    this.uniq = this.zxid * 97
  }

  /** Applies a txn to the live tree and returns its log entry. */
  commit(clientId: bigint, txn: Txn): TxnEntry {
    const header: TxnHeader = { clientId, cxid: this.uniq, zxid: ++this.zxid, time: (this.time += 7), type: txn.type }
    this.tree.processTxn(header, txn)
    const digest = txn.type === Op.error ? null : { version: 2, hi: this.tree.digest.hi, lo: this.tree.digest.lo }
    return { header, txn, digest }
  }

  /** Entry bytes as a PROPOSAL carries them. */
  static bytes(e: TxnEntry): Uint8Array {
    return encodeWith(writeTxnEntry, e)
  }

  createTxn(path: string, data: string, acl: ReadonlyArray<ACL>, ephemeral: boolean): Txn {
    const parent = this.tree.get(path.slice(0, Math.max(1, path.lastIndexOf("/"))))!
    return { type: Op.create, path, data: enc.encode(data), acl, ephemeral, parentCVersion: parent.cversion + 1 }
  }

  /** One random valid txn (create/delete/setData/setACL/sessions/multi/error/containers/TTL). */
  random(r: Rng): TxnEntry {
    const t = this.tree
    const sessions = [...t.sessions.keys()]
    const paths = [...t.paths()].filter((p) => p !== "/zookeeper" && !p.startsWith("/zookeeper/"))
    const persistentParents = paths.filter((p) => t.get(p)!.owner === 0n)
    const leaves = paths.filter((p) => p !== "/" && t.get(p)!.children === null)
    const k = r.int(100)
    const name = () => `n${(this.uniq++).toString(36)}${r.int(3) === 0 ? "-é" : ""}`
    if (k < 8 || sessions.length === 0) return this.commit(BigInt(0x100000000 + this.uniq++) << 16n, { type: Op.createSession, timeOut: 10000 })
    if (k < 12) {
      const s = r.pick(sessions)
      return this.commit(s, { type: Op.closeSession, paths: [...t.ephemeralsOf(s)] })
    }
    if (k < 45) {
      const parent = r.pick(persistentParents)
      const ephemeral = r.int(4) === 0
      return this.commit(ephemeral ? r.pick(sessions) : 0n, this.createTxn(childPath(parent, name()), "d".repeat(r.int(40)), r.pick(ACL_POOL), ephemeral))
    }
    if (k < 50) {
      const parent = r.pick(persistentParents)
      const p = childPath(parent, name())
      const pcv = t.get(parent)!.cversion + 1
      if (r.int(2) === 0) return this.commit(0n, { type: Op.createContainer, path: p, data: null, acl: r.pick(ACL_POOL), parentCVersion: pcv })
      return this.commit(0n, { type: Op.createTTL, path: p, data: enc.encode("ttl"), acl: r.pick(ACL_POOL), parentCVersion: pcv, ttl: 1 + r.int(100000) })
    }
    if (k < 62 && leaves.length > 0) return this.commit(0n, { type: Op.delete, path: r.pick(leaves) })
    if (k < 80 && paths.length > 0) {
      const p = r.pick(paths)
      return this.commit(0n, { type: Op.setData, path: p, data: r.int(5) === 0 ? null : enc.encode(`v${this.uniq++}`), version: t.get(p)!.version + 1 })
    }
    if (k < 88 && paths.length > 0) {
      const p = r.pick(paths)
      // Sometimes a list never seen before, so fuzzy snapshots meet refs created after they started.
      const acl = r.int(3) === 0 ? [{ perms: 1 + r.int(31), id: { scheme: "digest", id: `u${this.uniq++}:x` } }] : r.pick(ACL_POOL)
      return this.commit(0n, { type: Op.setACL, path: p, acl, version: t.get(p)!.aversion + 1 })
    }
    if (k < 94) {
      const parent = r.pick(persistentParents)
      const a = childPath(parent, name())
      const pcv = t.get(parent)!.cversion
      const txns: Array<Txn> = [
        { type: Op.create, path: a, data: enc.encode("m"), acl: ACL_POOL[0]!, ephemeral: false, parentCVersion: pcv + 1 },
        { type: Op.create, path: childPath(a, "x"), data: null, acl: ACL_POOL[1]!, ephemeral: false, parentCVersion: 1 },
        { type: Op.setData, path: a, data: enc.encode("m2"), version: 1 }
      ]
      return this.commit(0n, { type: Op.multi, txns })
    }
    if (k < 97) return this.commit(0n, { type: Op.error, err: -101 })
    return this.commit(0n, { type: Op.multi, txns: [{ type: Op.error, err: 0 }, { type: Op.error, err: -103 }, { type: Op.error, err: -2 }] })
  }
}

/** A memory disk holding the files of a fixture directory under `/data/version-2`. */
export const memoryWithFixture = (fixtureVersion2Dir: string, skip: ReadonlyArray<string> = []) => {
  const m = makeMemory()
  const dir = "/data/version-2"
  const load = Effect.gen(function* () {
    yield* m.disk.mkdirp(dir)
    for (const name of readdirSync(fixtureVersion2Dir)) {
      if (skip.includes(name)) continue
      yield* m.disk.writeFile(join(dir, name), new Uint8Array(readFileSync(join(fixtureVersion2Dir, name))))
    }
    yield* m.disk.syncDir(dir)
  })
  Effect.runSync(load)
  return { ...m, dir, provide: <A, E>(eff: Effect.Effect<A, E, Disk>) => Effect.provideService(eff, Disk, m.disk) }
}

const hex = (b: Uint8Array | null): string => (b === null ? "" : Buffer.from(b).toString("hex"))

/** The client's view of a tree, in the layout of live_client_view.json. */
export const clientView = (tree: DataTree): Record<string, unknown> => {
  const out: Record<string, unknown> = {}
  for (const path of [...tree.paths()].sort()) {
    const n = tree.get(path)!
    const s = nodeStat(n)
    out[path] = {
      acl: tree.aclOf(n).map((a) => ({ id: a.id.id, perms: a.perms, scheme: a.id.scheme })),
      data_hex: hex(n.data),
      stat: { ...s, ephemeralOwner: Number(clientOwner(n.owner)) }
    }
  }
  return out
}

/** Asserts two trees hold the same nodes (data, ACL lists, stored stats, owners), sessions and digest. */
export const assertSameTree = (actual: DataTree, expected: DataTree, label = ""): void => {
  assert.deepStrictEqual([...actual.paths()].sort(), [...expected.paths()].sort(), `${label} paths`)
  for (const [path, e] of expected.entries()) {
    const a = actual.get(path)!
    assert.strictEqual(hex(a.data), hex(e.data), `${label} data of ${path}`)
    assert.strictEqual(a.data === null, e.data === null, `${label} null data of ${path}`)
    assert.deepStrictEqual(actual.aclOf(a), expected.aclOf(e), `${label} acl of ${path}`)
    const pick = (n: typeof a) => [n.czxid, n.mzxid, n.ctime, n.mtime, n.version, n.cversion, n.aversion, n.owner, n.pzxid, n.numChildren]
    assert.deepStrictEqual(pick(a), pick(e), `${label} stat of ${path}`)
  }
  assert.deepStrictEqual([...actual.sessions].sort(), [...expected.sessions].sort(), `${label} sessions`)
  assert.deepStrictEqual([...actual.containers].sort(), [...expected.containers].sort(), `${label} containers`)
  assert.deepStrictEqual([...actual.ttls].sort(), [...expected.ttls].sort(), `${label} ttls`)
  const eph = (t: DataTree) => [...t.ephemerals].map(([k, v]) => [k, [...v].sort()] as const).sort()
  assert.deepStrictEqual(eph(actual), eph(expected), `${label} ephemerals`)
  assert.strictEqual(actual.digest.value, expected.digest.value, `${label} digest`)
  assert.strictEqual(actual.lastProcessedZxid, expected.lastProcessedZxid, `${label} lastProcessedZxid`)
}
