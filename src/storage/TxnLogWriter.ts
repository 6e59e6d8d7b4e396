/**
 * Appending to the txn log with group commit: `append` only encodes into an in-memory batch (no
 * Effect, no I/O); `sync` swaps the batch out, writes it with one positional write and makes it
 * durable with one fdatasync (SyncRequestProcessor's flush). Callers acknowledge a txn only after
 * a `sync` that started after its `append` succeeds. The record format is ./TxnLogFormat.ts.
 */
import { Deferred, Effect, FiberId } from "effect"
import { Disk, type DiskError, type DiskFile, type DiskService, join } from "../disk/Disk.js"
import { adler32 } from "../tree/Crc32.js"
import { JuteWriter } from "../wire/Jute.js"
import { type TxnEntry, writeTxnEntry } from "../wire/TxnRecords.js"
import { assert } from "./internal/assert.js"
import { DEFAULT_PREALLOC_BYTES, entryZxid, EOR, LOG_HEADER_BYTES, LOG_MAGIC, LOG_VERSION, logName, RECORD_OVERHEAD } from "./TxnLogFormat.js"

/** Options of a log writer. */
export interface WriterOptions {
  /** The log directory (`<dataLogDir>/version-2`). */
  readonly dir: string
  /** Preallocation chunk (zookeeper.preAllocSize); 0 disables it. Default 64 MiB. */
  readonly preAllocSizeBytes?: number
  /** Largest zxid already in the logs (from recovery): appends must be above it. */
  readonly lastZxid?: number
}

/** The file the next append goes to. */
interface Tail {
  readonly name: string
  /** File position of the next record. */
  nextPos: number
  /** File size after preallocation so far (FilePadding.currentSize). */
  allocSize: number
}

/** A run of batch bytes bound for one file, written with one positional write. */
interface Segment {
  readonly name: string
  /** The file must be created (the segment starts with the file header at position 0). */
  readonly isNew: boolean
  readonly startPos: number
  start: number
  end: number
  /** Preallocated size to establish before writing (a zero byte at padTo - 1), 0 for none. */
  padTo: number
  lastZxid: number
  /** Own copy of the bytes, once the segment has outlived its batch buffer (a failed sync). */
  bytes: Uint8Array | null
}

/**
 * Appends txns to `log.<zxid>` files with group commit. Not shared between fibers for appends;
 * `sync` is serialized internally, so any fiber may call it.
 */
export class TxnLogWriter {
  private batch = new JuteWriter(64 * 1024)
  private segments: Array<Segment> = []
  /** Segments of a failed sync, written again (same bytes, same positions) by the next one. */
  private retry: Array<Segment> = []
  private tail: Tail | null = null
  private readonly handles = new Map<string, DiskFile>()
  private readonly preAlloc: number
  /** Zxid of the last append. */
  lastAppendedZxid: number
  /** Zxid of the last txn made durable by `sync`. */
  lastSyncedZxid: number
  /** Appends not yet handed to a sync. */
  pendingCount = 0

  constructor(
    private readonly disk: DiskService,
    readonly options: WriterOptions
  ) {
    this.preAlloc = options.preAllocSizeBytes ?? DEFAULT_PREALLOC_BYTES
    assert(Number.isSafeInteger(this.preAlloc) && this.preAlloc >= 0, "preAllocSizeBytes is a non-negative integer")
    this.lastAppendedZxid = options.lastZxid ?? 0
    this.lastSyncedZxid = this.lastAppendedZxid
  }

  /** Name of the file appends currently go to (null until the first append after a roll). */
  get currentFile(): string | null {
    return this.tail?.name ?? null
  }

  /**
   * Encodes one record (checksum, length, `entry`, 0x42) into the pending batch. `entry` is the
   * txnEntry (TxnHeader + record + optional TxnDigest), e.g. a PROPOSAL's data. Nothing is
   * durable until `sync` succeeds.
   */
  append(zxid: number, entry: Uint8Array): void {
    assert(entry.length >= 20 && entryZxid(entry, 0) === zxid, "entry carries the zxid it is appended under")
    const seg = this.begin(zxid)
    const w = this.batch
    const at = w.pos
    w.ensure(RECORD_OVERHEAD + entry.length)
    w.view.setUint32(at, 0)
    w.view.setUint32(at + 4, adler32(entry))
    w.view.setInt32(at + 8, entry.length)
    w.bytes.set(entry, at + 12)
    w.bytes[at + 12 + entry.length] = EOR
    w.pos = at + RECORD_OVERHEAD + entry.length
    this.end(seg, zxid, w.pos - at)
  }

  /** Like `append`, but the caller writes the txnEntry straight into the batch (no intermediate copy). */
  appendWith(zxid: number, write: (w: JuteWriter) => void): void {
    const w = this.batch
    this.checkpoint()
    const seg = this.begin(zxid)
    const at = w.pos
    w.long(0)
    const mark = w.mark()
    try {
      write(w)
    } catch (e) {
      // A half-encoded record must not stay in the batch: later records would land at wrong offsets.
      this.undo()
      throw e
    }
    w.patch(mark)
    const len = w.pos - mark - 4
    // The buffer may have grown inside `write`: read bytes/view only now.
    assert(len >= 20 && entryZxid(w.bytes, mark + 4) === zxid, "entry carries the zxid it is appended under")
    w.view.setUint32(at + 4, adler32(w.bytes, 1, mark + 4, w.pos))
    w.byte(EOR)
    this.end(seg, zxid, w.pos - at)
  }

  /** Encodes a decoded txn entry into the batch. */
  appendEntry(entry: TxnEntry): void {
    this.appendWith(entry.header.zxid, (w) => writeTxnEntry(w, entry))
  }

  /**
   * Ends the current file: the next append starts `log.<its zxid>` (FileTxnLog.rollLog). Appends
   * already made still go to the old file with the next sync.
   */
  roll(): void {
    this.tail = null
  }

  // The append state before the current `appendWith`, so a throwing encoder can be undone (fields, not a closure: no allocation per append).
  private cpPos = 0
  private cpSegments = 0
  private cpTail: Tail | null = null
  private cpNextPos = 0
  private cpAllocSize = 0
  private cpPadTo = 0

  private checkpoint(): void {
    this.cpPos = this.batch.pos
    this.cpSegments = this.segments.length
    this.cpTail = this.tail
    this.cpNextPos = this.tail?.nextPos ?? 0
    this.cpAllocSize = this.tail?.allocSize ?? 0
    this.cpPadTo = this.segments[this.cpSegments - 1]?.padTo ?? 0
  }

  private undo(): void {
    this.batch.pos = this.cpPos
    this.segments.length = this.cpSegments
    this.tail = this.cpTail
    if (this.tail !== null) {
      this.tail.nextPos = this.cpNextPos
      this.tail.allocSize = this.cpAllocSize
    }
    const last = this.segments[this.cpSegments - 1]
    if (last !== undefined) last.padTo = this.cpPadTo
  }

  private begin(zxid: number): Segment {
    // The message is built only on failure: this runs on every append.
    if (!(zxid > this.lastAppendedZxid)) assert(false, `zxid 0x${zxid.toString(16)} appended after 0x${this.lastAppendedZxid.toString(16)}`)
    let tail = this.tail
    let seg = this.segments[this.segments.length - 1]
    if (tail === null) {
      tail = { name: logName(zxid), nextPos: LOG_HEADER_BYTES, allocSize: LOG_HEADER_BYTES }
      this.tail = tail
      seg = { name: tail.name, isNew: true, startPos: 0, start: this.batch.pos, end: 0, padTo: 0, lastZxid: zxid, bytes: null }
      this.segments.push(seg)
      this.batch.int(LOG_MAGIC).int(LOG_VERSION).long(0)
    } else if (seg === undefined || seg.name !== tail.name) {
      seg = { name: tail.name, isNew: false, startPos: tail.nextPos, start: this.batch.pos, end: 0, padTo: 0, lastZxid: zxid, bytes: null }
      this.segments.push(seg)
    }
    // FilePadding.calculateFileSizeWithPadding, with the record's start as the position.
    const pos = tail.nextPos
    if (this.preAlloc > 0 && pos + 4096 >= tail.allocSize) {
      tail.allocSize = pos > tail.allocSize ? pos + this.preAlloc - ((pos + this.preAlloc) % this.preAlloc) : tail.allocSize + this.preAlloc
      seg.padTo = tail.allocSize
    }
    return seg
  }

  private end(seg: Segment, zxid: number, recordBytes: number): void {
    this.tail!.nextPos += recordBytes
    seg.end = this.batch.pos
    seg.lastZxid = zxid
    this.lastAppendedZxid = zxid
    this.pendingCount++
  }

  /**
   * Makes every txn appended before this call durable: the pending batch is written with one
   * positional O_DSYNC write per file touched (normally one), plus a 1-byte write when the
   * preallocated area grows and creating/syncing the directory for a new file. Appends may continue
   * meanwhile; they go into a fresh batch.
   *
   * Up to `maxFlights` batches are written at once (a batch that arrives while another is on its
   * way to the disk does not wait for it: on a disk whose syncs vary from 0.1 to tens of ms the wait
   * behind a slow sync was most of a write's latency), and a sync succeeds only once its batch and
   * every batch before it are durable, so what is reported durable is always a prefix of the log.
   * A batch that creates a file, grows the preallocation or rewrites a failed batch is written
   * alone. On failure the unsynced bytes are kept and written again, at the same positions, by the
   * next `sync`; later batches are not reported durable until then. Uninterruptible: an abandoned
   * batch would leave a hole before later records, and readers take a hole for the end of the log.
   */
  readonly sync: Effect.Effect<void, DiskError> = Effect.uninterruptible(Effect.suspend(() => this.startSync()))

  /** Batches written at once, at most. */
  readonly maxFlights = MAX_FLIGHTS
  /** Batches started and not yet known durable as a prefix, oldest first. */
  private flights: Array<Flight> = []
  private writing = 0
  private writingAlone = false
  /** Syncs waiting until a batch being written finishes. */
  private waiters: Array<() => void> = []
  private readonly freeBuffers: Array<JuteWriter> = []

  private startSync(): Effect.Effect<void, DiskError> {
    if (this.segments.length === 0 && this.retry.length === 0) {
      // Everything appended so far is in a batch already started (or durable).
      const last = this.flights[this.flights.length - 1]
      return last === undefined ? Effect.void : Deferred.await(last.done)
    }
    const alone = this.mustWriteAlone()
    if (alone ? this.writing > 0 : this.writingAlone || this.writing >= MAX_FLIGHTS) {
      return Effect.zipRight(this.batchFinished, Effect.suspend(() => this.startSync()))
    }
    return this.fly(alone)
  }

  private mustWriteAlone(): boolean {
    if (this.retry.length > 0) return true
    for (const s of this.segments) if (s.isNew || s.padTo > 0 || !this.handles.has(s.name)) return true
    return false
  }

  private readonly batchFinished: Effect.Effect<void> = Effect.async<void>((resume) => {
    this.waiters.push(() => resume(Effect.void))
  })

  /** Writes the pending batch (and what failed before) as one flight; succeeds once the prefix up to it is durable. */
  private fly(alone: boolean): Effect.Effect<void, DiskError> {
    const batch = this.batch
    const rewrites = this.retry.length > 0
    const work = rewrites ? this.retry.concat(this.segments) : this.segments
    let lastZxid = 0
    for (const s of work) if (s.lastZxid > lastZxid) lastZxid = s.lastZxid
    const flight: Flight = { lastZxid, state: "writing", done: Deferred.unsafeMake(FiberId.none) }
    this.batch = this.freeBuffers.pop() ?? new JuteWriter(64 * 1024)
    this.batch.reset()
    this.segments = []
    this.retry = []
    this.pendingCount = 0
    this.flights.push(flight)
    this.writing++
    if (alone) this.writingAlone = true
    let i = 0
    const loop: Effect.Effect<void, DiskError> = Effect.suspend(() =>
      i < work.length ? Effect.zipRight(this.writeSegment(work[i]!, batch), Effect.suspend(() => (i++, loop))) : Effect.void
    )
    return loop.pipe(
      Effect.matchEffect({
        onFailure: (e) => {
          // Keep what did not make it, with its own bytes, for the next sync; no later batch counts as durable before it.
          this.retry = this.retry.concat(work.slice(i).map((s) => ownBytes(s, batch)))
          flight.state = "failed"
          for (let k = this.flights.indexOf(flight); k < this.flights.length; k++) Deferred.unsafeDone(this.flights[k]!.done, Effect.fail(e))
          return this.landed(alone, batch)
        },
        onSuccess: () => {
          flight.state = "written"
          // Written alone after every other batch finished, it rewrote whatever had failed before it.
          if (rewrites) for (const f of this.flights) if (f.state === "failed") f.state = "written"
          return this.landed(alone, batch)
        }
      }),
      Effect.zipRight(Deferred.await(flight.done))
    )
  }

  /** A flight finished: the durable prefix moves on, and waiting syncs may start. */
  private landed(alone: boolean, batch: JuteWriter): Effect.Effect<void> {
    this.writing--
    if (alone) this.writingAlone = false
    this.freeBuffers.push(batch)
    while (this.flights.length > 0 && this.flights[0]!.state === "written") {
      const f = this.flights.shift()!
      if (f.lastZxid > this.lastSyncedZxid) this.lastSyncedZxid = f.lastZxid
      Deferred.unsafeDone(f.done, Effect.void)
    }
    const waiters = this.waiters
    this.waiters = []
    for (const wake of waiters) wake()
    return this.writing === 0 ? this.closeOldHandles() : Effect.void
  }

  private writeSegment(seg: Segment, batch: JuteWriter): Effect.Effect<void, DiskError> {
    const bytes = seg.bytes ?? batch.bytes.subarray(seg.start, seg.end)
    const path = join(this.options.dir, seg.name)
    return Effect.gen(this, function* () {
      let h = this.handles.get(seg.name)
      if (h === undefined) {
        // O_DSYNC: each batch is one positional write that is durable on return (datasync is then free).
        h = yield* this.disk.open(path, seg.isNew ? "create" : "readWrite", { dsync: true })
        this.handles.set(seg.name, h)
      }
      if (seg.padTo > 0) yield* h.write(ZERO_BYTE, seg.padTo - 1)
      yield* h.write(bytes, seg.startPos)
      yield* h.datasync
      if (seg.isNew) yield* this.disk.syncDir(this.options.dir)
    })
  }

  /** Closes files that no append can reach any more (rolled away from), unless a retry still needs them. */
  private closeOldHandles(): Effect.Effect<void> {
    const keep = this.tail?.name
    const closing: Array<DiskFile> = []
    for (const [name, h] of this.handles) {
      if (name === keep || this.segments.some((s) => s.name === name)) continue
      this.handles.delete(name)
      closing.push(h)
    }
    // The data is durable already; a failing close must not turn the sync into a failure.
    return closing.length === 0 ? Effect.void : Effect.forEach(closing, (h) => Effect.ignore(h.close), { discard: true })
  }

  /** Syncs what is pending and closes every file; the writer can be used again (it starts a new file). */
  readonly close: Effect.Effect<void, DiskError> = Effect.zipRight(
    this.sync,
    Effect.suspend(() => this.closeWhenIdle())
  )

  /** Closes the files once no batch is being written (checked in the same step that closes them). */
  private closeWhenIdle(): Effect.Effect<void, DiskError> {
    if (this.writing > 0) return Effect.zipRight(this.batchFinished, Effect.suspend(() => this.closeWhenIdle()))
    this.tail = null
    const hs = [...this.handles.values()]
    this.handles.clear()
    return Effect.forEach(hs, (h) => h.close, { discard: true })
  }

  /**
   * Forgets pending state after the logs were changed underneath (truncation for a ZAB TRUNC):
   * the next append starts a new file and must be above `lastZxid`. Call after `close`.
   */
  reset(lastZxid: number): void {
    assert(this.segments.length === 0 && this.retry.length === 0 && this.handles.size === 0, "reset of a closed writer")
    this.tail = null
    this.lastAppendedZxid = lastZxid
    this.lastSyncedZxid = lastZxid
  }
}

const ZERO_BYTE = new Uint8Array(1)

/** Batches written at once: a few, since each takes a thread of libuv's pool (4 by default) while the disk syncs it. */
const MAX_FLIGHTS = 3

/** One batch on its way to the disk. */
interface Flight {
  /** Its last txn. */
  readonly lastZxid: number
  /** "failed": its unwritten bytes wait in `retry` for a later batch. */
  state: "writing" | "written" | "failed"
  /** Succeeds once this batch and every one before it are durable; fails when one of them failed. */
  readonly done: Deferred.Deferred<void, DiskError>
}

const ownBytes = (s: Segment, batch: JuteWriter): Segment =>
  s.bytes !== null ? s : { ...s, bytes: batch.bytes.slice(s.start, s.end), start: 0, end: s.end - s.start }

/** A writer for `options.dir` over the current Disk. */
export const makeWriter = (options: WriterOptions): Effect.Effect<TxnLogWriter, never, Disk> =>
  Effect.map(Disk, (disk) => new TxnLogWriter(disk, options))
