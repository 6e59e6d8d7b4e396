#!/usr/bin/env node
// Client comparison (issue 8 item 5): the Effect client, the Promise facade and
// node-zookeeper-client against the same ezk server in one run. Each client runs in its own child
// process (clean CPU and memory figures) and issues pipelined getData / setData on one session:
// `--outstanding` requests in flight at once, `--rounds` times. Reported: ops/s, latency
// percentiles of single requests under that load, client CPU ms and heap growth per 10,000
// outstanding requests. Needs `npm run build`. npm's `zookeeper` (C binding) is not installed here.
// `effect-floor` runs the Effect harness on a request-free Effect that
// completes on the next turn: the Effect runtime's own ceiling for a fiber per request, which
// bounds what any Effect client reaches with `Effect.all(..., { concurrency: "unbounded" })`.
//
//   node bench/clients.mjs [--outstanding 10000] [--rounds 5] [--clients effect,effect-floor,promise,nzk]
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, "..");
const { values: opts } = parseArgs({
  options: {
    outstanding: { type: "string", default: "10000" },
    rounds: { type: "string", default: "5" },
    clients: { type: "string", default: "effect,effect-floor,promise,nzk" },
    child: { type: "string" },
    connect: { type: "string" }
  }
});
const outstanding = Number(opts.outstanding);
const rounds = Number(opts.rounds);

const percentile = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];

/**
 * Runs `rounds` batches of `outstanding` concurrent calls of `op`; returns the figures.
 * `batchOf(kind, n, record)`, when given, issues a whole batch itself (the Effect client's own way:
 * one Effect.all with unbounded concurrency) and calls `record(ms)` per request.
 */
async function measure(op, batchOf) {
  const result = {};
  for (const kind of ["getData", "setData"]) {
    for (let i = 0; i < 200; i++) await op(kind); // warm-up
    globalThis.gc?.();
    const heapBefore = process.memoryUsage().heapUsed;
    const cpuBefore = process.cpuUsage();
    const latencies = [];
    let heapPeak = heapBefore;
    const start = performance.now();
    for (let r = 0; r < rounds; r++) {
      if (batchOf) {
        await batchOf(kind, outstanding, (ms) => latencies.push(ms), () => (heapPeak = Math.max(heapPeak, process.memoryUsage().heapUsed)));
      } else {
        const batch = [];
        for (let i = 0; i < outstanding; i++) {
          const t0 = performance.now();
          batch.push(op(kind).then(() => latencies.push(performance.now() - t0)));
        }
        heapPeak = Math.max(heapPeak, process.memoryUsage().heapUsed);
        await Promise.all(batch);
      }
    }
    const seconds = (performance.now() - start) / 1000;
    const cpu = process.cpuUsage(cpuBefore);
    latencies.sort((a, b) => a - b);
    const perTenK = 10000 / (outstanding * rounds);
    result[kind] = {
      opsPerSec: Math.round((outstanding * rounds) / seconds),
      p50ms: +percentile(latencies, 50).toFixed(1),
      p99ms: +percentile(latencies, 99).toFixed(1),
      cpuMsPer10k: Math.round(((cpu.user + cpu.system) / 1000) * perTenK),
      heapMiBPer10kOutstanding: +(((heapPeak - heapBefore) / 2 ** 20) * (10000 / outstanding)).toFixed(1)
    };
  }
  return result;
}

async function runChild(kind, connectString) {
  const payload = Buffer.alloc(100, 1);
  if (kind === "effect" || kind === "effect-floor") {
    const { Effect, Exit, Scope } = await import("effect");
    const { ZooKeeper } = await import(path.join(repo, "dist/client/index.js"));
    const scope = Effect.runSync(Scope.make());
    const zk = await Effect.runPromise(Scope.extend(ZooKeeper.make({ connectString }), scope));
    await Effect.runPromise(Effect.ignore(zk.create("/bench-effect", payload)));
    // The floor: each "request" is resumed from one setImmediate per burst, as replies are from one socket read.
    let due = [];
    const answer = () => { const now = due; due = []; for (const resume of now) resume(Effect.void); };
    const noop = Effect.async((resume) => { if (due.push(resume) === 1) setImmediate(answer); return Effect.void; });
    const one = kind === "effect-floor"
      ? () => noop
      : (op) => (op === "getData" ? zk.getData("/bench-effect") : zk.setData("/bench-effect", payload));
    const result = await measure(
      (op) => Effect.runPromise(one(op)),
      (op, n, record, sample) =>
        Effect.runPromise(Effect.all(
          Array.from({ length: n }, (_, i) => {
            const t0 = performance.now();
            if (i === n - 1) sample();
            return Effect.map(one(op), () => record(performance.now() - t0));
          }),
          { concurrency: "unbounded", discard: true }
        ))
    );
    await Effect.runPromise(Scope.close(scope, Exit.void));
    return result;
  }
  if (kind === "promise") {
    const { connect } = await import(path.join(repo, "dist/client/promise/index.js"));
    const zk = await connect({ connectString });
    await zk.create("/bench-promise", payload).catch(() => {});
    const result = await measure((op) => (op === "getData" ? zk.getData("/bench-promise") : zk.setData("/bench-promise", payload)));
    await zk.close();
    return result;
  }
  if (kind === "nzk") {
    const { default: zookeeper } = await import("node-zookeeper-client");
    const zk = zookeeper.createClient(connectString);
    await new Promise((resolve) => { zk.once("connected", resolve); zk.connect(); });
    await new Promise((resolve) => zk.create("/bench-nzk", payload, () => resolve()));
    const call = (op) => new Promise((resolve, reject) => {
      const done = (err) => (err ? reject(err) : resolve());
      if (op === "getData") zk.getData("/bench-nzk", done);
      else zk.setData("/bench-nzk", payload, -1, done);
    });
    const result = await measure(call);
    zk.close();
    return result;
  }
  throw new Error(`unknown client ${kind}`);
}

if (opts.child) {
  const result = await runChild(opts.child, opts.connect);
  process.stdout.write(`RESULT ${JSON.stringify(result)}\n`);
  process.exit(0);
}

// Parent: start ezk, run each client in a child process, print a table.
const dataDir = mkdtempSync(path.join(os.tmpdir(), "ezk-bench-clients-"));
const server = spawn(process.execPath, [path.join(repo, "bin/ezk.cjs"), "server", "--port", "0", "--data-dir", dataDir, "--set", "maxClientCnxns=0"], {
  stdio: ["ignore", "pipe", "pipe"]
});
const connectString = await new Promise((resolve, reject) => {
  let out = "";
  const onData = (d) => {
    out += d;
    const m = /ezk serving on (\S+?):(\d+)/.exec(out);
    if (m) resolve(`${m[1]}:${m[2]}`);
  };
  server.stdout.on("data", onData);
  server.stderr.on("data", onData);
  server.on("exit", () => reject(new Error(`ezk exited:\n${out}`)));
});
try {
  const rows = [];
  for (const kind of opts.clients.split(",")) {
    const child = spawn(process.execPath, ["--expose-gc", fileURLToPath(import.meta.url), "--child", kind, "--connect", connectString,
      "--outstanding", String(outstanding), "--rounds", String(rounds)], { stdio: ["ignore", "pipe", "inherit"] });
    let out = "";
    child.stdout.on("data", (d) => (out += d));
    await new Promise((resolve) => child.on("exit", resolve));
    const line = out.split("\n").find((l) => l.startsWith("RESULT "));
    if (!line) throw new Error(`client ${kind} gave no result:\n${out}`);
    const result = JSON.parse(line.slice(7));
    for (const [op, r] of Object.entries(result)) rows.push({ client: kind, op, ...r });
  }
  console.log(`ezk ${connectString}, ${outstanding} outstanding × ${rounds} rounds, 100-byte values, one session per client`);
  console.table(rows);
} finally {
  server.kill("SIGTERM");
  rmSync(dataDir, { recursive: true, force: true });
}
