/**
 * Loading a data dir (storage.md §5, ZooKeeper's FileTxnSnapLog.restore): the newest valid
 * snapshot, then every logged txn after it, applied with DataTree.processTxn. TxnDigests are
 * compared as ZooKeeper does (not while the tree is still fuzzy, i.e. before the snapshot's digest
 * zxid has been replayed); mismatches are logged, not fatal. A torn log tail is cut so the next
 * reader (ezk or ZooKeeper) sees only whole records.
 */
import { Data, Effect } from "effect"
import { DataTree, type DataTreeOptions } from "../tree/DataTree.js"
import { readTxnEntry } from "../wire/TxnRecords.js"
import { WireError } from "../wire/WireError.js"
import { Disk, type DiskError, join } from "../disk/Disk.js"
import * as Snapshot from "./Snapshot.js"
import * as SnapshotWriter from "./SnapshotWriter.js"
import * as TxnLog from "./TxnLog.js"

/** Where and how to recover. */
export interface RecoveryOptions {
  /** `<dataDir>/version-2`. */
  readonly snapDir: string
  /** `<dataLogDir>/version-2` (may equal snapDir). */
  readonly logDir: string
  readonly tree: DataTreeOptions
  /** zookeeper.db.autocreate (default true): an empty data dir starts an empty database. */
  readonly autoCreateDb?: boolean
  /** `<dataDir>/initialize`: if present it is deleted and an empty database is allowed. */
  readonly initializeFile?: string
  /** zookeeper.snapshot.trust.empty (default false): logs without any snapshot replay from zxid 0. */
  readonly trustEmptySnapshot?: boolean
  /** How many of the last replayed txns to return raw (a quorum peer's committedLog). Default 0. */
  readonly keepRecentTxns?: number
}

/** A data dir that cannot be loaded. */
export class RecoveryFailed extends Data.TaggedError("RecoveryFailed")<{
  readonly reason: "LogsWithoutSnapshot" | "NoDatabase"
  readonly detail: string
}> {
  override get message(): string {
    return this.detail
  }
}

/** A torn log tail found (and cut) during recovery. */
export interface TornTail {
  readonly file: string
  /** Where the whole records end; everything after was cut. */
  readonly offset: number
  readonly reason: TxnLog.EndReason
  readonly action: "truncated" | "deleted"
}

/** The recovered database and what recovery saw on the way. */
export interface Recovered {
  readonly tree: DataTree
  /** tree.lastProcessedZxid: the last txn applied. */
  readonly lastZxid: number
  /** The snapshot loaded, or null (new database, or trusted empty snapshot). */
  readonly snapshot: Snapshot.SnapshotFile | null
  /** A new empty database was created (snapshot.0 written). */
  readonly created: boolean
  /** Snapshots passed over because they failed a check, newest first. */
  readonly skippedSnapshots: ReadonlyArray<{ readonly name: string; readonly reason: string }>
  readonly replayedTxns: number
  /** TxnDigests compared / zxids whose digest did not match. */
  readonly digestChecks: number
  readonly digestMismatches: ReadonlyArray<number>
  /** The snapshot's own digest section: matched, mismatched, or could not be checked. */
  readonly snapshotDigest: "match" | "mismatch" | "unchecked"
  readonly tornTail: TornTail | null
  /** Holes in the zxid sequence within one epoch (txns missing from the logs). */
  readonly gaps: ReadonlyArray<{ readonly after: number; readonly next: number }>
  /** The last `keepRecentTxns` replayed txns, oldest first. */
  readonly recentTxns: ReadonlyArray<TxnLog.RawTxn>
}

const hex = (n: number): string => `0x${n.toString(16)}`

/** Up to 100 snapshots are tried, newest first (FileSnap.findNValidSnapshots). */
const MAX_SNAPSHOTS_TRIED = 100

/** Loads the newest snapshot that passes every check; null if there is none. */
const loadNewestSnapshot = (opts: RecoveryOptions, skipped: Array<{ name: string; reason: string }>) =>
  Effect.gen(function* () {
    const snaps = (yield* Snapshot.listSnapshots(opts.snapDir)).slice(0, MAX_SNAPSHOTS_TRIED)
    for (const s of snaps) {
      const ok = yield* Snapshot.checkTail(opts.snapDir, s.name)
      const loaded = ok
        ? yield* Snapshot.read(opts.snapDir, s.name, opts.tree).pipe(Effect.catchTag("SnapshotCorrupt", (e) => Effect.succeed(e)))
        : new Snapshot.SnapshotCorrupt({ file: s.name, reason: "BadTail", detail: "incomplete (no trailing \"/\")" })
      if (loaded instanceof Snapshot.SnapshotCorrupt) {
        skipped.push({ name: s.name, reason: loaded.message })
        yield* Effect.logWarning(`${loaded.message}; trying an older snapshot`)
        continue
      }
      return { file: s, loaded }
    }
    return null
  })

/** Removes temp files of snapshots that were being written when the server stopped. */
const removeStaleTemps = (dir: string) =>
  Effect.gen(function* () {
    const disk = yield* Disk
    const names = yield* disk.list(dir)
    const stale = names.filter((n) => /^snapshot\.[0-9a-fA-F]+\.tmp$/.test(n))
    for (const n of stale) yield* disk.unlink(join(dir, n))
    if (stale.length > 0) yield* disk.syncDir(dir)
  })

/** Starts an empty database where there is nothing to load (storage.md §5 step 1). */
const emptyDatabase = (opts: RecoveryOptions, hasLogs: boolean) =>
  Effect.gen(function* () {
    const disk = yield* Disk
    if (hasLogs && opts.trustEmptySnapshot !== true) {
      return yield* new RecoveryFailed({
        reason: "LogsWithoutSnapshot",
        detail: `no valid snapshot in ${opts.snapDir} but txn logs exist in ${opts.logDir}; refusing to start with an empty database (set zookeeper.snapshot.trust.empty=true to replay the logs from zxid 0)`
      })
    }
    let initialize = false
    if (opts.initializeFile !== undefined && (yield* disk.exists(opts.initializeFile))) {
      yield* disk.unlink(opts.initializeFile)
      initialize = true
    }
    if (!hasLogs && opts.autoCreateDb === false && !initialize) {
      return yield* new RecoveryFailed({ reason: "NoDatabase", detail: `no database in ${opts.snapDir} and zookeeper.db.autocreate=false (create the initialize file to start an empty one)` })
    }
    const tree = new DataTree(opts.tree)
    if (!hasLogs) {
      // ZooKeeper saves the empty database right away (snapshot.0).
      yield* SnapshotWriter.write(opts.snapDir, tree, { fuzzy: false })
    }
    return tree
  })

/**
 * Recovers the database from `snapDir` + `logDir` (creating both if needed). Fails on a corrupt
 * log (LogCorrupt names file and offset), on logs without any valid snapshot, or on I/O errors.
 */
export const recover = (opts: RecoveryOptions): Effect.Effect<Recovered, DiskError | TxnLog.LogCorrupt | RecoveryFailed, Disk> =>
  Effect.gen(function* () {
    const disk = yield* Disk
    yield* disk.mkdirp(opts.snapDir)
    yield* disk.mkdirp(opts.logDir)
    yield* removeStaleTemps(opts.snapDir)
    const skippedSnapshots: Array<{ name: string; reason: string }> = []
    const found = yield* loadNewestSnapshot(opts, skippedSnapshots)
    const hasLogs = (yield* TxnLog.listLogs(opts.logDir)).length > 0
    const tree = found !== null ? found.loaded.tree : yield* emptyDatabase(opts, hasLogs)
    const replay = new Replay(tree, found?.loaded ?? null, opts.keepRecentTxns ?? 0)
    const scanned = yield* TxnLog.scan(opts.logDir, tree.lastProcessedZxid + 1, replay.apply)
    const tornTail = yield* handleTornTails(opts.logDir, scanned)
    yield* replay.report(found?.file.name ?? null)
    return {
      tree,
      lastZxid: tree.lastProcessedZxid,
      snapshot: found?.file ?? null,
      created: found === null && !hasLogs,
      skippedSnapshots,
      replayedTxns: scanned.delivered,
      digestChecks: replay.digestChecks,
      digestMismatches: replay.mismatches,
      snapshotDigest: replay.snapshotDigest,
      tornTail,
      gaps: replay.gaps,
      recentTxns: replay.recentTxns()
    }
  })

/** Cuts a torn tail of the newest log; torn tails of older files (left by a crash before a restart) are only reported. */
const handleTornTails = (dir: string, scanned: TxnLog.ScanResult) =>
  Effect.gen(function* () {
    const files = scanned.files
    for (let i = 0; i < files.length - 1; i++) {
      const f = files[i]!
      if (TxnLog.isTorn(f)) yield* Effect.logWarning(`txn log ${f.name}: partial record at offset ${f.goodEnd} (${f.reason}), continuing with the next log file`)
    }
    const last = files[files.length - 1]
    if (last === undefined || !TxnLog.isTorn(last)) return null
    const action = yield* TxnLog.cutTornTail(dir, last)
    yield* Effect.logWarning(
      `txn log ${last.name}: torn tail at offset ${last.goodEnd} (${last.reason}); ${action === "deleted" ? "the file held no whole record and was deleted" : "cut after the last whole record"}`
    )
    return { file: last.name, offset: last.goodEnd, reason: last.reason, action } satisfies TornTail
  })

/** Applies replayed records to the tree and keeps the digest bookkeeping (plain, synchronous). */
class Replay {
  digestChecks = 0
  readonly mismatches: Array<number> = []
  readonly gaps: Array<{ after: number; next: number }> = []
  snapshotDigest: "match" | "mismatch" | "unchecked" = "unchecked"
  /** The snapshot's digest section still to be reached; TxnDigests are not compared before (fuzzy state). */
  private pending: Snapshot.ZxidDigest | null = null
  private prev: number
  private readonly recent: Array<TxnLog.RawTxn> = []

  constructor(
    readonly tree: DataTree,
    readonly snapshot: Snapshot.LoadedSnapshot | null,
    readonly keepRecent: number
  ) {
    this.prev = tree.lastProcessedZxid
    const d = snapshot?.digest ?? null
    if (d !== null && tree.options.digestEnabled) {
      // Digest taken at the snapshot's own zxid: nothing was fuzzy, compare now. Older than it:
      // ZooKeeper's new-leader case, not comparable (DataTree.deserializeZxidDigest).
      if (d.zxid === snapshot!.zxid) this.snapshotDigest = this.matches(d.hi, d.lo) ? "match" : "mismatch"
      else if (d.zxid > snapshot!.zxid) this.pending = d
    }
  }

  private matches(hi: number, lo: number): boolean {
    return this.tree.digest.hi === hi && this.tree.digest.lo === lo
  }

  readonly apply = (r: TxnLog.LogRecord): void => {
    const e = readTxnEntry(r.entry)
    if (e.header.zxid !== r.zxid) throw new WireError({ reason: "BadRecord", detail: `header zxid ${hex(e.header.zxid)} in record ${hex(r.zxid)}` })
    const epoch = Math.floor(r.zxid / 4294967296)
    if (epoch === Math.floor(this.prev / 4294967296) && r.zxid !== this.prev + 1) this.gaps.push({ after: this.prev, next: r.zxid })
    this.prev = r.zxid
    this.tree.processTxn(e.header, e.txn)
    if (this.tree.options.digestEnabled) {
      const p = this.pending
      if (p !== null) {
        if (r.zxid === p.zxid) {
          this.snapshotDigest = this.matches(p.hi, p.lo) ? "match" : "mismatch"
          this.pending = null
        }
      }
      if (this.pending === null && e.digest !== null && e.digest.version === Snapshot.DIGEST_VERSION) {
        this.digestChecks++
        if (!this.matches(e.digest.hi, e.digest.lo)) this.mismatches.push(r.zxid)
      }
    }
    if (this.keepRecent > 0) {
      this.recent.push({ zxid: r.zxid, entry: r.entry.slice() })
      if (this.recent.length >= 2 * this.keepRecent) this.recent.splice(0, this.recent.length - this.keepRecent)
    }
  }

  recentTxns(): ReadonlyArray<TxnLog.RawTxn> {
    return this.recent.slice(Math.max(0, this.recent.length - this.keepRecent))
  }

  /** Logs what ZooKeeper would log about digests, gaps and unresolved ACLs. */
  report(snapshotName: string | null): Effect.Effect<void> {
    const lines: Array<string> = []
    for (const z of this.mismatches.slice(0, 10)) lines.push(`Digests are not matching after replaying zxid ${hex(z)}`)
    if (this.mismatches.length > 10) lines.push(`${this.mismatches.length - 10} more digest mismatches`)
    if (this.snapshotDigest === "mismatch") lines.push(`digest of ${snapshotName} does not match the tree after replay`)
    if (this.pending !== null) lines.push(`the logs end at ${hex(this.tree.lastProcessedZxid)}, before the digest zxid ${hex(this.pending.zxid)} of ${snapshotName}`)
    for (const g of this.gaps.slice(0, 10)) lines.push(`txn log gap: ${hex(g.next)} follows ${hex(g.after)} (txns missing from the logs)`)
    for (const path of this.snapshot?.unresolvedAcl ?? []) {
      const node = this.tree.get(path)
      if (node !== undefined && this.tree.aclOf(node).length === 0) lines.push(`${path}: its ACL was missing from ${snapshotName} and no setACL restored it; it is inaccessible until the super user sets one`)
    }
    return Effect.forEach(lines, (l) => Effect.logWarning(l), { discard: true })
  }
}
