/** The Disk port on node:fs, with a real fdatasync (O_DSYNC where asked). */
import { Effect, Layer } from "effect"
import * as fs from "node:fs"
import { Disk, DiskError, type DiskFile, type DiskOp, type DiskService, type OpenMode } from "./DiskPort.js"

const nodeError = (op: DiskOp, path: string, cause: unknown): DiskError => new DiskError({ op, path, cause })

/** Wraps a node callback API as an Effect. */
const call = <A>(op: DiskOp, path: string, f: (cb: (err: NodeJS.ErrnoException | null, a: A) => void) => void): Effect.Effect<A, DiskError> =>
  Effect.async<A, DiskError>((resume) => {
    f((err, a) => resume(err === null ? Effect.succeed(a) : Effect.fail(nodeError(op, path, err))))
  })

const shortWrite = (path: string): DiskError =>
  nodeError("write", path, Object.assign(new Error("write made no progress"), { code: "EIO" }))

const makeNodeFile = (path: string, fd: number, dsync: boolean): DiskFile => {
  const write = (bytes: Uint8Array, position: number): Effect.Effect<void, DiskError> =>
    Effect.async<void, DiskError>((resume) => {
      let done = 0
      const step = (): void => {
        fs.write(fd, bytes, done, bytes.length - done, position + done, (err, n) => {
          if (err !== null) return resume(Effect.fail(nodeError("write", path, err)))
          if (n <= 0) return resume(Effect.fail(shortWrite(path)))
          done += n
          if (done < bytes.length) step()
          else resume(Effect.void)
        })
      }
      step()
    })
  const read = (position: number, length: number): Effect.Effect<Uint8Array, DiskError> =>
    Effect.async<Uint8Array, DiskError>((resume) => {
      const out = new Uint8Array(length)
      let got = 0
      const step = (): void => {
        fs.read(fd, out, got, length - got, position + got, (err, n) => {
          if (err !== null) return resume(Effect.fail(nodeError("read", path, err)))
          got += n
          if (n === 0 || got >= length) resume(Effect.succeed(got === length ? out : out.subarray(0, got)))
          else step()
        })
      }
      if (length === 0) resume(Effect.succeed(out))
      else step()
    })
  return {
    path,
    write,
    read,
    datasync: dsync ? Effect.void : call<void>("datasync", path, (cb) => fs.fdatasync(fd, (e) => cb(e, undefined))),
    size: call<fs.Stats>("size", path, (cb) => fs.fstat(fd, cb)).pipe(Effect.map((s) => s.size)),
    truncate: (length) => call<void>("truncate", path, (cb) => fs.ftruncate(fd, length, (e) => cb(e, undefined))),
    close: call<void>("close", path, (cb) => fs.close(fd, (e) => cb(e ?? null, undefined)))
  }
}

const nodeFlags: Record<OpenMode, number> = {
  read: fs.constants.O_RDONLY,
  readWrite: fs.constants.O_RDWR,
  create: fs.constants.O_RDWR | fs.constants.O_CREAT | fs.constants.O_TRUNC
}

const tryPromise = <A>(op: DiskOp, path: string, f: () => Promise<A>): Effect.Effect<A, DiskError> =>
  Effect.tryPromise({ try: f, catch: (e) => nodeError(op, path, e) })

/** The node:fs implementation. */
export const makeNode = (): DiskService => ({
  open: (path, mode, options) => {
    const dsync = options?.dsync === true
    const flags = nodeFlags[mode] | (dsync ? fs.constants.O_DSYNC : 0)
    return call<number>("open", path, (cb) => fs.open(path, flags, 0o644, cb)).pipe(Effect.map((fd) => makeNodeFile(path, fd, dsync)))
  },
  readFile: (path) => tryPromise("readFile", path, () => fs.promises.readFile(path)).pipe(Effect.map((b) => new Uint8Array(b.buffer, b.byteOffset, b.byteLength))),
  writeFile: (path, bytes) =>
    tryPromise("writeFile", path, async () => {
      const h = await fs.promises.open(path, "w", 0o644)
      try {
        await h.writeFile(bytes)
        await h.datasync()
      } finally {
        await h.close()
      }
    }),
  size: (path) => tryPromise("size", path, () => fs.promises.stat(path)).pipe(Effect.map((s) => s.size)),
  exists: (path) =>
    tryPromise("exists", path, () =>
      fs.promises.stat(path).then(
        () => true,
        (e: NodeJS.ErrnoException) => (e.code === "ENOENT" ? false : Promise.reject(e))
      )
    ),
  rename: (from, to) => tryPromise("rename", from, () => fs.promises.rename(from, to)),
  unlink: (path) => tryPromise("unlink", path, () => fs.promises.unlink(path)),
  list: (dir) => tryPromise("list", dir, () => fs.promises.readdir(dir)),
  mkdirp: (dir) => tryPromise("mkdir", dir, () => fs.promises.mkdir(dir, { recursive: true })).pipe(Effect.asVoid),
  syncDir: (dir) =>
    tryPromise("syncDir", dir, async () => {
      const h = await fs.promises.open(dir, "r")
      try {
        await h.sync()
      } finally {
        await h.close()
      }
    })
})

/** Disk on the local file system (real fdatasync). */
export const layerNode: Layer.Layer<Disk> = Layer.sync(Disk, makeNode)
