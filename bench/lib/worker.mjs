// Load-generator worker thread: drives `conns` raw client connections in a closed loop.
// Each completed reply is replaced by one new request, so every connection keeps exactly
// `window` requests in flight. Replies of one chunk are parsed in one pass and their
// follow-up requests leave in one socket write, so per-request cost stays a few hundred ns.
import net from "node:net";
import { parentPort, workerData } from "node:worker_threads";
import { newHist, record } from "./hist.mjs";
import { body, connectFrame, CreateMode, frame, OPEN_ACL, Op, valueOfSize } from "./proto.mjs";

/** Request kinds; latency and counts are kept per kind. */
const K_GET = 0;
const K_SET = 1;
const K_CREATE = 2;
const K_DELETE = 3;
const K_POPULATE = 4;
const KIND_NAMES = ["getData", "setData", "create", "delete", "create"];
const NKINDS = 5;

const cfg = workerData;
const W = cfg.window;
const workload = cfg.workload;
const isPopulate = workload === "populate";

const hists = Array.from({ length: NKINDS }, () => newHist());
const counts = new Float64Array(NKINDS);
const errors = new Float64Array(NKINDS);
const errorCodes = new Map();
let outsideErrors = 0;
let fatal = null;

// Local clock (ms, performance.now) bounds of the measured interval; set by "go".
let mStart = Infinity;
let mEnd = Infinity;

const valueBytes = workload === "set1k" ? 1024 : 100;
const setValue = valueOfSize(valueBytes, 7);
// populate: each request is a multi of this many creates (1: plain creates).
const popBatch = Math.max(1, cfg.populateBatch ?? 1);
const maxFrame = (64 + Math.max(valueBytes, 100) + 200) * (isPopulate ? popBatch : 1) + 32;
const staging = Buffer.allocUnsafe(W * maxFrame + 4096);

// create(ephemeral-sequential) template (empty data) and populate tail (data, acl, flags).
const ephCreate = frame(0, Op.create, body.create(`${cfg.ephParent}/s-`, Buffer.alloc(0), CreateMode.ephemeralSequential));
const popTail = Buffer.concat([
  (() => {
    const v = valueOfSize(100, 3);
    const b = Buffer.allocUnsafe(4 + v.length);
    b.writeInt32BE(v.length, 0);
    v.copy(b, 4);
    return b;
  })(),
  OPEN_ACL,
  Buffer.from([0, 0, 0, 0]),
]);

function makeConn(i) {
  const gidx = cfg.connBase + i;
  const path = `${cfg.dataParent}/d${gidx}`;
  return {
    gidx,
    sock: /** @type {net.Socket | null} */ (null),
    connected: false,
    closing: false,
    done: false,
    xid: 1,
    expectXid: 1,
    inflight: 0,
    ring: new Float64Array(W),
    kinds: new Uint8Array(W),
    head: 0,
    tail: 0,
    seq: 0,
    pending: /** @type {Buffer | null} */ (null),
    getTpl: frame(0, Op.getData, body.getData(path)),
    setTpl: frame(0, Op.setData, body.setData(path, setValue)),
    // populate range
    next: 0,
    to: 0,
  };
}

const conns = Array.from({ length: cfg.conns }, (_, i) => makeConn(i));
if (isPopulate) {
  const per = Math.ceil(cfg.populateCount / cfg.totalConns);
  for (const c of conns) {
    c.next = cfg.populateBase + c.gidx * per;
    c.to = Math.min(cfg.populateBase + cfg.populateCount, c.next + per);
  }
}
let connectedCount = 0;
let doneCount = 0;

function copyTpl(tpl, c, o) {
  tpl.copy(staging, o);
  staging.writeInt32BE(c.xid++, o + 4);
  return o + tpl.length;
}

/** Append the next request of connection `c` to the staging buffer at `o`; returns new offset. */
function emitNext(c, o, prevKind, prevErr, buf, p, len) {
  let kind;
  switch (workload) {
    case "get":
      kind = K_GET;
      o = copyTpl(c.getTpl, c, o);
      break;
    case "set100":
    case "set1k":
      kind = K_SET;
      o = copyTpl(c.setTpl, c, o);
      break;
    case "mixed":
      // Deterministic 9 reads then 1 write per 10 requests on every connection.
      if (c.seq++ % 10 === 9) {
        kind = K_SET;
        o = copyTpl(c.setTpl, c, o);
      } else {
        kind = K_GET;
        o = copyTpl(c.getTpl, c, o);
      }
      break;
    case "eph":
      if (prevKind === K_CREATE && prevErr === 0 && buf !== null) {
        // delete the path the create returned: copy its ustring straight from the reply
        const plen = buf.readInt32BE(p + 16);
        const flen = 16 + plen;
        staging.writeInt32BE(flen, o);
        staging.writeInt32BE(c.xid++, o + 4);
        staging.writeInt32BE(Op.delete, o + 8);
        buf.copy(staging, o + 12, p + 16, p + 20 + plen);
        staging.writeInt32BE(-1, o + 16 + plen);
        o += 4 + flen;
        kind = K_DELETE;
      } else {
        kind = K_CREATE;
        o = copyTpl(ephCreate, c, o);
      }
      break;
    case "populate": {
      if (popBatch === 1) {
        const i = c.next++;
        const path = `${cfg.populateParent}/b${Math.floor(i / 1000)}/n${i % 1000}`;
        const plen = path.length; // ASCII
        const flen = 8 + 4 + plen + popTail.length;
        staging.writeInt32BE(flen, o);
        staging.writeInt32BE(c.xid++, o + 4);
        staging.writeInt32BE(Op.create, o + 8);
        staging.writeInt32BE(plen, o + 12);
        staging.write(path, o + 16, "latin1");
        popTail.copy(staging, o + 16 + plen);
        o += 4 + flen;
      } else {
        // multi: (MultiHeader{type, done, err}, create body)*, then MultiHeader{-1, true, -1}.
        const start = o;
        staging.writeInt32BE(c.xid++, o + 4);
        staging.writeInt32BE(Op.multi, o + 8);
        o += 12;
        for (let k = 0; k < popBatch && c.next < c.to; k++) {
          const i = c.next++;
          const path = `${cfg.populateParent}/b${Math.floor(i / 1000)}/n${i % 1000}`;
          staging.writeInt32BE(Op.create, o);
          staging.writeUInt8(0, o + 4);
          staging.writeInt32BE(-1, o + 5);
          staging.writeInt32BE(path.length, o + 9);
          staging.write(path, o + 13, "latin1");
          o = o + 13 + path.length;
          popTail.copy(staging, o);
          o += popTail.length;
        }
        staging.writeInt32BE(-1, o);
        staging.writeUInt8(1, o + 4);
        staging.writeInt32BE(-1, o + 5);
        o += 9;
        staging.writeInt32BE(o - start - 4, start);
      }
      kind = K_POPULATE;
      break;
    }
    default:
      throw new Error(`unknown workload ${workload}`);
  }
  c.kinds[c.tail] = kind;
  c.tail = c.tail + 1 === W ? 0 : c.tail + 1;
  c.inflight++;
  return o;
}

/** Write the staged requests (one syscall) and stamp their send time. */
function flush(c, o, n) {
  const t = performance.now();
  let k = c.tail - n;
  if (k < 0) k += W;
  for (let j = 0; j < n; j++) {
    c.ring[k] = t;
    k = k + 1 === W ? 0 : k + 1;
  }
  c.sock?.write(Buffer.from(staging.subarray(0, o)));
}

function wantMore(c, t) {
  return isPopulate ? c.next < c.to : t < mEnd;
}

function start(c) {
  const t = performance.now();
  let o = 0;
  let n = 0;
  while (n < W && wantMore(c, t)) {
    o = emitNext(c, o, -1, 0, null, 0, 0);
    n++;
  }
  if (n > 0) flush(c, o, n);
  else finishConn(c);
}

function finishConn(c) {
  if (c.closing || c.done) return;
  c.closing = true;
  c.sock?.write(frame(c.xid++, Op.closeSession));
  setTimeout(() => markDone(c), 2000).unref();
}

function markDone(c) {
  if (c.done) return;
  c.done = true;
  c.sock?.destroy();
  doneCount++;
  if (doneCount === conns.length) report();
}

function onData(c, chunk) {
  const buf = c.pending === null ? chunk : Buffer.concat([c.pending, chunk]);
  const t = performance.now();
  const measuring = isPopulate || (t >= mStart && t < mEnd);
  const more = wantMore(c, t);
  let off = 0;
  let o = 0;
  let n = 0;
  while (off + 4 <= buf.length) {
    const len = buf.readInt32BE(off);
    if (off + 4 + len > buf.length) break;
    const p = off + 4;
    off = p + len;
    if (!c.connected) {
      c.connected = true;
      if (buf.readInt32BE(p + 4) <= 0) return fail(`conn ${c.gidx}: session refused`);
      if (++connectedCount === conns.length) parentPort?.postMessage({ type: "ready" });
      continue;
    }
    const xid = buf.readInt32BE(p);
    if (xid < 0) continue; // notification or ping reply: not part of the load
    if (c.closing) {
      markDone(c);
      return;
    }
    if (xid !== c.expectXid) return fail(`conn ${c.gidx}: reply xid ${xid}, expected ${c.expectXid}`);
    c.expectXid++;
    const err = buf.readInt32BE(p + 12);
    const kind = c.kinds[c.head] ?? 0;
    const sentAt = c.ring[c.head] ?? t;
    c.head = c.head + 1 === W ? 0 : c.head + 1;
    c.inflight--;
    if (measuring) {
      record(hists[kind] ?? hists[0], (t - sentAt) * 1000);
      counts[kind]++;
      if (err !== 0) {
        errors[kind]++;
        errorCodes.set(err, (errorCodes.get(err) ?? 0) + 1);
      }
    } else if (err !== 0) outsideErrors++;
    if (more && (!isPopulate || c.next < c.to)) {
      o = emitNext(c, o, kind, err, buf, p, len);
      n++;
    }
  }
  c.pending = off < buf.length ? buf.subarray(off) : null;
  if (n > 0) flush(c, o, n);
  if (!more && c.inflight === 0 && c.connected) finishConn(c);
}

function fail(msg) {
  if (fatal === null) fatal = msg;
  for (const c of conns) {
    c.sock?.destroy();
  }
  report();
}

let reported = false;
function report() {
  if (reported) return;
  reported = true;
  const out = {
    type: "result",
    fatal,
    stalled: doneCount < conns.length && fatal === null,
    counts: Array.from(counts),
    errors: Array.from(errors),
    outsideErrors,
    errorCodes: Object.fromEntries(errorCodes),
    kindNames: KIND_NAMES,
    hists,
  };
  parentPort?.postMessage(out);
  setTimeout(() => process.exit(0), 50).unref();
}

for (const c of conns) {
  const sock = net.connect({ port: cfg.ports[c.gidx % cfg.ports.length], host: cfg.host, noDelay: true });
  c.sock = sock;
  sock.on("connect", () => sock.write(connectFrame(cfg.sessionTimeout)));
  sock.on("data", (chunk) => onData(c, chunk));
  sock.on("error", (e) => {
    if (!c.closing) fail(`conn ${c.gidx}: ${e.message}`);
  });
  sock.on("close", () => {
    if (c.closing) markDone(c);
    else if (!reported) fail(`conn ${c.gidx}: closed by server`);
  });
}

parentPort?.on("message", (m) => {
  if (m.type === "go") {
    const origin = performance.timeOrigin;
    mStart = m.measureStart - origin;
    mEnd = m.measureEnd - origin;
    for (const c of conns) start(c);
  } else if (m.type === "abort") {
    fail("aborted by coordinator");
  }
});
