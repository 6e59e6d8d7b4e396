// Coordinator of the load-generator worker threads: spreads connections over workers,
// waits until every session is established, starts them on a common clock and merges results.
import { Worker } from "node:worker_threads";
import { merge, newHist, summarize } from "./hist.mjs";
import { cpuBetween, cpuSnapshot } from "./procstat.mjs";

const WORKER_URL = new URL("./worker.mjs", import.meta.url);

export const WORKLOADS = ["set100", "set1k", "get", "mixed", "eph"];
export const WORKLOAD_LABEL = {
  set100: "setData 100 B",
  set1k: "setData 1 KiB",
  get: "getData 100 B",
  mixed: "mixed 90% get / 10% set",
  eph: "create+delete eph-seq",
  populate: "create 100 B (load)",
};

// One worker: on this 2-core machine a second generator thread only competes with the server
// (measured: bare server, window 1, 1 worker ~95k ops/s vs 2 workers ~60-70k).
export const defaultWorkers = () => 1;

/**
 * Run one load case.
 * @param {object} o
 * @param {number} o.port
 * @param {number[]} [o.ports] ensemble: connection i goes to ports[i % ports.length] (default [port])
 * @param {string} [o.host]
 * @param {string} o.workload one of WORKLOADS or "populate"
 * @param {number} o.window requests in flight per connection
 * @param {number} o.conns connections (sessions)
 * @param {number} [o.workers] worker threads
 * @param {number} [o.warmupMs]
 * @param {number} [o.durationMs]
 * @param {number | null} [o.serverPid] for CPU accounting
 * @param {string} [o.dataParent] parent of the per-connection data nodes d<i>
 * @param {string} [o.ephParent] parent of the ephemeral-sequential nodes
 * @param {string} [o.populateParent] parent of the b<k>/n<j> tree for "populate"
 * @param {number} [o.populateCount]
 * @param {number} [o.populateBase]
 * @param {number} [o.populateBatch] creates per request for "populate": > 1 sends them as one multi (default 1)
 * @param {number} [o.timeoutMs] hard limit after the planned end
 */
export async function runLoad(o) {
  const conns = o.conns;
  const nWorkers = Math.max(1, Math.min(o.workers ?? defaultWorkers(), conns));
  const warmupMs = o.workload === "populate" ? 0 : (o.warmupMs ?? 1000);
  const durationMs = o.workload === "populate" ? 0 : (o.durationMs ?? 5000);
  const workers = [];
  const ready = [];
  const results = [];
  let base = 0;
  for (let w = 0; w < nWorkers; w++) {
    const n = Math.floor(conns / nWorkers) + (w < conns % nWorkers ? 1 : 0);
    const worker = new Worker(WORKER_URL, {
      workerData: {
        port: o.port,
        ports: o.ports ?? [o.port],
        host: o.host ?? "127.0.0.1",
        conns: n,
        connBase: base,
        totalConns: conns,
        window: o.window,
        workload: o.workload,
        sessionTimeout: 30000,
        dataParent: o.dataParent ?? "/ezkbench",
        ephParent: o.ephParent ?? "/ezkbench/e",
        populateParent: o.populateParent ?? "/ezkrss",
        populateCount: o.populateCount ?? 0,
        populateBase: o.populateBase ?? 0,
        populateBatch: o.populateBatch ?? 1,
      },
    });
    base += n;
    workers.push(worker);
    ready.push(
      new Promise((resolve, reject) => {
        worker.on("message", (m) => {
          if (m.type === "ready") resolve(undefined);
          else if (m.type === "result") {
            results.push(m);
            resolve(undefined); // a failure before "ready" also ends the wait
          }
        });
        worker.on("error", reject);
      }),
    );
  }
  const finished = workers.map(
    (w) =>
      new Promise((resolve) => {
        w.on("exit", () => resolve(undefined));
      }),
  );
  const connectTimer = new Promise((_, reject) =>
    setTimeout(() => reject(new Error("sessions not established within 15 s")), 15000).unref(),
  );
  try {
    await Promise.race([Promise.all(ready), connectTimer]);
  } catch (e) {
    for (const w of workers) void w.terminate();
    throw e;
  }
  if (results.length > 0) {
    for (const w of workers) void w.terminate();
    throw new Error(`load generator failed during connect: ${results.map((r) => r.fatal).join("; ")}`);
  }

  const pids = { server: o.serverPid ?? null, generator: process.pid };
  const t0 = performance.timeOrigin + performance.now();
  const measureStart = t0 + warmupMs;
  const measureEnd = o.workload === "populate" ? Infinity : measureStart + durationMs;
  let snapA = null;
  let snapB = null;
  const timers = [];
  if (o.workload !== "populate") {
    timers.push(setTimeout(() => (snapA = cpuSnapshot(pids)), warmupMs));
    timers.push(setTimeout(() => (snapB = cpuSnapshot(pids)), warmupMs + durationMs));
  } else snapA = cpuSnapshot(pids);
  const startedAt = performance.now();
  for (const w of workers) w.postMessage({ type: "go", measureStart, measureEnd });

  const limit = (o.timeoutMs ?? 30000) + warmupMs + durationMs;
  let timedOut = false;
  const guard = setTimeout(() => {
    timedOut = true;
    for (const w of workers) w.postMessage({ type: "abort" });
    setTimeout(() => {
      for (const w of workers) void w.terminate();
    }, 2000).unref();
  }, limit);
  await Promise.all(finished);
  clearTimeout(guard);
  for (const t of timers) clearTimeout(t);
  const elapsedMs = performance.now() - startedAt;
  if (o.workload === "populate") snapB = cpuSnapshot(pids);

  // merge
  const nk = results[0]?.counts.length ?? 5;
  const kindNames = results[0]?.kindNames ?? [];
  const counts = new Array(nk).fill(0);
  const errors = new Array(nk).fill(0);
  const hists = Array.from({ length: nk }, () => newHist());
  const errorCodes = {};
  let outsideErrors = 0;
  const fatal = [];
  let stalled = false;
  for (const r of results) {
    for (let k = 0; k < nk; k++) {
      counts[k] += r.counts[k];
      errors[k] += r.errors[k];
      merge(hists[k], r.hists[k]);
    }
    for (const [code, n] of Object.entries(r.errorCodes)) errorCodes[code] = (errorCodes[code] ?? 0) + n;
    outsideErrors += r.outsideErrors;
    if (r.fatal) fatal.push(r.fatal);
    if (r.stalled) stalled = true;
  }
  if (results.length < workers.length) fatal.push(`${workers.length - results.length} worker(s) gave no result`);
  if (timedOut) fatal.push(`did not finish within ${limit} ms`);
  const all = newHist();
  for (const h of hists) merge(all, h);
  const ops = counts.reduce((a, b) => a + b, 0);
  const seconds = o.workload === "populate" ? elapsedMs / 1000 : durationMs / 1000;
  const perKind = {};
  for (let k = 0; k < nk; k++) {
    if (counts[k] > 0) {
      const name = kindNames[k] ?? String(k);
      perKind[name] = { ops: counts[k], errors: errors[k], opsPerSec: Math.round(counts[k] / seconds), latencyUs: summarize(hists[k]) };
    }
  }
  return {
    workload: o.workload,
    window: o.window,
    conns,
    workers: nWorkers,
    seconds: Math.round(seconds * 1000) / 1000,
    ops,
    opsPerSec: Math.round(ops / seconds),
    errors: errors.reduce((a, b) => a + b, 0),
    errorCodes,
    outsideErrors,
    latencyUs: summarize(all),
    perKind,
    cpu: snapA && snapB ? cpuBetween(snapA, snapB) : null,
    fatal: fatal.length > 0 ? fatal.join("; ") : null,
    stalled,
  };
}
