/**
 * The snapshot a leader streams after a SNAP packet (quorum.md §4.4): `int sessionCount,
 * (long sessionId, int timeout)*`, the DataTree exactly as in a snapshot file (ACL cache, nodes in
 * pre-order, the "/" terminator; storage.md §3), then the jute string "BenWasHere". No file
 * header, no seal, no digest section, no length prefix: the next QuorumPackets follow at once.
 *
 * All three steps work a chunk at a time, so a large tree never exists twice in memory and never
 * blocks a server for long:
 * - `send` walks the live tree with Snapshot's encoder (fuzzy: the leader keeps committing between
 *   chunks; the follower replays the txns after the SNAP zxid on top, as recovery does) and hands
 *   each chunk to a writer that applies the socket's backpressure;
 * - `SnapStreamDecoder` loads each record into the tree as soon as its bytes are in;
 * - `receive` writes the stream's body, as it arrives, into `snapshot.<zxid>` (file header + body +
 *   seal 1), so a learner persists what it received without encoding its tree again.
 */
import { Effect, type Scope } from "effect"
import { Disk, type DiskError, join } from "../disk/Disk.js"
import { adler32 } from "../tree/Crc32.js"
import type { DataTree, DataTreeOptions } from "../tree/DataTree.js"
import { JuteReader, JuteWriter } from "../wire/Jute.js"
import { WireError } from "../wire/WireError.js"
import * as Snapshot from "./Snapshot.js"
import * as SnapshotWriter from "./SnapshotWriter.js"

/** The signature that ends the stream (Learner.syncWithLeader checks it). */
export const SIGNATURE = "BenWasHere"

/** Bytes of a new chunk first tried to complete an item split across chunks (doubled until it is). */
const STITCH_BYTES = 4096

/** The stream encoder for `tree`: takes the SNAP zxid (tree.lastProcessedZxid), sessions and ACLs now. */
export const encoder = (tree: DataTree): SnapshotWriter.SnapshotEncoder => new SnapshotWriter.SnapshotEncoder(tree, false)

/** Encodes the whole SNAP stream of `tree` at once (tests, small trees). */
export const encode = (tree: DataTree): Uint8Array => {
  const enc = encoder(tree)
  while (!enc.step(Infinity, Infinity)) {
    /* one step does it all */
  }
  enc.out.ustring("/").ustring(SIGNATURE)
  return enc.out.copy()
}

export interface SendOptions {
  /** Child entries visited per chunk (default 2000). */
  readonly chunkNodes?: number
  /** Bytes per chunk handed to `write` (default 256 KiB). */
  readonly chunkBytes?: number
}

/**
 * Streams what `enc` encodes through `write`, a fresh array per chunk (a socket keeps it until
 * sent), yielding to other fibers between chunks; `write` waits while the socket is full.
 */
export const send = <E>(
  enc: SnapshotWriter.SnapshotEncoder,
  write: (chunk: Uint8Array) => Effect.Effect<void, E>,
  options: SendOptions = {}
): Effect.Effect<{ readonly nodes: number; readonly bytes: number }, E> =>
  Effect.gen(function* () {
    const chunkNodes = options.chunkNodes ?? 2000
    const chunkBytes = options.chunkBytes ?? 1 << 18
    let bytes = 0
    for (;;) {
      const done = enc.step(chunkNodes, chunkBytes)
      if (done) enc.out.ustring("/").ustring(SIGNATURE)
      if (done || enc.out.pos >= chunkBytes) {
        bytes += enc.out.pos
        const chunk = enc.out.copy()
        enc.out.reset()
        yield* write(chunk)
      }
      if (done) return { nodes: enc.nodes, bytes }
      yield* Effect.yieldNow()
    }
  })

/** A decoded SNAP stream. */
export interface Received {
  /** The tree, with lastProcessedZxid = the SNAP packet's zxid and the streamed sessions. */
  readonly tree: DataTree
  readonly nodeCount: number
  /** Bytes of the stream itself (signature included). */
  readonly consumed: number
  /** Bytes fed after the stream: the next QuorumPackets. */
  readonly rest: Uint8Array
}

const enum Phase {
  SessionCount,
  Sessions,
  AclCount,
  Acls,
  Nodes,
  Signature,
  Done
}

/**
 * Incremental SNAP-stream decoder: `feed` chunks until it returns the result (null = more bytes
 * needed). Each complete record is loaded into the tree at once; only an incomplete one is kept
 * between chunks. Malformed input, a bad signature or a record the tree refuses (checked as
 * Snapshot.decode checks a file) throws WireError. `onBody` receives the stream's body (up to and
 * with the "/" terminator) in order, as it is decoded. `maxBytes` bounds the whole stream.
 */
export class SnapStreamDecoder {
  /** Bytes of an incomplete record carried over to the next chunk. */
  private held = new Uint8Array(1 << 12)
  private heldLength = 0
  /** Stream bytes consumed so far (the held bytes follow them). */
  private base = 0
  private phase = Phase.SessionCount
  /** Items left in the current counted section. */
  private left = 0
  private readonly loader: Snapshot.TreeLoader

  constructor(
    /** The SNAP packet's zxid: the leader's lastProcessedZxid, which the tree takes. */
    readonly zxid: number,
    readonly options: DataTreeOptions,
    readonly maxBytes = Number.MAX_SAFE_INTEGER,
    readonly onBody?: (bytes: Uint8Array) => void
  ) {
    this.loader = new Snapshot.TreeLoader(options, "SNAP stream")
  }

  /** Takes the next chunk; the result once the signature is in, else null. Not to be fed after that. */
  feed(input: Uint8Array): Received | null {
    if (this.phase === Phase.Done) throw new Error("SnapStreamDecoder fed after the end of its stream")
    // Sockets hand over Buffers, `held` is a plain Uint8Array: one array type keeps the per-byte
    // loops of the loader (copies, CRCs, Adler-32) monomorphic (a few % of a 1M-node load).
    const chunk = input.constructor === Uint8Array ? input : new Uint8Array(input.buffer, input.byteOffset, input.byteLength)
    const held = this.heldLength
    if (this.base + held + chunk.length > this.maxBytes) throw new WireError({ reason: "FrameTooLarge", detail: `SNAP stream over ${this.maxBytes} bytes` })
    // Where the scan of `chunk` itself starts.
    let from = 0
    if (held > 0) {
      // The held bytes are one incomplete item. Complete it with as little of the chunk as will do
      // (copying whole chunks costs a copy and an allocation per chunk for the body); once it is
      // done, the rest of the chunk is scanned in place.
      for (let take = Math.min(chunk.length, STITCH_BYTES); ; take = Math.min(chunk.length, take * 2)) {
        const length = held + take
        this.reserve(length)
        this.held.set(chunk.subarray(0, take), held)
        const consumed = this.run(this.held, 0, length)
        if ((this.phase as Phase) === Phase.Done) return this.finish(cat(this.held.subarray(consumed, length), chunk.subarray(take)))
        if (consumed > 0) {
          from = consumed - held
          break
        }
        if (take === chunk.length) {
          this.heldLength = length
          return null
        }
      }
      this.heldLength = 0
    }
    const at = from + this.run(chunk, from, chunk.length)
    if ((this.phase as Phase) === Phase.Done) return this.finish(chunk.slice(at))
    // Keep the incomplete item (copied: `chunk` is the caller's).
    this.reserve(chunk.length - at)
    this.held.set(chunk.subarray(at))
    this.heldLength = chunk.length - at
    return null
  }

  /** Grows `held` to at least `n` bytes, keeping what it holds. */
  private reserve(n: number): void {
    if (n <= this.held.length) return
    const next = new Uint8Array(Math.max(n, this.held.length * 2))
    next.set(this.held.subarray(0, this.heldLength))
    this.held = next
  }

  /**
   * Loads every complete item of src[start, end), hands the body bytes among them to onBody
   * (copied out of `held`, which is reused), and returns how many bytes it consumed.
   */
  private run(src: Uint8Array, start: number, end: number): number {
    const r = new JuteReader(src, start, end, 0x7fffffff)
    const bodyDone = this.phase >= Phase.Signature
    let bodyEnd: number
    try {
      bodyEnd = this.scan(r, end, this.base - start)
    } catch (e) {
      if (e instanceof Snapshot.SnapshotCorrupt) throw new WireError({ reason: "BadRecord", detail: e.message })
      throw e
    }
    const pos = r.pos
    // The body is what precedes the signature: everything consumed, up to the terminator.
    const bodyTo = bodyEnd >= 0 ? bodyEnd : bodyDone ? start : pos
    if (this.onBody !== undefined && bodyTo > start) this.onBody(src === this.held ? src.slice(start, bodyTo) : src.subarray(start, bodyTo))
    this.base += pos - start
    return pos - start
  }

  /** Size of the length-prefixed item at `at`, or -1 if incomplete. */
  private static sized(r: JuteReader, at: number, end: number, what: string): number {
    if (at + 4 > end) return -1
    const n = r.view.getInt32(at)
    if (n < -1) throw new WireError({ reason: "BadLength", detail: `${what} length ${n}` })
    const size = 4 + Math.max(0, n)
    return at + size <= end ? size : -1
  }

  /** Size of one ACL-cache entry (long ref, vector<ACL>) at `at`, or -1 if incomplete. */
  private static aclEntry(r: JuteReader, at: number, end: number): number {
    if (at + 12 > end) return -1
    const count = r.view.getInt32(at + 8)
    if (count < -1) throw new WireError({ reason: "BadLength", detail: `ACL count ${count}` })
    let p = at + 12
    for (let i = 0; i < count; i++) {
      if (p + 4 > end) return -1
      p += 4
      for (let s = 0; s < 2; s++) {
        const n = SnapStreamDecoder.sized(r, p, end, "ACL id")
        if (n < 0) return -1
        p += n
      }
    }
    return p - at
  }

  /**
   * Loads every complete record from `r.pos`, leaving `r.pos` at the first incomplete one (or
   * after the signature). Returns where the body ends in this chunk once the terminator is read
   * here, else -1.
   */
  private scan(r: JuteReader, end: number, origin: number): number {
    let bodyEnd = -1
    for (;;) {
      const at = r.pos
      switch (this.phase) {
        case Phase.SessionCount:
        case Phase.AclCount: {
          if (at + 4 > end) return bodyEnd
          this.left = r.int()
          if (this.left < 0) throw new WireError({ reason: "BadLength", detail: `count ${this.left} at ${origin + at}` })
          this.phase = this.phase === Phase.SessionCount ? Phase.Sessions : Phase.Acls
          break
        }
        case Phase.Sessions: {
          while (this.left > 0 && r.pos + 12 <= end) {
            this.loader.session(r)
            this.left--
          }
          if (this.left > 0) return bodyEnd
          this.phase = Phase.AclCount
          break
        }
        case Phase.Acls: {
          while (this.left > 0) {
            if (SnapStreamDecoder.aclEntry(r, r.pos, end) < 0) return bodyEnd
            this.loader.acl(r)
            this.left--
          }
          this.phase = Phase.Nodes
          break
        }
        case Phase.Nodes: {
          for (;;) {
            const p = r.pos
            const path = SnapStreamDecoder.sized(r, p, end, "path")
            if (path < 0) return bodyEnd
            const terminator = path === 5 && r.bytes[p + 4] === 0x2f
            if (!terminator) {
              const data = SnapStreamDecoder.sized(r, p + path, end, "data")
              // aclRef (8) + StatPersisted (60).
              if (data < 0 || p + path + data + 68 > end) return bodyEnd
            }
            if (!this.loader.node(r)) break
          }
          bodyEnd = r.pos
          this.phase = Phase.Signature
          break
        }
        case Phase.Signature: {
          const n = SnapStreamDecoder.sized(r, at, end, "signature")
          if (n < 0) return bodyEnd
          const sig = r.ustring()
          if (sig !== SIGNATURE) {
            throw new WireError({ reason: "BadRecord", detail: `SNAP stream signature ${JSON.stringify(sig)}, expected ${SIGNATURE}` })
          }
          this.phase = Phase.Done
          return bodyEnd
        }
        case Phase.Done:
          return bodyEnd
      }
    }
  }

  /** After the signature: the tree, and `rest`, the bytes fed after the stream (the next packets). */
  private finish(rest: Uint8Array): Received {
    let tree: DataTree
    try {
      tree = this.loader.finish(this.zxid)
    } catch (e) {
      if (e instanceof Snapshot.SnapshotCorrupt) throw new WireError({ reason: "BadRecord", detail: e.message })
      throw e
    }
    this.held = new Uint8Array(0)
    return { tree, nodeCount: this.loader.nodeCount, consumed: this.base, rest }
  }
}

/** Joins two byte ranges into a new array. */
const cat = (a: Uint8Array, b: Uint8Array): Uint8Array => {
  const out = new Uint8Array(a.length + b.length)
  out.set(a)
  out.set(b, a.length)
  return out
}

/** Where a learner writes the SNAP stream it receives. */
export interface SnapshotSink {
  /** Appends the next piece of the stream's body (`SnapStreamDecoder.onBody`). */
  readonly write: (body: Uint8Array) => Effect.Effect<void, DiskError>
  /** Seals the file, makes it durable and gives it its name; from then on it survives a crash. */
  readonly finish: Effect.Effect<{ readonly name: string; readonly bytes: number }, DiskError>
}

/** Body bytes gathered before one file write: pieces come a socket read at a time (often a few KiB). */
const RECEIVE_FLUSH_BYTES = 1 << 20

/**
 * Writes a received SNAP stream as `dir/snapshot.<zxid>`: the file header, the stream's body as
 * it arrives (gathered into writes of `flushBytes`), then seal 1 (no digest section, which
 * ZooKeeper and Snapshot.decode accept). Until `finish` it is a temp file, removed if the scope
 * closes first. The tree is fuzzy exactly as the leader streamed it; the txns after `zxid` that
 * the learner logs make recovery exact.
 */
export const receive = (dir: string, zxid: number, flushBytes = RECEIVE_FLUSH_BYTES): Effect.Effect<SnapshotSink, DiskError, Disk | Scope.Scope> =>
  Effect.gen(function* () {
    const disk = yield* Disk
    const name = Snapshot.snapshotName(zxid)
    const tmp = join(dir, `${name}.tmp`)
    let finished = false
    const file = yield* Effect.acquireRelease(disk.open(tmp, "create"), (h) =>
      Effect.ignore(Effect.zipRight(h.close, finished ? Effect.void : disk.unlink(tmp)))
    )
    /** Bytes in the file so far; `pending` holds the next `pendingLength`. */
    let written = 0
    const pending = new Uint8Array(flushBytes)
    let pendingLength = 0
    let adler = 1
    const flush = Effect.suspend(() => {
      if (pendingLength === 0) return Effect.void
      const position = written
      const bytes = pending.subarray(0, pendingLength)
      written += pendingLength
      pendingLength = 0
      // `pending` is reused only after this write has completed (callers wait for it).
      return file.write(bytes, position)
    })
    const append = (bytes: Uint8Array) =>
      Effect.suspend(() => {
        adler = adler32(bytes, adler, 0, bytes.length)
        if (pendingLength + bytes.length <= flushBytes) {
          pending.set(bytes, pendingLength)
          pendingLength += bytes.length
          return Effect.void
        }
        return Effect.zipRight(
          flush,
          Effect.suspend(() => {
            if (bytes.length < flushBytes) {
              pending.set(bytes)
              pendingLength = bytes.length
              return Effect.void
            }
            const position = written
            written += bytes.length
            return file.write(bytes, position)
          })
        )
      })
    yield* append(new JuteWriter(16).int(Snapshot.SNAP_MAGIC).int(Snapshot.SNAP_VERSION).long(Snapshot.SNAP_DBID).copy())
    return {
      write: append,
      finish: Effect.gen(function* () {
        yield* append(new JuteWriter(16).long(adler).ustring("/").copy())
        yield* flush
        yield* file.datasync
        yield* disk.rename(tmp, join(dir, name))
        finished = true
        yield* disk.syncDir(dir)
        return { name, bytes: written }
      })
    }
  })
