/**
 * ZooKeeper's transaction log, `log.<hex zxid>` (storage.md §2), byte compatible with 3.8:
 * a 16-byte header (ZKLG, version 2, dbid 0) and records of `long adler32, int len, txnEntry, 0x42`,
 * with the file zero-extended in `preAllocSize` chunks.
 *
 * Writing is group commit: `append` only encodes into an in-memory batch (no Effect, no I/O);
 * `sync` swaps the batch out, writes it with one positional write and makes it durable with one
 * fdatasync (SyncRequestProcessor's flush). Callers acknowledge a txn only after a `sync` that
 * started after its `append` succeeds.
 *
 * Reading follows ZooKeeper's FileTxnIterator: a file ends at a zero length (the padding), a
 * truncated record or a bad end-of-record byte (a torn last write); a checksum mismatch is a hard
 * `LogCorrupt` error naming the file and offset, so a damaged log is never silently skipped.
 */
import { Data, Effect } from "effect"
import { adler32 } from "../tree/Crc32.js"
import { JuteWriter } from "../wire/Jute.js"
import { type TxnEntry, writeTxnEntry } from "../wire/TxnRecords.js"
import { WireError } from "../wire/WireError.js"
import { Disk, type DiskError, type DiskFile, type DiskService, join } from "../disk/Disk.js"
import { assert } from "./internal/assert.js"

/** "ZKLG". */
export const LOG_MAGIC = 0x5a4b4c47
export const LOG_VERSION = 2
export const LOG_HEADER_BYTES = 16
/** End-of-record marker ('B'). */
export const EOR = 0x42
/** zookeeper.preAllocSize default: 65 536 KiB. */
export const DEFAULT_PREALLOC_BYTES = 64 * 1024 * 1024
/** Bytes per record besides the entry: checksum long, length int, EOR byte. */
const RECORD_OVERHEAD = 13
/** Read granularity when scanning a log (files are mostly zero padding, so never read them whole). */
const READ_CHUNK_BYTES = 1 << 20
const TWO_32 = 4294967296

/** A log file's name for the zxid of its first txn (`Long.toHexString`). */
export const logName = (zxid: number): string => `log.${zxid.toString(16)}`

/** The zxid in a `log.<hex>` name, or null for any other name (temp files, snapshots, ...). */
export const parseLogName = (name: string): number | null => {
  const m = /^log\.([0-9a-fA-F]{1,16})$/.exec(name)
  if (m === null) return null
  const n = parseInt(m[1]!, 16)
  return Number.isSafeInteger(n) ? n : null
}

/** A log file in a directory. */
export interface LogFile {
  readonly name: string
  readonly zxid: number
}

/** The `log.*` files of a directory, oldest first. */
export const listLogs = (dir: string): Effect.Effect<ReadonlyArray<LogFile>, DiskError, Disk> =>
  Effect.flatMap(Disk, (disk) =>
    Effect.map(disk.list(dir), (names) => {
      const out: Array<LogFile> = []
      for (const name of names) {
        const zxid = parseLogName(name)
        if (zxid !== null) out.push({ name, zxid })
      }
      return out.sort((a, b) => a.zxid - b.zxid)
    })
  )

/**
 * The files that can hold txns >= target, oldest first (storage.md §5 step 3): every file named
 * >= target plus the newest one named below it.
 */
export const selectLogs = (files: ReadonlyArray<LogFile>, target: number): ReadonlyArray<LogFile> => {
  let first = 0
  for (let i = 0; i < files.length; i++) if (files[i]!.zxid < target) first = i
  return files.slice(first)
}

/** A log that cannot be read past some point although it is not a torn tail. */
export class LogCorrupt extends Data.TaggedError("LogCorrupt")<{
  readonly file: string
  readonly offset: number
  readonly reason: "Checksum" | "BadMagic" | "BadLength" | "BadEntry" | "Damaged"
  readonly detail: string
}> {
  override get message(): string {
    return `txn log ${this.file} corrupt at offset ${this.offset} (${this.reason}): ${this.detail}`
  }
}

// ---------------------------------------------------------------------------------------------
// Writer

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
  private spare = new JuteWriter(64 * 1024)
  private segments: Array<Segment> = []
  /** Segments of a failed sync, written again (same bytes, same positions) by the next one. */
  private retry: Array<Segment> = []
  private tail: Tail | null = null
  private readonly handles = new Map<string, DiskFile>()
  private readonly lock = Effect.unsafeMakeSemaphore(1)
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
   * Makes every txn appended before this call durable: one positional O_DSYNC write per file
   * touched (normally one), plus a 1-byte write when the preallocated area grows and
   * creating/syncing the directory for a new file. Appends
   * may continue meanwhile; they go into a fresh batch. On failure the unsynced bytes are kept and
   * written again, at the same positions, by the next `sync`. Uninterruptible: an abandoned batch
   * would leave a hole before later records, and readers take a hole for the end of the log.
   */
  readonly sync: Effect.Effect<void, DiskError> = this.lock.withPermits(1)(Effect.uninterruptible(Effect.suspend(() => this.flush())))

  private flush(): Effect.Effect<void, DiskError> {
    if (this.segments.length === 0 && this.retry.length === 0) return Effect.void
    const batch = this.batch
    const work = this.retry.length === 0 ? this.segments : this.retry.concat(this.segments)
    this.batch = this.spare
    this.batch.reset()
    this.segments = []
    this.retry = []
    this.pendingCount = 0
    let i = 0
    const loop: Effect.Effect<void, DiskError> = Effect.suspend(() =>
      i < work.length ? Effect.zipRight(this.writeSegment(work[i]!, batch), Effect.suspend(() => (i++, loop))) : Effect.void
    )
    return loop.pipe(
      Effect.matchEffect({
        onFailure: (e) => {
          // Keep what did not make it, with its own bytes, ahead of later appends.
          this.retry = work.slice(i).map((s) => ownBytes(s, batch))
          this.spare = batch
          return Effect.fail(e)
        },
        onSuccess: () => {
          for (const s of work) if (s.lastZxid > this.lastSyncedZxid) this.lastSyncedZxid = s.lastZxid
          this.spare = batch
          return this.closeOldHandles()
        }
      })
    )
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
    this.lock.withPermits(1)(
      Effect.suspend(() => {
        this.tail = null
        const hs = [...this.handles.values()]
        this.handles.clear()
        return Effect.forEach(hs, (h) => h.close, { discard: true })
      })
    )
  )

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

const ownBytes = (s: Segment, batch: JuteWriter): Segment =>
  s.bytes !== null ? s : { ...s, bytes: batch.bytes.slice(s.start, s.end), start: 0, end: s.end - s.start }

/** The zxid field of a txnEntry starting at `at` (TxnHeader: long clientId, int cxid, long zxid). */
const entryZxid = (b: Uint8Array, at: number): number => {
  // Byte arithmetic rather than a DataView: this runs on every append and must not allocate.
  const hi = (b[at + 12]! << 24) | (b[at + 13]! << 16) | (b[at + 14]! << 8) | b[at + 15]!
  const lo = ((b[at + 16]! << 24) | (b[at + 17]! << 16) | (b[at + 18]! << 8) | b[at + 19]!) >>> 0
  return hi * TWO_32 + lo
}

/** A writer for `options.dir` over the current Disk. */
export const makeWriter = (options: WriterOptions): Effect.Effect<TxnLogWriter, never, Disk> =>
  Effect.map(Disk, (disk) => new TxnLogWriter(disk, options))

// ---------------------------------------------------------------------------------------------
// Reader

/** One record handed to a scan callback. `entry` is a view valid only during the call. */
export interface LogRecord {
  readonly zxid: number
  readonly entry: Uint8Array
  readonly file: string
  /** Offset of the record (its checksum field) in the file. */
  readonly offset: number
}

/** Why reading a file stopped. `torn*` and `noHeader` mean a partially written tail. */
export type EndReason = "eof" | "zeroPadding" | "tornHeader" | "truncated" | "badEor" | "noHeader"

/** How one file was read. */
export interface FileScan {
  readonly name: string
  /** Records read (including those skipped because they were below `fromZxid`). */
  readonly records: number
  /** Zxid of the last good record, or null if there was none. */
  readonly lastZxid: number | null
  /** Offset just after the last good record (16 after the header if none). */
  readonly goodEnd: number
  readonly reason: EndReason
}

/** True when a file ended with a partially written record (or header). */
export const isTorn = (s: FileScan): boolean => s.reason !== "eof" && s.reason !== "zeroPadding"

type Step = { readonly _tag: "need"; readonly bytes: number } | { readonly _tag: "end"; readonly reason: EndReason } | { readonly _tag: "corrupt"; readonly error: LogCorrupt }

const NEED_HEADER: Step = { _tag: "need", bytes: 12 }

/** Parses records out of file bytes held in a window; pure and synchronous, the driver does the I/O. */
class RecordParser {
  pos = LOG_HEADER_BYTES
  records = 0
  lastZxid: number | null = null

  constructor(
    readonly name: string,
    readonly size: number,
    readonly fromZxid: number,
    readonly f: (r: LogRecord) => void
  ) {}

  /** Consumes whole records from `buf` (file bytes starting at `bufStart`) until it needs more or the file ends. */
  parse(buf: Uint8Array, bufStart: number): Step {
    const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength)
    const bufEnd = bufStart + buf.length
    for (;;) {
      const p = this.pos
      const left = this.size - p
      if (left <= 0) return { _tag: "end", reason: "eof" }
      const o = p - bufStart
      if (left < 12) {
        if (bufEnd < this.size) return { _tag: "need", bytes: left }
        return { _tag: "end", reason: allZero(buf, o, o + left) ? "zeroPadding" : "tornHeader" }
      }
      if (bufEnd - p < 12) return NEED_HEADER
      const crcHi = view.getInt32(o)
      const crcLo = view.getUint32(o + 4)
      const len = view.getInt32(o + 8)
      // Zero length is the preallocated padding; with a non-zero checksum it is a torn record start.
      if (len === 0) return { _tag: "end", reason: crcHi === 0 && crcLo === 0 ? "zeroPadding" : "tornHeader" }
      // A torn write leaves a prefix of the length and zeros, never more than a real record's length.
      if (len < 0 || len > MAX_RECORD_BYTES) return this.corrupt(p, "BadLength", `record length ${len}`)
      const total = RECORD_OVERHEAD + len
      if (left < total) return { _tag: "end", reason: "truncated" }
      if (bufEnd - p < total) return { _tag: "need", bytes: total }
      if (buf[o + 12 + len] !== EOR) return { _tag: "end", reason: "badEor" }
      const sum = adler32(buf, 1, o + 12, o + 12 + len)
      if (crcHi !== 0 || crcLo !== sum) {
        return this.corrupt(p, "Checksum", `stored Adler-32 0x${(crcHi >>> 0).toString(16)}${crcLo.toString(16).padStart(8, "0")}, computed 0x${sum.toString(16)}`)
      }
      if (len < 20) return this.corrupt(p, "BadEntry", `entry of ${len} bytes has no TxnHeader`)
      const hi = view.getInt32(o + 24)
      if (hi < 0 || hi > 0x1fffff) return this.corrupt(p, "BadEntry", `zxid high word 0x${(hi >>> 0).toString(16)} out of range`)
      const zxid = hi * TWO_32 + view.getUint32(o + 28)
      if (zxid >= this.fromZxid) {
        const error = this.deliver({ zxid, entry: buf.subarray(o + 12, o + 12 + len), file: this.name, offset: p })
        if (error !== null) return { _tag: "corrupt", error }
      }
      this.records++
      this.lastZxid = zxid
      this.pos = p + total
    }
  }

  /** Runs the callback; a WireError from decoding the entry becomes LogCorrupt at this record. */
  private deliver(r: LogRecord): LogCorrupt | null {
    try {
      this.f(r)
      return null
    } catch (e) {
      if (e instanceof WireError) return new LogCorrupt({ file: this.name, offset: r.offset, reason: "BadEntry", detail: `zxid 0x${r.zxid.toString(16)}: ${e.message}` })
      throw e
    }
  }

  private corrupt(offset: number, reason: LogCorrupt["reason"], detail: string): Step {
    return { _tag: "corrupt", error: new LogCorrupt({ file: this.name, offset, reason, detail }) }
  }
}

/** Longer records cannot have been written (jute.maxbuffer plus its extra allowance, with room to spare). */
const MAX_RECORD_BYTES = 4 * 1024 * 1024

/** Offset of the first whole, checksum-valid record in `b`, or -1. */
const wholeRecordIn = (b: Uint8Array): number => {
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength)
  for (let o = 0; o + RECORD_OVERHEAD + 20 <= b.length; o++) {
    if (b[o] !== 0 || b[o + 1] !== 0 || b[o + 2] !== 0 || b[o + 3] !== 0) continue // checksum high word is 0
    const len = view.getInt32(o + 8)
    if (len < 20 || len > MAX_RECORD_BYTES || o + RECORD_OVERHEAD + len > b.length || b[o + 12 + len] !== EOR) continue
    if (view.getUint32(o + 4) === adler32(b, 1, o + 12, o + 12 + len)) return o
  }
  return -1
}

const allZero = (b: Uint8Array, from: number, to: number): boolean => {
  for (let i = from; i < to; i++) if (b[i] !== 0) return false
  return true
}

const HEADER = new Uint8Array([0x5a, 0x4b, 0x4c, 0x47, 0, 0, 0, LOG_VERSION, 0, 0, 0, 0, 0, 0, 0, 0])

/**
 * A new file whose first write (header + records) was torn before the header was complete: a
 * prefix of the header, then zeros up to the first record's length field.
 */
const isTornHeader = (buf: Uint8Array): boolean => {
  let i = 0
  while (i < LOG_HEADER_BYTES && buf[i] === HEADER[i]) i++
  if (i === LOG_HEADER_BYTES) return false
  return allZero(buf, i, Math.min(buf.length, LOG_HEADER_BYTES + 12))
}

/** Reads one log file, calling `f` for each good record with zxid >= fromZxid. */
export const scanFile = (dir: string, name: string, fromZxid: number, f: (r: LogRecord) => void): Effect.Effect<FileScan, DiskError | LogCorrupt, Disk> =>
  Effect.flatMap(Disk, (disk) =>
    Effect.acquireUseRelease(
      disk.open(join(dir, name), "read"),
      (h) =>
        Effect.gen(function* () {
          const size = yield* h.size
          const noHeader: FileScan = { name, records: 0, lastZxid: null, goodEnd: 0, reason: "noHeader" }
          if (size < LOG_HEADER_BYTES) return noHeader
          let bufStart = 0
          let buf = yield* h.read(0, Math.min(size, READ_CHUNK_BYTES))
          const magic = new DataView(buf.buffer, buf.byteOffset, buf.byteLength).getInt32(0)
          if (isTornHeader(buf)) return noHeader
          if (magic !== LOG_MAGIC) return yield* new LogCorrupt({ file: name, offset: 0, reason: "BadMagic", detail: `magic 0x${(magic >>> 0).toString(16)}` })
          const parser = new RecordParser(name, size, fromZxid, f)
          for (;;) {
            const step = parser.parse(buf, bufStart)
            if (step._tag === "need") {
              bufStart = parser.pos
              buf = yield* h.read(bufStart, Math.min(size - bufStart, Math.max(READ_CHUNK_BYTES, step.bytes)))
              continue
            }
            if (step._tag === "corrupt") return yield* step.error
            // A torn tail has nothing whole after it; a damaged record with good ones after it is corruption.
            if (step.reason !== "eof" && step.reason !== "zeroPadding") {
              const after = yield* h.read(parser.pos + 1, size - parser.pos - 1)
              const next = wholeRecordIn(after)
              if (next >= 0) {
                return yield* new LogCorrupt({
                  file: name,
                  offset: parser.pos,
                  reason: "Damaged",
                  detail: `record unreadable (${step.reason}) but a whole record follows at offset ${parser.pos + 1 + next}`
                })
              }
            }
            return { name, records: parser.records, lastZxid: parser.lastZxid, goodEnd: parser.pos, reason: step.reason }
          }
        }),
      (h) => Effect.ignore(h.close)
    )
  )

/** The outcome of reading logs across files. */
export interface ScanResult {
  /** Every file read, oldest first. */
  readonly files: ReadonlyArray<FileScan>
  /** Zxid of the last record delivered, or null. */
  readonly lastZxid: number | null
  /** Records delivered to the callback. */
  readonly delivered: number
}

/**
 * Reads the logs of `dir` from `fromZxid` on (storage.md §5 step 3), calling `f` for every
 * record with zxid >= fromZxid in file order. Torn tails end a file (the next one is read);
 * corruption fails with LogCorrupt. `f` may throw WireError to reject an entry (→ LogCorrupt).
 */
export const scan = (dir: string, fromZxid: number, f: (r: LogRecord) => void): Effect.Effect<ScanResult, DiskError | LogCorrupt, Disk> =>
  Effect.gen(function* () {
    const files = selectLogs(yield* listLogs(dir), fromZxid)
    const out: Array<FileScan> = []
    let lastZxid: number | null = null
    let delivered = 0
    const counting = (r: LogRecord): void => {
      f(r)
      lastZxid = r.zxid
      delivered++
    }
    for (const file of files) out.push(yield* scanFile(dir, file.name, fromZxid, counting))
    return { files: out, lastZxid, delivered }
  })

/** A logged txn as raw bytes (e.g. for a follower's committed log or a DIFF). */
export interface RawTxn {
  readonly zxid: number
  /** The txnEntry bytes (a copy). */
  readonly entry: Uint8Array
}

/** Every txn with zxid >= fromZxid, in order, up to `limit` of them. */
export const readFrom = (dir: string, fromZxid: number, limit = Infinity): Effect.Effect<ReadonlyArray<RawTxn>, DiskError | LogCorrupt, Disk> =>
  Effect.suspend(() => {
    const out: Array<RawTxn> = []
    return Effect.as(
      scan(dir, fromZxid, (r) => {
        if (out.length < limit) out.push({ zxid: r.zxid, entry: r.entry.slice() })
      }),
      out
    )
  })

/**
 * Cuts a torn tail so that only whole records remain: the file is truncated right after its last
 * good record, or deleted when it holds none. Both ezk and ZooKeeper then read it to a clean end,
 * and new txns go to a new file (the writer always starts one after recovery).
 */
export const cutTornTail = (dir: string, scanned: FileScan): Effect.Effect<"truncated" | "deleted", DiskError, Disk> =>
  Effect.flatMap(Disk, (disk) => {
    const path = join(dir, scanned.name)
    if (scanned.records === 0) return Effect.as(Effect.zipRight(disk.unlink(path), disk.syncDir(dir)), "deleted" as const)
    return Effect.acquireUseRelease(
      disk.open(path, "readWrite"),
      (h) => Effect.as(Effect.zipRight(h.truncate(scanned.goodEnd), h.datasync), "truncated" as const),
      (h) => Effect.ignore(h.close)
    )
  })

/** What `truncateAfter` changed. */
export interface TruncateResult {
  /** The file that was cut (null if none needed cutting). */
  readonly truncated: string | null
  readonly deleted: ReadonlyArray<string>
}

/**
 * Drops every logged txn with zxid > `zxid` (ZAB TRUNC, FileTxnLog.truncate): the file holding
 * `zxid` is cut right after it and later files are deleted. Close the writer first.
 */
export const truncateAfter = (dir: string, zxid: number): Effect.Effect<TruncateResult, DiskError | LogCorrupt, Disk> =>
  Effect.gen(function* () {
    const disk = yield* Disk
    const files = yield* listLogs(dir)
    const deleted: Array<string> = []
    let truncated: string | null = null
    for (const file of files) {
      if (file.zxid > zxid) {
        yield* disk.unlink(join(dir, file.name))
        deleted.push(file.name)
      }
    }
    const keep = files.filter((f) => f.zxid <= zxid)
    const last = keep[keep.length - 1]
    if (last !== undefined) {
      let cutAt = LOG_HEADER_BYTES
      let cut = false
      const scanned = yield* scanFile(dir, last.name, 0, (r) => {
        if (r.zxid <= zxid) cutAt = r.offset + RECORD_OVERHEAD + r.entry.length
        else cut = true
      })
      if (cut || isTorn(scanned) || scanned.goodEnd !== cutAt) {
        yield* Effect.acquireUseRelease(
          disk.open(join(dir, last.name), "readWrite"),
          (h) => Effect.zipRight(h.truncate(cutAt), h.datasync),
          (h) => Effect.ignore(h.close)
        )
        truncated = last.name
      }
    }
    if (deleted.length > 0) yield* disk.syncDir(dir)
    return { truncated, deleted }
  })
