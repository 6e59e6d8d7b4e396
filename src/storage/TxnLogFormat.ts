/**
 * The bytes of ZooKeeper's transaction log, `log.<hex zxid>` (storage.md §2), byte compatible with
 * 3.8: a 16-byte header (ZKLG, version 2, dbid 0) and records of `long adler32, int len, txnEntry,
 * 0x42`, with the file zero-extended in `preAllocSize` chunks.
 *
 * Parsing follows ZooKeeper's FileTxnIterator: a file ends at a zero length (the padding), a
 * truncated record or a bad end-of-record byte (a torn last write); a checksum mismatch is a hard
 * `LogCorrupt` error naming the file and offset, so a damaged log is never silently skipped. Pure:
 * the reader (./TxnLog.ts) and the writer (./TxnLogWriter.ts) do the I/O.
 */
import { Data } from "effect"
import { adler32 } from "../tree/Crc32.js"
import { WireError } from "../wire/WireError.js"

/** "ZKLG". */
export const LOG_MAGIC = 0x5a4b4c47
export const LOG_VERSION = 2
export const LOG_HEADER_BYTES = 16
/** End-of-record marker ('B'). */
export const EOR = 0x42
/** zookeeper.preAllocSize default: 65 536 KiB. */
export const DEFAULT_PREALLOC_BYTES = 64 * 1024 * 1024
/** Bytes per record besides the entry: checksum long, length int, EOR byte. */
export const RECORD_OVERHEAD = 13
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

/** The zxid field of a txnEntry starting at `at` (TxnHeader: long clientId, int cxid, long zxid). */
export const entryZxid = (b: Uint8Array, at: number): number => {
  // Byte arithmetic rather than a DataView: this runs on every append and must not allocate.
  const hi = (b[at + 12]! << 24) | (b[at + 13]! << 16) | (b[at + 14]! << 8) | b[at + 15]!
  const lo = ((b[at + 16]! << 24) | (b[at + 17]! << 16) | (b[at + 18]! << 8) | b[at + 19]!) >>> 0
  return hi * TWO_32 + lo
}

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

export type Step = { readonly _tag: "need"; readonly bytes: number } | { readonly _tag: "end"; readonly reason: EndReason } | { readonly _tag: "corrupt"; readonly error: LogCorrupt }

const NEED_HEADER: Step = { _tag: "need", bytes: 12 }

/** Parses records out of file bytes held in a window; pure and synchronous, the driver does the I/O. */
export class RecordParser {
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
export const wholeRecordIn = (b: Uint8Array): number => {
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
export const isTornHeader = (buf: Uint8Array): boolean => {
  let i = 0
  while (i < LOG_HEADER_BYTES && buf[i] === HEADER[i]) i++
  if (i === LOG_HEADER_BYTES) return false
  return allZero(buf, i, Math.min(buf.length, LOG_HEADER_BYTES + 12))
}
