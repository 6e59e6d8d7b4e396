// Minimal ZooKeeper client-protocol encoding for the benchmark (client.md §2–§6).
// Deliberately independent of src/: the load generator must be identical for every target
// and must not depend on the code under test.
import net from "node:net";

export const Op = Object.freeze({
  create: 1,
  delete: 2,
  exists: 3,
  getData: 4,
  setData: 5,
  getChildren: 8,
  multi: 14,
  ping: 11,
  closeSession: -11,
});

export const Err = Object.freeze({ ok: 0, noNode: -101, nodeExists: -110 });

export const CreateMode = Object.freeze({
  persistent: 0,
  ephemeral: 1,
  persistentSequential: 2,
  ephemeralSequential: 3,
});

/** ACL vector world:anyone with all permissions (OPEN_ACL_UNSAFE). */
export const OPEN_ACL = (() => {
  const scheme = Buffer.from("world");
  const id = Buffer.from("anyone");
  const b = Buffer.alloc(4 + 4 + 4 + scheme.length + 4 + id.length);
  let o = b.writeInt32BE(1, 0);
  o = b.writeInt32BE(31, o);
  o = b.writeInt32BE(scheme.length, o);
  o += scheme.copy(b, o);
  o = b.writeInt32BE(id.length, o);
  id.copy(b, o);
  return b;
})();

/** jute ustring / buffer: int length + bytes (null → -1). */
export function jbuf(bytes) {
  if (bytes === null) {
    const b = Buffer.alloc(4);
    b.writeInt32BE(-1, 0);
    return b;
  }
  const src = typeof bytes === "string" ? Buffer.from(bytes, "utf8") : bytes;
  const b = Buffer.allocUnsafe(4 + src.length);
  b.writeInt32BE(src.length, 0);
  src.copy(b, 4);
  return b;
}

export function int32(n) {
  const b = Buffer.allocUnsafe(4);
  b.writeInt32BE(n, 0);
  return b;
}

export const bool = (v) => Buffer.from([v ? 1 : 0]);

/** A full request frame: length prefix, RequestHeader{xid, type}, body. */
export function frame(xid, op, body = Buffer.alloc(0)) {
  const b = Buffer.allocUnsafe(12 + body.length);
  b.writeInt32BE(8 + body.length, 0);
  b.writeInt32BE(xid, 4);
  b.writeInt32BE(op, 8);
  body.copy(b, 12);
  return b;
}

export const body = {
  getData: (path, watch = false) => Buffer.concat([jbuf(path), bool(watch)]),
  exists: (path, watch = false) => Buffer.concat([jbuf(path), bool(watch)]),
  setData: (path, data, version = -1) => Buffer.concat([jbuf(path), jbuf(data), int32(version)]),
  create: (path, data, flags = 0) => Buffer.concat([jbuf(path), jbuf(data), OPEN_ACL, int32(flags)]),
  delete: (path, version = -1) => Buffer.concat([jbuf(path), int32(version)]),
};

/** ConnectRequest for a new session (§3.1), with the trailing readOnly byte. */
export function connectFrame(timeoutMs = 30000) {
  const b = Buffer.alloc(4 + 45);
  b.writeInt32BE(45, 0);
  b.writeInt32BE(0, 4); // protocolVersion
  // lastZxidSeen (8 bytes) = 0 at 8
  b.writeInt32BE(timeoutMs, 16);
  // sessionId (8) = 0 at 20
  b.writeInt32BE(16, 28); // passwd length, 16 zero bytes follow
  // readOnly = 0 at 48
  return b;
}

/** Parse a ConnectResponse payload (without the length prefix). */
export function parseConnectResponse(payload) {
  return {
    timeout: payload.readInt32BE(4),
    sessionId: payload.readBigInt64BE(8),
  };
}

/** Payload of `size` bytes with a recognisable, non-constant pattern. */
export function valueOfSize(size, seed = 0) {
  const b = Buffer.allocUnsafe(size);
  for (let i = 0; i < size; i++) b[i] = 0x61 + ((i + seed) % 26);
  return b;
}

/**
 * Small promise-based client for setup work and probes (not used in timed loops).
 * Replies are matched FIFO, which the server guarantees per connection (client.md §4.1).
 */
export class MiniClient {
  /** @param {net.Socket} sock */
  constructor(sock) {
    this.sock = sock;
    this.xid = 1;
    this.waiting = [];
    this.pending = null;
    this.closed = false;
    this.onConnect = null;
    this.closeError = null;
    sock.on("data", (chunk) => this.#onData(chunk));
    const fail = (err) => {
      if (this.closed) return;
      this.closed = true;
      this.closeError = err ?? new Error("connection closed");
      const w = this.waiting;
      this.waiting = [];
      for (const p of w) p.reject(this.closeError);
      if (this.onConnect) this.onConnect.reject(this.closeError);
    };
    sock.on("error", fail);
    sock.on("close", () => fail(null));
  }

  /** Connect and establish a session; rejects on refusal, close or timeout. */
  static connect(port, { host = "127.0.0.1", sessionTimeout = 30000, timeoutMs = 10000, onSocket = (_s) => {} } = {}) {
    return new Promise((resolve, reject) => {
      const sock = net.connect({ port, host, noDelay: true });
      onSocket(sock);
      const c = new MiniClient(sock);
      const timer = setTimeout(() => {
        sock.destroy();
        reject(new Error(`connect timeout after ${timeoutMs} ms`));
      }, timeoutMs);
      c.onConnect = {
        resolve: (info) => {
          clearTimeout(timer);
          c.session = info;
          resolve(c);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      };
      sock.once("connect", () => sock.write(connectFrame(sessionTimeout)));
    });
  }

  #onData(chunk) {
    let buf = this.pending ? Buffer.concat([this.pending, chunk]) : chunk;
    let off = 0;
    while (off + 4 <= buf.length) {
      const len = buf.readInt32BE(off);
      if (off + 4 + len > buf.length) break;
      const payload = buf.subarray(off + 4, off + 4 + len);
      off += 4 + len;
      if (this.onConnect) {
        const cb = this.onConnect;
        this.onConnect = null;
        const info = parseConnectResponse(payload);
        if (info.timeout <= 0) cb.reject(new Error("session refused"));
        else cb.resolve(info);
        continue;
      }
      const xid = payload.readInt32BE(0);
      if (xid === -1 || xid === -2) continue; // watch event / ping reply
      const p = this.waiting.shift();
      if (!p) continue;
      p.resolve({ xid, zxid: payload.readBigInt64BE(4), err: payload.readInt32BE(12), body: payload.subarray(16) });
    }
    this.pending = off < buf.length ? Buffer.from(buf.subarray(off)) : null;
  }

  /** Send one request; resolves with {err, body} (no throw on err != 0). */
  request(op, reqBody = Buffer.alloc(0)) {
    if (this.closed) return Promise.reject(this.closeError ?? new Error("closed"));
    const xid = this.xid++;
    this.sock.write(frame(xid, op, reqBody));
    return new Promise((resolve, reject) => this.waiting.push({ resolve, reject }));
  }

  /** Pipeline many requests and wait for all of them (at most `window` in flight). */
  async pipeline(ops, window = 256) {
    const results = new Array(ops.length);
    let next = 0;
    const lane = async () => {
      while (next < ops.length) {
        const i = next++;
        const [op, b] = ops[i];
        results[i] = await this.request(op, b);
      }
    };
    await Promise.all(Array.from({ length: Math.min(window, ops.length) }, lane));
    return results;
  }

  /** closeSession then close the socket. */
  async close() {
    if (this.closed) return;
    try {
      await Promise.race([this.request(Op.closeSession), new Promise((r) => setTimeout(r, 2000))]);
    } catch {
      // the server may close the socket right after the reply
    }
    this.closed = true;
    this.sock.destroy();
  }

  destroy() {
    this.closed = true;
    this.sock.destroy();
  }
}

/** Create a node, treating NodeExists as success. */
export async function ensureNode(client, path, data = null, flags = 0) {
  const r = await client.request(Op.create, body.create(path, data, flags));
  if (r.err !== 0 && r.err !== Err.nodeExists) throw new Error(`create ${path}: err ${r.err}`);
}

/** A free loopback TCP port (bound then released). */
export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const addr = srv.address();
      srv.close(() => resolve(typeof addr === "object" && addr ? addr.port : 0));
    });
  });
}
