/**
 * The snapshot a leader streams after a SNAP packet (quorum.md §4.4): `int sessionCount,
 * (long sessionId, int timeout)*`, the DataTree exactly as in a snapshot file (ACL cache, nodes in
 * pre-order, the "/" terminator; storage.md §3), then the jute string "BenWasHere". No file
 * header, no seal, no digest section, no length prefix: the next QuorumPackets follow at once.
 *
 * Both directions reuse Snapshot.ts: encoding runs SnapshotEncoder and drops its file header;
 * decoding finds the stream's end incrementally, then wraps the body in a file header and seal
 * and runs Snapshot.decode, so a SNAP-synced tree is checked exactly like one loaded from disk.
 */
import { adler32 } from "../tree/Crc32.js"
import type { DataTree, DataTreeOptions } from "../tree/DataTree.js"
import { JuteWriter } from "../wire/Jute.js"
import { WireError } from "../wire/WireError.js"
import * as Snapshot from "./Snapshot.js"

/** The signature that ends the stream (Learner.syncWithLeader checks it). */
export const SIGNATURE = "BenWasHere"

/** Snapshot file header: magic, version, dbid. */
const FILE_HEADER_BYTES = 16

/** Encodes the SNAP stream of `tree` (its sessions table included) as a leader sends it. */
export const encode = (tree: DataTree): Uint8Array => {
  const enc = new Snapshot.SnapshotEncoder(tree)
  while (!enc.step(Infinity, Infinity)) {
    /* one step does it all */
  }
  enc.out.ustring("/").ustring(SIGNATURE)
  return enc.out.bytes.slice(FILE_HEADER_BYTES, enc.out.pos)
}

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
 * needed). Malformed input, a bad signature or a tree Snapshot.decode refuses throws WireError.
 * `maxBytes` bounds what is buffered (default 2 GiB - 1, the largest snapshot we can hold).
 */
export class SnapStreamDecoder {
  private buf = new Uint8Array(1 << 16)
  private len = 0
  /** Where the next unscanned item starts. */
  private pos = 0
  private phase = Phase.SessionCount
  /** Items left in the current counted section. */
  private left = 0
  /** End of the "/" terminator (start of the signature). */
  private bodyEnd = 0

  constructor(
    /** The SNAP packet's zxid: the leader's lastProcessedZxid, which the tree takes. */
    readonly zxid: number,
    readonly options: DataTreeOptions,
    readonly maxBytes = 0x7fffffff
  ) {}

  /** Takes the next chunk; the result once the signature is in, else null. Not to be fed after that. */
  feed(chunk: Uint8Array): Received | null {
    if (this.phase === Phase.Done) throw new Error("SnapStreamDecoder fed after the end of its stream")
    this.append(chunk)
    if (!this.scan()) return null
    this.phase = Phase.Done
    return this.finish()
  }

  private append(chunk: Uint8Array): void {
    const need = this.len + chunk.length
    if (need > this.maxBytes) throw new WireError({ reason: "FrameTooLarge", detail: `SNAP stream over ${this.maxBytes} bytes` })
    if (need > this.buf.length) {
      const next = new Uint8Array(Math.min(Math.max(need, this.buf.length * 2), this.maxBytes))
      next.set(this.buf.subarray(0, this.len))
      this.buf = next
    }
    this.buf.set(chunk, this.len)
    this.len = need
  }

  private int(at: number): number {
    const b = this.buf
    return (b[at]! << 24) | (b[at + 1]! << 16) | (b[at + 2]! << 8) | b[at + 3]!
  }

  /** A jute length at `at` (-1..maxBytes); throws on anything else. */
  private length(at: number, what: string): number {
    const n = this.int(at)
    if (n < -1 || n > this.maxBytes) throw new WireError({ reason: "BadLength", detail: `${what} length ${n} at ${at}` })
    return n
  }

  /** Size of the item at `at` (a length-prefixed string/buffer), or -1 if incomplete. */
  private sized(at: number, what: string): number {
    if (at + 4 > this.len) return -1
    const n = 4 + Math.max(0, this.length(at, what))
    return at + n <= this.len ? n : -1
  }

  /** Size of one ACL-cache entry (long ref, vector<ACL>) at `at`, or -1 if incomplete. */
  private aclEntry(at: number): number {
    if (at + 12 > this.len) return -1
    const count = this.int(at + 8)
    if (count < -1) throw new WireError({ reason: "BadLength", detail: `ACL count ${count}` })
    let p = at + 12
    for (let i = 0; i < count; i++) {
      if (p + 4 > this.len) return -1
      p += 4
      for (let s = 0; s < 2; s++) {
        const n = this.sized(p, "ACL id")
        if (n < 0) return -1
        p += n
      }
    }
    return p - at
  }

  /** Advances over complete items; true once the signature is in. */
  private scan(): boolean {
    for (;;) {
      const at = this.pos
      switch (this.phase) {
        case Phase.SessionCount:
        case Phase.AclCount: {
          if (at + 4 > this.len) return false
          this.left = this.int(at)
          if (this.left < 0) throw new WireError({ reason: "BadLength", detail: `count ${this.left} at ${at}` })
          this.pos += 4
          this.phase = this.phase === Phase.SessionCount ? Phase.Sessions : Phase.Acls
          break
        }
        case Phase.Sessions: {
          const n = Math.min(this.left, Math.floor((this.len - at) / 12))
          this.pos += n * 12
          this.left -= n
          if (this.left > 0) return false
          this.phase = Phase.AclCount
          break
        }
        case Phase.Acls: {
          while (this.left > 0) {
            const n = this.aclEntry(this.pos)
            if (n < 0) return false
            this.pos += n
            this.left--
          }
          this.phase = Phase.Nodes
          break
        }
        case Phase.Nodes: {
          const path = this.sized(at, "path")
          if (path < 0) return false
          if (path === 5 && this.buf[at + 4] === 0x2f) {
            this.pos = this.bodyEnd = at + 5
            this.phase = Phase.Signature
            break
          }
          const data = this.sized(at + path, "data")
          // aclRef (8) + StatPersisted (60).
          if (data < 0 || at + path + data + 68 > this.len) return false
          this.pos = at + path + data + 68
          break
        }
        case Phase.Signature: {
          const n = this.sized(at, "signature")
          if (n < 0) return false
          this.pos += n
          return true
        }
        case Phase.Done:
          return true
      }
    }
  }

  private finish(): Received {
    const sig = new TextDecoder().decode(this.buf.subarray(this.bodyEnd + 4, this.pos))
    if (sig !== SIGNATURE) {
      throw new WireError({ reason: "BadRecord", detail: `SNAP stream signature ${JSON.stringify(sig)}, expected ${SIGNATURE}` })
    }
    // The body as a snapshot file: header + body + seal 1 (no digest section, as pre-3.6 files).
    // This copies the stream once more; SNAP syncs are rare and the copy is dropped right after.
    const w = new JuteWriter(FILE_HEADER_BYTES + this.bodyEnd + 13)
    w.int(Snapshot.SNAP_MAGIC).int(Snapshot.SNAP_VERSION).long(Snapshot.SNAP_DBID).raw(this.buf.subarray(0, this.bodyEnd))
    w.long(adler32(w.bytes, 1, 0, w.pos)).ustring("/")
    const loaded = Snapshot.decode(w.bytes.subarray(0, w.pos), "SNAP stream", this.zxid, this.options)
    if (loaded instanceof Snapshot.SnapshotCorrupt) throw new WireError({ reason: "BadRecord", detail: loaded.message })
    const rest = this.buf.slice(this.pos, this.len)
    this.buf = new Uint8Array(0)
    return { tree: loaded.tree, nodeCount: loaded.nodeCount, consumed: this.pos, rest }
  }
}
