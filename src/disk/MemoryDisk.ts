/**
 * The Disk port in memory, for tests and the simulator: it remembers what was synced, so a
 * simulated `crash()` loses (or tears) exactly the unsynced writes, and it can inject ENOSPC,
 * fsync failures and slow fsyncs. A seeded `Random` replays a crash exactly.
 */
import { Context, Duration, Effect, Layer, Random } from "effect"
import { Disk, DiskError, type DiskFile, type DiskOp, type DiskService } from "./DiskPort.js"

/** Faults the memory disk injects (all off by default). */
export interface DiskFaults {
  /** Total bytes that writes may still store; a write crossing it stores what fits, then fails ENOSPC. null = unlimited. */
  readonly writeLimitBytes: number | null
  /** Every datasync/syncDir fails with EIO (nothing becomes durable). */
  readonly failSync: boolean
  /**
   * A slow disk: every datasync, O_DSYNC write and syncDir takes this long (virtual ms) before it
   * returns. A datasync makes durable what was written before it began; a crash meanwhile loses it.
   */
  readonly syncDelayMs: number
}

/** What a simulated crash keeps of the unsynced writes. */
export interface CrashOptions {
  /**
   * false (default): every unsynced write and truncation is lost.
   * true: a random prefix of each file's unsynced operations survives, the last surviving write
   * torn at a random byte; when the torn write extended the file, the file either ends at the tear
   * or keeps its new size with zeros after the tear (both happen on real file systems).
   */
  readonly tear?: boolean
}

/** Test controls of the memory disk. */
export interface MemoryDiskControl {
  /** Simulates power loss: unsynced data and unsynced directory changes are lost; open handles die. */
  readonly crash: (options?: CrashOptions) => Effect.Effect<void>
  readonly setFaults: (faults: Partial<DiskFaults>) => Effect.Effect<void>
  /** Current (volatile) contents of every file. */
  readonly files: () => ReadonlyMap<string, Uint8Array>
  /** Bytes accepted by writes so far. */
  readonly bytesWritten: () => number
}

/** The memory disk's test controls, provided next to `Disk` by `layerMemory`. */
export class MemoryDisk extends Context.Tag("ezk/disk/MemoryDisk")<MemoryDisk, MemoryDiskControl>() {}

type PendingOp = { readonly kind: "write"; readonly position: number; readonly bytes: Uint8Array } | { readonly kind: "truncate"; readonly length: number }

/**
 * File bytes with a logical size: only the prefix up to the last non-zero write is stored, so a
 * 64 MiB preallocated log (one zero byte written at its end) costs what its records cost.
 */
class SparseBytes {
  data: Uint8Array
  /** Bytes of `data` in use; everything from here to `size` reads as zero. */
  dense: number
  size: number
  constructor(data = new Uint8Array(0), dense = 0, size = 0) {
    this.data = data
    this.dense = dense
    this.size = size
  }
  clone(): SparseBytes {
    return new SparseBytes(this.data.slice(0, this.dense), this.dense, this.size)
  }
  write(position: number, bytes: Uint8Array): void {
    const end = position + bytes.length
    if (end > this.size) this.size = end
    let last = bytes.length
    while (last > 0 && bytes[last - 1] === 0) last--
    // Zeros past the stored prefix need no storage: they read as zeros anyway.
    const stored = position + last > this.dense ? last : Math.min(bytes.length, this.dense - position)
    if (stored <= 0) return
    const need = position + stored
    if (need > this.data.length) {
      const next = new Uint8Array(Math.max(need, this.data.length * 2, 64))
      next.set(this.data.subarray(0, this.dense))
      this.data = next
    }
    // Bytes between the old dense end and `position` read as zeros (the buffer may hold stale data after a cut).
    if (position > this.dense) this.data.fill(0, this.dense, position)
    this.data.set(bytes.subarray(0, stored), position)
    if (need > this.dense) this.dense = need
  }
  truncate(length: number): void {
    this.size = length
    if (length < this.dense) this.dense = length
  }
  read(position: number, length: number): Uint8Array {
    const end = Math.min(position + length, this.size)
    const out = new Uint8Array(Math.max(0, end - position))
    if (position < this.dense) out.set(this.data.subarray(position, Math.min(end, this.dense)))
    return out
  }
  contents(): Uint8Array {
    return this.read(0, this.size)
  }
}

/** A memory file: what processes see, what is durable, and the operations in between. */
class MemFile {
  live = new SparseBytes()
  durable = new SparseBytes()
  /** Operations since the last datasync, in order (replayed onto `durable` by the next one). */
  pending: Array<PendingOp> = []
  apply(op: PendingOp, to: SparseBytes): void {
    if (op.kind === "write") to.write(op.position, op.bytes)
    else to.truncate(op.length)
  }
  /** datasync of the first `count` pending operations (all by default): the cost is what they wrote, not the file size. */
  sync(count = this.pending.length): void {
    for (const op of this.pending.slice(0, count)) this.apply(op, this.durable)
    this.pending = this.pending.slice(count)
  }
}

const errno = (code: string, message: string): Error => Object.assign(new Error(`${code}: ${message}`), { code })

const parentDir = (path: string): string => {
  const i = path.lastIndexOf("/")
  return i <= 0 ? (i === 0 ? "/" : ".") : path.slice(0, i)
}

const normalize = (path: string): string => (path.length > 1 && path.endsWith("/") ? path.slice(0, -1) : path)

/** Builds an in-memory disk and its controls (synchronously; `layerMemory` wraps it). */
export const makeMemory = (initialFaults: Partial<DiskFaults> = {}): { readonly disk: DiskService; readonly control: MemoryDiskControl } => {
  /** The namespace as processes see it. */
  let live = new Map<string, MemFile>()
  /** The namespace as of the last syncDir of each directory (what survives a crash). */
  const durable = new Map<string, MemFile>()
  const dirs = new Set<string>(["/", "."])
  let faults: DiskFaults = { writeLimitBytes: null, failSync: false, syncDelayMs: 0, ...initialFaults }
  let written = 0
  /** Bumped on crash: handles from before it fail. */
  let generation = 0

  const fail = (op: DiskOp, path: string, cause: unknown) => Effect.fail(new DiskError({ op, path, cause }))
  const lookup = (op: DiskOp, path: string): Effect.Effect<MemFile, DiskError> =>
    Effect.suspend(() => {
      const f = live.get(normalize(path))
      return f === undefined ? fail(op, path, errno("ENOENT", `no such file ${path}`)) : Effect.succeed(f)
    })
  const requireDir = (op: DiskOp, path: string): Effect.Effect<void, DiskError> =>
    Effect.suspend(() => (dirs.has(parentDir(normalize(path))) ? Effect.void : fail(op, path, errno("ENOENT", `no directory for ${path}`))))

  const doWrite = (f: MemFile, path: string, bytes: Uint8Array, position: number): Effect.Effect<void, DiskError> =>
    Effect.suspend(() => {
      let n = bytes.length
      const limit = faults.writeLimitBytes
      if (limit !== null && written + n > limit) n = Math.max(0, limit - written)
      if (n > 0) {
        const stored = bytes.slice(0, n)
        f.live.write(position, stored)
        f.pending.push({ kind: "write", position, bytes: stored })
        written += n
      }
      return n < bytes.length ? fail("write", path, errno("ENOSPC", "no space left on device")) : Effect.void
    })

  const makeFile = (path: string, f: MemFile, dsync = false): DiskFile => {
    const gen = generation
    const alive = <A>(op: DiskOp, eff: Effect.Effect<A, DiskError>): Effect.Effect<A, DiskError> =>
      Effect.suspend(() => (gen === generation ? eff : fail(op, path, errno("EBADF", "handle from before a crash"))))
    const syncNow = Effect.suspend(() => {
      if (faults.failSync) return fail("datasync", path, errno("EIO", "injected fsync failure"))
      if (faults.syncDelayMs <= 0) return Effect.sync(() => f.sync())
      // What was written before the call, once the slow disk returns, unless power was lost meanwhile.
      const count = f.pending.length
      return Effect.zipRight(
        Effect.sleep(Duration.millis(faults.syncDelayMs)),
        Effect.suspend(() => (gen === generation ? Effect.sync(() => f.sync(count)) : fail("datasync", path, errno("EIO", "power lost during fsync"))))
      )
    })
    return {
      path,
      // O_DSYNC: a write is durable when it completes (an injected sync failure fails the write).
      write: (bytes, position) => alive("write", dsync ? Effect.zipRight(doWrite(f, path, bytes, position), syncNow) : doWrite(f, path, bytes, position)),
      read: (position, length) => alive("read", Effect.sync(() => f.live.read(position, length))),
      datasync: alive("datasync", dsync ? Effect.void : syncNow),
      size: alive("size", Effect.sync(() => f.live.size)),
      truncate: (length) =>
        alive(
          "truncate",
          Effect.sync(() => {
            f.live.truncate(length)
            f.pending.push({ kind: "truncate", length })
          })
        ),
      close: Effect.void
    }
  }

  const create = (path: string): MemFile => {
    const key = normalize(path)
    const existing = live.get(key)
    if (existing !== undefined) {
      existing.live.truncate(0)
      existing.pending.push({ kind: "truncate", length: 0 })
      return existing
    }
    const f = new MemFile()
    live.set(key, f)
    return f
  }

  const disk: DiskService = {
    open: (path, mode, options) =>
      requireDir("open", path).pipe(
        Effect.zipRight(mode === "create" ? Effect.sync(() => create(path)) : lookup("open", path)),
        Effect.map((f) => makeFile(path, f, options?.dsync === true))
      ),
    readFile: (path) => Effect.map(lookup("readFile", path), (f) => f.live.contents()),
    writeFile: (path, bytes) =>
      requireDir("writeFile", path).pipe(
        Effect.zipRight(Effect.sync(() => create(path))),
        Effect.tap((f) => doWrite(f, path, bytes, 0)),
        Effect.flatMap((f) => makeFile(path, f).datasync)
      ),
    size: (path) => Effect.map(lookup("size", path), (f) => f.live.size),
    exists: (path) => Effect.sync(() => live.has(normalize(path)) || dirs.has(normalize(path))),
    rename: (from, to) =>
      Effect.flatMap(lookup("rename", from), (f) =>
        requireDir("rename", to).pipe(
          Effect.tap(() => {
            live.delete(normalize(from))
            live.set(normalize(to), f)
          })
        )
      ),
    unlink: (path) => Effect.map(lookup("unlink", path), () => void live.delete(normalize(path))),
    list: (dir) =>
      Effect.suspend(() => {
        const d = normalize(dir)
        if (!dirs.has(d)) return fail("list", dir, errno("ENOENT", `no such directory ${dir}`))
        const out: Array<string> = []
        for (const p of live.keys()) if (parentDir(p) === d) out.push(p.slice(d === "/" ? 1 : d.length + 1))
        for (const p of dirs) if (p !== d && parentDir(p) === d) out.push(p.slice(d === "/" ? 1 : d.length + 1))
        return Effect.succeed(out)
      }),
    mkdirp: (dir) =>
      Effect.sync(() => {
        // Directories themselves are treated as durable at once; only file names are modelled.
        let d = normalize(dir)
        while (!dirs.has(d)) {
          dirs.add(d)
          d = parentDir(d)
        }
      }),
    syncDir: (dir) =>
      Effect.suspend(() => {
        if (faults.failSync) return fail("syncDir", dir, errno("EIO", "injected fsync failure"))
        if (faults.syncDelayMs <= 0) return syncDirNow(dir)
        const gen = generation
        return Effect.zipRight(
          Effect.sleep(Duration.millis(faults.syncDelayMs)),
          Effect.suspend(() => (gen === generation ? syncDirNow(dir) : fail("syncDir", dir, errno("EIO", "power lost during fsync"))))
        )
      })
  }

  /** The directory's names as processes see them become what survives a crash. */
  const syncDirNow = (dir: string): Effect.Effect<void> =>
    Effect.sync(() => {
      const d = normalize(dir)
      for (const p of [...durable.keys()]) if (parentDir(p) === d && !live.has(p)) durable.delete(p)
      for (const [p, f] of live) if (parentDir(p) === d) durable.set(p, f)
    })

  /** Replays a random prefix of the unsynced operations, tearing the last write. */
  const tearFile = (f: MemFile): Effect.Effect<void> =>
    Effect.gen(function* () {
      const keep = yield* Random.nextIntBetween(0, f.pending.length + 1)
      const ops = f.pending.slice(0, keep)
      const base = f.durable.clone()
      for (let i = 0; i < ops.length; i++) {
        const op = ops[i]!
        if (op.kind === "truncate" || i < ops.length - 1) {
          f.apply(op, base)
          continue
        }
        const cut = yield* Random.nextIntBetween(0, op.bytes.length + 1)
        const end = op.position + op.bytes.length
        const zeroPad = yield* Random.nextBoolean
        base.write(op.position, op.bytes.subarray(0, cut))
        if (zeroPad && end > base.size) base.truncate(end)
      }
      f.durable = base
      f.live = base.clone()
      f.pending = []
    })

  const control: MemoryDiskControl = {
    crash: (options) =>
      Effect.gen(function* () {
        generation++
        live = new Map(durable)
        for (const f of new Set(live.values())) {
          if (options?.tear === true && f.pending.length > 0) yield* tearFile(f)
          else {
            f.live = f.durable.clone()
            f.pending = []
          }
        }
        // Files that lost their name are gone with their pending writes.
      }),
    setFaults: (next) =>
      Effect.sync(() => {
        faults = { ...faults, ...next }
      }),
    files: () => {
      const out = new Map<string, Uint8Array>()
      for (const [p, f] of live) out.set(p, f.live.contents())
      return out
    },
    bytesWritten: () => written
  }
  return { disk, control }
}

/** An in-memory Disk plus its `MemoryDisk` controls (crash, faults), sharing one state. */
export const layerMemory = (faults: Partial<DiskFaults> = {}): Layer.Layer<Disk | MemoryDisk> =>
  Layer.effectContext(
    Effect.sync(() => {
      const m = makeMemory(faults)
      return Context.make(Disk, m.disk).pipe(Context.add(MemoryDisk, m.control))
    })
  )
