/**
 * ZooKeeper's transaction log as a directory of `log.<hex zxid>` files (storage.md §2): listing,
 * scanning from a zxid, cutting a torn tail and truncating for a ZAB TRUNC. The record format
 * (./TxnLogFormat.ts) and the group-commit writer (./TxnLogWriter.ts) are re-exported here, so
 * `TxnLog.*` is the one namespace callers use.
 */
import { Effect } from "effect"
import { Disk, type DiskError, join } from "../disk/Disk.js"
import {
  type FileScan,
  isTorn,
  isTornHeader,
  LOG_HEADER_BYTES,
  LOG_MAGIC,
  LogCorrupt,
  type LogFile,
  type LogRecord,
  parseLogName,
  RECORD_OVERHEAD,
  RecordParser,
  selectLogs,
  wholeRecordIn
} from "./TxnLogFormat.js"

export {
  DEFAULT_PREALLOC_BYTES,
  type EndReason,
  EOR,
  type FileScan,
  isTorn,
  LOG_HEADER_BYTES,
  LOG_MAGIC,
  LOG_VERSION,
  LogCorrupt,
  type LogFile,
  logName,
  type LogRecord,
  parseLogName,
  selectLogs
} from "./TxnLogFormat.js"
export { makeWriter, TxnLogWriter, type WriterOptions } from "./TxnLogWriter.js"

/** Read granularity when scanning a log (files are mostly zero padding, so never read them whole). */
const READ_CHUNK_BYTES = 1 << 20

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

/** Logged txns of a zxid range, read within a byte budget (`readRange`). */
export interface TxnRange {
  /** The txns kept, in order (none once the budget was exceeded). */
  readonly txns: ReadonlyArray<RawTxn>
  /** Entry bytes of the txns in range seen so far; above the budget when reading stopped early. */
  readonly bytes: number
}

/**
 * Txns with fromZxid <= zxid <= toZxid, in order, for a DIFF from the log: files are read in chunks
 * and reading stops at the first file past `toZxid`, or once the entries exceed `maxBytes` (then
 * nothing is kept: the caller will not use them), so memory stays within the budget.
 */
export const readRange = (dir: string, fromZxid: number, toZxid: number, maxBytes: number): Effect.Effect<TxnRange, DiskError | LogCorrupt, Disk> =>
  Effect.gen(function* () {
    let txns: Array<RawTxn> = []
    let bytes = 0
    const keep = (r: LogRecord): void => {
      if (r.zxid > toZxid || bytes > maxBytes) return
      bytes += r.entry.length
      if (bytes > maxBytes) txns = []
      else txns.push({ zxid: r.zxid, entry: r.entry.slice() })
    }
    for (const file of selectLogs(yield* listLogs(dir), fromZxid)) {
      if (file.zxid > toZxid || bytes > maxBytes) break
      yield* scanFile(dir, file.name, fromZxid, keep)
    }
    return { txns, bytes }
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
