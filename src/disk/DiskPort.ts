/**
 * The Disk port: the few file operations durable storage needs (positional writes, fdatasync,
 * whole-file and ranged reads, rename, directory fsync), as Effects failing with `DiskError`.
 * Its layers are in NodeDisk.ts and MemoryDisk.ts; Disk.ts gathers all three.
 */
import { Context, Data, type Effect } from "effect"

/** Which operation failed (for messages and for tests that inject faults). */
export type DiskOp =
  | "open"
  | "close"
  | "write"
  | "read"
  | "datasync"
  | "size"
  | "truncate"
  | "readFile"
  | "writeFile"
  | "exists"
  | "rename"
  | "unlink"
  | "list"
  | "mkdir"
  | "syncDir"

/** An I/O failure at the storage boundary; `cause` is the platform error (with `code` such as ENOSPC). */
export class DiskError extends Data.TaggedError("DiskError")<{
  readonly op: DiskOp
  readonly path: string
  readonly cause: unknown
}> {
  /** The errno name (ENOENT, ENOSPC, EIO, ...) when the cause has one. */
  get code(): string | undefined {
    const c = this.cause as { code?: unknown } | null
    return c !== null && typeof c === "object" && typeof c.code === "string" ? c.code : undefined
  }
  override get message(): string {
    const c = this.cause as { message?: unknown } | null
    const why = c !== null && typeof c === "object" && typeof c.message === "string" ? c.message : String(this.cause)
    // Node's messages repeat the call and path ("ENOTDIR: not a directory, mkdir '/x'"): keep the reason.
    const reason = this.code !== undefined && why.startsWith(`${this.code}: `) ? why.split(",")[0]! : why
    return `${this.op} ${this.path}: ${reason}`
  }
}

/**
 * How to open a file: `read` (must exist), `readWrite` (must exist, no truncation),
 * `create` (create or truncate to 0, read+write).
 */
export type OpenMode = "read" | "readWrite" | "create"

/** An open file. Positional I/O only, so concurrent appends never depend on a file offset. */
export interface DiskFile {
  readonly path: string
  /** Writes all of `bytes` at `position` (short writes are retried; the file grows as needed). */
  readonly write: (bytes: Uint8Array, position: number) => Effect.Effect<void, DiskError>
  /** Reads up to `length` bytes at `position`; shorter only at end of file. */
  readonly read: (position: number, length: number) => Effect.Effect<Uint8Array, DiskError>
  /** fdatasync: data (and the size) of this file are durable once it succeeds. */
  readonly datasync: Effect.Effect<void, DiskError>
  readonly size: Effect.Effect<number, DiskError>
  /** Sets the length (cuts or zero-extends); durable only after `datasync`. */
  readonly truncate: (length: number) => Effect.Effect<void, DiskError>
  readonly close: Effect.Effect<void, DiskError>
}

/** The operations of the Disk port. Paths are plain strings joined with `join`. */
export interface DiskService {
  /**
   * Opens a file. With `dsync` every write is durable when it completes (O_DSYNC), and `datasync`
   * has nothing left to do: a group commit then costs one positional write instead of two calls.
   */
  readonly open: (path: string, mode: OpenMode, options?: { readonly dsync?: boolean }) => Effect.Effect<DiskFile, DiskError>
  readonly readFile: (path: string) => Effect.Effect<Uint8Array, DiskError>
  /** Creates/replaces a file with `bytes` and fdatasyncs it (the name is durable after `syncDir`). */
  readonly writeFile: (path: string, bytes: Uint8Array) => Effect.Effect<void, DiskError>
  readonly size: (path: string) => Effect.Effect<number, DiskError>
  readonly exists: (path: string) => Effect.Effect<boolean, DiskError>
  /** Atomic rename, replacing `to`; durable after `syncDir` of the directory. */
  readonly rename: (from: string, to: string) => Effect.Effect<void, DiskError>
  readonly unlink: (path: string) => Effect.Effect<void, DiskError>
  /** Names (not paths) of the entries of a directory. */
  readonly list: (dir: string) => Effect.Effect<ReadonlyArray<string>, DiskError>
  /** mkdir -p. */
  readonly mkdirp: (dir: string) => Effect.Effect<void, DiskError>
  /** fsync of a directory, so created/renamed/deleted names survive a crash. */
  readonly syncDir: (dir: string) => Effect.Effect<void, DiskError>
}

/** The Disk port (see DESIGN.md: only Layers touch files). */
export class Disk extends Context.Tag("ezk/disk/Disk")<Disk, DiskService>() {}

/** Joins path segments with "/" (storage code stays free of node:path). */
export const join = (dir: string, name: string): string => (dir.endsWith("/") ? dir + name : `${dir}/${name}`)
