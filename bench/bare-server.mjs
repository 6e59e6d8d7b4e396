#!/usr/bin/env node
// "Bare" reference server: the least a Node.js process must do to answer the benchmark's
// requests (in memory, no fsync, no Effect, no validation beyond framing). It measures the
// ceiling of Node + the load generator on this machine; it is not a ZooKeeper server.
//
//   node bench/bare-server.mjs --port 2181
//
// Supports: ConnectRequest, create (incl. sequential/ephemeral), delete, exists, getData,
// setData, ping, closeSession. Anything else gets Unimplemented (-6).
import net from "node:net";

const args = process.argv.slice(2);
const argOf = (name, dflt) => {
  const i = args.indexOf(name);
  return i >= 0 && args[i + 1] !== undefined ? args[i + 1] : dflt;
};
const port = Number(argOf("--port", "2181"));
const host = argOf("--host", "127.0.0.1");

const E_NONODE = -101;
const E_NODEEXISTS = -110;
const E_UNIMPL = -6;

let zxid = 1;
let sessionSeq = 0;
const START = Date.now();

/** @typedef {{data: Buffer, czxid: number, mzxid: number, ctime: number, mtime: number, version: number, cversion: number, pzxid: number, owner: number, children: number}} Node */
/** @type {Map<string, Node>} */
const tree = new Map();
const mk = (data, owner) => ({ data, czxid: zxid, mzxid: zxid, ctime: Date.now(), mtime: Date.now(), version: 0, cversion: 0, pzxid: zxid, owner, children: 0 });
tree.set("/", mk(Buffer.alloc(0), 0));
tree.set("/zookeeper", mk(Buffer.alloc(0), 0));
/** @type {Node} */ (tree.get("/")).children = 1;

const HI = 2 ** 32;
function writeLong(b, o, n) {
  b.writeInt32BE(Math.floor(n / HI) | 0, o);
  b.writeUInt32BE(n >>> 0, o + 4);
  return o + 8;
}
function writeStat(b, o, n) {
  o = writeLong(b, o, n.czxid);
  o = writeLong(b, o, n.mzxid);
  o = writeLong(b, o, n.ctime);
  o = writeLong(b, o, n.mtime);
  o = b.writeInt32BE(n.version, o);
  o = b.writeInt32BE(n.cversion, o);
  o = b.writeInt32BE(0, o);
  if (n.owner === 0) o = writeLong(b, o, 0);
  else {
    o = b.writeInt32BE(0x01000000, o);
    o = b.writeUInt32BE(n.owner >>> 0, o);
  }
  o = b.writeInt32BE(n.data.length, o);
  o = b.writeInt32BE(n.children, o);
  return writeLong(b, o, n.pzxid);
}
const parentOf = (p) => {
  const i = p.lastIndexOf("/");
  return i <= 0 ? "/" : p.slice(0, i);
};

net
  .createServer({ noDelay: true }, (sock) => {
    let pending = null;
    let session = 0;
    /** @type {Set<string>} */
    const ephemerals = new Set();
    let out = Buffer.allocUnsafe(1 << 16);
    let o = 0;
    const ensure = (n) => {
      if (o + n > out.length) {
        const bigger = Buffer.allocUnsafe(Math.max(out.length * 2, o + n));
        out.copy(bigger, 0, 0, o);
        out = bigger;
      }
    };
    // reply header; returns offset of the frame start so the length can be patched
    const header = (xid, z, err, extra = 0) => {
      ensure(20 + 68 + 8 + extra);
      const start = o;
      o += 4;
      o = out.writeInt32BE(xid, o);
      o = writeLong(out, o, z);
      o = out.writeInt32BE(err, o);
      return start;
    };
    const end = (start) => out.writeInt32BE(o - start - 4, start);
    let closeAfter = false;

    const closeSession = () => {
      for (const p of ephemerals) {
        const n = tree.get(p);
        if (n !== undefined) {
          tree.delete(p);
          const par = tree.get(parentOf(p));
          if (par) {
            par.children--;
            par.cversion++;
          }
        }
      }
      ephemerals.clear();
    };

    sock.on("data", (chunk) => {
      const buf = pending === null ? chunk : Buffer.concat([pending, chunk]);
      let off = 0;
      o = 0;
      while (off + 4 <= buf.length) {
        const len = buf.readInt32BE(off);
        if (len < 0 || len > 0xfffff) return sock.destroy();
        if (off + 4 + len > buf.length) break;
        const p = off + 4;
        off = p + len;
        if (session === 0) {
          session = ++sessionSeq;
          zxid++;
          ensure(64);
          const start = o;
          o += 4;
          o = out.writeInt32BE(0, o);
          o = out.writeInt32BE(Math.min(Math.max(buf.readInt32BE(p + 12), 4000), 40000), o);
          o = out.writeInt32BE(0x01000000, o);
          o = out.writeUInt32BE(session, o);
          o = out.writeInt32BE(16, o);
          out.fill(0, o, o + 16);
          o += 16;
          if (len > 44) out[o++] = 0;
          end(start);
          continue;
        }
        const xid = buf.readInt32BE(p);
        const op = buf.readInt32BE(p + 4);
        let q = p + 8;
        const readPath = () => {
          const l = buf.readInt32BE(q);
          const s = buf.toString("utf8", q + 4, q + 4 + l);
          q += 4 + l;
          return s;
        };
        switch (op) {
          case 4: // getData
          case 3: {
            // exists
            const path = readPath();
            const n = tree.get(path);
            if (n === undefined) {
              end(header(xid, zxid, E_NONODE));
              break;
            }
            const s = header(xid, zxid, 0, n.data.length);
            if (op === 4) {
              o = out.writeInt32BE(n.data.length, o);
              o += n.data.copy(out, o);
            }
            o = writeStat(out, o, n);
            end(s);
            break;
          }
          case 5: {
            // setData
            const path = readPath();
            const l = buf.readInt32BE(q);
            const data = l < 0 ? Buffer.alloc(0) : Buffer.from(buf.subarray(q + 4, q + 4 + l));
            const n = tree.get(path);
            zxid++;
            if (n === undefined) {
              end(header(xid, zxid, E_NONODE));
              break;
            }
            n.data = data;
            n.version++;
            n.mzxid = zxid;
            n.mtime = Date.now();
            const s = header(xid, zxid, 0);
            o = writeStat(out, o, n);
            end(s);
            break;
          }
          case 1: // create
          case 15: {
            // create2
            let path = readPath();
            const l = buf.readInt32BE(q);
            const data = l < 0 ? Buffer.alloc(0) : Buffer.from(buf.subarray(q + 4, q + 4 + l));
            q += 4 + Math.max(l, 0);
            const acls = buf.readInt32BE(q);
            q += 4;
            for (let i = 0; i < acls; i++) {
              q += 4;
              q += 4 + buf.readInt32BE(q);
              q += 4 + buf.readInt32BE(q);
            }
            const flags = buf.readInt32BE(q);
            zxid++;
            const par = tree.get(parentOf(path));
            if (par === undefined) {
              end(header(xid, zxid, E_NONODE));
              break;
            }
            if (flags & 2) path += String(par.cversion).padStart(10, "0");
            if (tree.has(path)) {
              end(header(xid, zxid, E_NODEEXISTS));
              break;
            }
            const eph = (flags & 1) !== 0;
            const n = mk(data, eph ? session : 0);
            tree.set(path, n);
            if (eph) ephemerals.add(path);
            par.children++;
            par.cversion++;
            par.pzxid = zxid;
            const pl = Buffer.byteLength(path);
            const s = header(xid, zxid, 0, pl);
            o = out.writeInt32BE(pl, o);
            o += out.write(path, o, "utf8");
            if (op === 15) o = writeStat(out, o, n);
            end(s);
            break;
          }
          case 2: {
            // delete
            const path = readPath();
            zxid++;
            const n = tree.get(path);
            if (n === undefined) {
              end(header(xid, zxid, E_NONODE));
              break;
            }
            tree.delete(path);
            ephemerals.delete(path);
            const par = tree.get(parentOf(path));
            if (par) {
              par.children--;
              par.cversion++;
              par.pzxid = zxid;
            }
            end(header(xid, zxid, 0));
            break;
          }
          case 11: // ping
            end(header(xid, zxid, 0));
            break;
          case -11: // closeSession
            zxid++;
            closeSession();
            end(header(xid, zxid, 0));
            closeAfter = true;
            break;
          default:
            end(header(xid, -1, E_UNIMPL));
            closeAfter = true;
        }
        if (closeAfter) break;
      }
      pending = off < buf.length ? Buffer.from(buf.subarray(off)) : null;
      if (o > 0) sock.write(Buffer.from(out.subarray(0, o)));
      if (closeAfter) sock.end();
    });
    sock.on("error", () => {});
    sock.on("close", () => closeSession());
  })
  .listen(port, host, () => {
    process.stdout.write(`bare-server listening on ${host}:${port} (started in ${Date.now() - START} ms)\n`);
  });

process.on("SIGTERM", () => process.exit(0));
process.on("SIGINT", () => process.exit(0));
