// Ensemble benchmark (issue 5 item 12): a 3-node ezk ensemble and a 3-node Apache ZooKeeper 3.8
// ensemble, one after the other in the same run, driven by the standalone bench's load generator.
// Started by `npm run bench -- --ensemble [options]` (compare.mjs hands over); see bench/README.md.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { makeCluster, clusterAvailable } from "./lib/cluster.mjs";
import { runLoad } from "./lib/loadgen.mjs";
import { cpuSeconds, waitIdle } from "./lib/procstat.mjs";
import { body, ensureNode, MiniClient, Op, valueOfSize } from "./lib/proto.mjs";
import { BENCH_DIR, REPO_DIR, running } from "./lib/targets.mjs";
import { renderEnsemble } from "./lib/ensemble-report.mjs";

export const ENSEMBLE_HELP = `Usage: npm run bench -- --ensemble [options]

  --targets LIST        ezk,zookeeper                              (default both)
  --nodes N             peers per ensemble                         (default 3)
  --cases LIST          load,snap,failover                         (default all)
  --warmup S / --duration S   per load case                        (default 1 / 5)
  --failovers N         leader kills per ensemble (median)         (default 5)
  --snap-nodes N        znodes before the wiped follower rejoins   (default 1000000)
  --snap-budget S       stop creating them (in 50k chunks) after S s (default 60)
  --snap-limit S        a follower not rejoined after S s is recorded as stuck (default 90)
  --tick MS --init-limit N --sync-limit N                          (default 2000 / 10 / 5)
  --ezk-main PATH       ezk CLI entry                              (default bin/ezk.cjs)
  --ezk-prof            start ezk peers with --cpu-prof (profiles in the work dir; implies --keep)
  --out DIR             results directory                          (default bench/results)
  --no-write --keep --quick (2 s cases, 3 failovers, 100k znodes)
`;

const log = (s) => process.stderr.write(`${s}\n`);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const median = (xs) => {
  const s = [...xs].sort((x, y) => x - y);
  return s.length === 0 ? null : s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const round = (x) => Math.round(x * 10) / 10;

/** Load cases: pipelined writes, reads, window-1 writes; 8 sessions spread over all peers. */
const LOAD_CASES = [
  { id: "write64", workload: "set100", window: 64 },
  { id: "read64", workload: "get", window: 64 },
  { id: "write1", workload: "set100", window: 1 },
];

async function until(what, f, timeoutMs = 60000, everyMs = 50) {
  const end = performance.now() + timeoutMs;
  for (;;) {
    const v = await f().catch(() => null);
    if (v) return v;
    if (performance.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(everyMs);
  }
}

/** True once the peer on `port` answers exists(path) with ok. */
async function sees(port, p) {
  const c = await MiniClient.connect(port, { timeoutMs: 2000 });
  try {
    return (await c.request(Op.exists, body.exists(p))).err === 0;
  } finally {
    c.destroy();
  }
}

async function setup(cl, conns) {
  const leader = await until("a leader", () => cl.leader());
  const c = await MiniClient.connect(leader.clientPort);
  await ensureNode(c, "/ezkbench");
  await ensureNode(c, "/ezkbench/e");
  for (let i = 0; i < conns; i++) await ensureNode(c, `/ezkbench/d${i}`, valueOfSize(100, i));
  await ensureNode(c, "/ezkbench/failover");
  await c.close();
  for (const p of cl.peers) await until(`peer ${p.sid} to see the setup`, () => sees(p.clientPort, `/ezkbench/d${conns - 1}`));
  return leader;
}

async function loadCases(cl, opt, leader) {
  const pids = cl.peers.map((p) => p.handle.pid);
  const ports = cl.clientPorts();
  log(`  [${cl.kind}] server warm-up ${opt.serverWarmupMs} ms`);
  await runLoad({ port: ports[0], ports, conns: opt.conns, workload: "mixed", window: 64, warmupMs: 0, durationMs: opt.serverWarmupMs });
  const out = {};
  for (const c of LOAD_CASES) {
    const idle = await waitIdle({ maxWaitMs: opt.waitIdleMs, ownPids: pids });
    const r = await runLoad({ port: ports[0], ports, conns: opt.conns, workload: c.workload, window: c.window, warmupMs: opt.warmupMs, durationMs: opt.durationMs, serverPid: leader.handle.pid });
    out[c.id] = { ...c, idleBefore: idle, loadavg: os.loadavg(), ...r };
    log(`  [${cl.kind}] ${c.id}: ${r.opsPerSec} ops/s, p50/p99 ${r.latencyUs.p50}/${r.latencyUs.p99} µs, errors ${r.errors}${r.fatal ? `, FATAL ${r.fatal}` : ""}`);
  }
  return out;
}

/** Pipelined setData from `clients` sessions on the given ports; reconnects on any failure. */
function backgroundWrites(ports, { clients = 4, window = 16 } = {}) {
  let stop = false;
  let ok = 0;
  const lane = async (i) => {
    while (!stop) {
      try {
        const c = await MiniClient.connect(ports[i % ports.length], { timeoutMs: 2000 });
        while (!stop) {
          const rs = await Promise.all(Array.from({ length: window }, () => c.request(Op.setData, body.setData(`/ezkbench/d${i}`, valueOfSize(100, i)))));
          ok += rs.filter((r) => r.err === 0).length;
        }
        c.destroy();
      } catch {
        await sleep(20);
      }
    }
  };
  const lanes = Array.from({ length: clients }, (_, i) => lane(i));
  return { stop: async () => ((stop = true), await Promise.race([Promise.all(lanes), sleep(3000)]), ok) };
}

/**
 * Resolve with the performance.now() of the first successful setData on any of `ports`, each
 * attempt a new session. Attempts overlap (a new one every 20 ms while the last is stalled), so a
 * connection that hangs on a peer that is not serving does not hide the moment another one is.
 */
function firstWrite(ports, timeoutMs = 60000) {
  return new Promise((resolve, reject) => {
    const socks = new Set();
    let done = false;
    let k = 0;
    let last = -Infinity;
    let pending = 0;
    const finish = (err, t) => {
      if (done) return;
      done = true;
      clearInterval(tick);
      for (const s of socks) s.destroy();
      err ? reject(err) : resolve(t);
    };
    const attempt = () => {
      last = performance.now();
      pending++;
      let sock = null;
      MiniClient.connect(ports[k++ % ports.length], { timeoutMs: 5000, onSocket: (s) => socks.add((sock = s)) })
        .then((c) => c.request(Op.setData, body.setData("/ezkbench/failover", valueOfSize(100, 1))))
        .then((r) => (r.err === 0 ? finish(null, performance.now()) : undefined))
        .catch(() => {})
        .finally(() => {
          pending--;
          if (sock) socks.delete(sock), sock.destroy();
        });
    };
    const t0 = performance.now();
    const tick = setInterval(() => {
      const now = performance.now();
      if (now - t0 > timeoutMs) return finish(new Error("no successful write"));
      if (pending === 0 || (now - last > 20 && pending < 30)) attempt();
    }, 2);
  });
}

/** Kill -9 the current leader `opt.failovers` times; an ensemble that takes no write for
 * FAILOVER_LIMIT_MS is recorded as stuck (with its peers' logs) and the trials stop there. */
const FAILOVER_LIMIT_MS = 30000;
async function failovers(cl, opt) {
  const trials = [];
  for (let i = 0; i < opt.failovers; i++) {
    const leader = await until("a leader", () => cl.leader());
    const followers = cl.peers.filter((p) => p !== leader);
    const bg = backgroundWrites(followers.map((p) => p.clientPort));
    await sleep(1000);
    const t0 = performance.now();
    process.kill(leader.handle.pid, "SIGKILL");
    const t1 = await firstWrite(followers.map((p) => p.clientPort), FAILOVER_LIMIT_MS).catch(() => null);
    const acked = await bg.stop();
    await leader.handle.exited;
    if (t1 === null) {
      const logTails = Object.fromEntries(followers.map((p) => [p.sid, p.handle.logTail(12)]));
      trials.push({ killedSid: leader.sid, ms: null, stuck: `no successful write within ${FAILOVER_LIMIT_MS} ms`, modes: await cl.modes(), logTails });
      log(`  [${cl.kind}] failover ${i + 1}: killed ${leader.sid}, NO successful write within ${FAILOVER_LIMIT_MS} ms; stopping the failover trials`);
      break;
    }
    const newLeader = await until("a new leader", () => cl.leader());
    cl.start(leader);
    await cl.waitServed(leader);
    trials.push({ killedSid: leader.sid, newLeaderSid: newLeader.sid, ms: round(t1 - t0), backgroundAcked: acked });
    log(`  [${cl.kind}] failover ${i + 1}: killed ${leader.sid}, next write after ${round(t1 - t0)} ms, new leader ${newLeader.sid}`);
  }
  const stuck = trials.some((t) => t.ms === null);
  return { trials, stuck, medianMs: stuck ? null : median(trials.map((t) => t.ms)) };
}

/** Create up to opt.snapNodes znodes in chunks while the time budget lasts, then SNAP a wiped follower. */
const POPULATE_CHUNK = 50000;
/** Creates per multi request while populating: a txn per 25 znodes reaches 1M within the budget on both targets. */
const POPULATE_BATCH = 25;
async function snapRejoin(cl, opt) {
  const leader = await until("a leader", () => cl.leader());
  const c = await MiniClient.connect(leader.clientPort);
  await ensureNode(c, "/ezkrss");
  await c.pipeline(Array.from({ length: Math.ceil(opt.snapNodes / 1000) }, (_, k) => [Op.create, body.create(`/ezkrss/b${k}`, null)]));
  await c.close();
  const ports = cl.clientPorts();
  log(`  [${cl.kind}] loading up to ${opt.snapNodes} znodes within ${opt.snapBudgetMs / 1000} s`);
  const t0Pop = performance.now();
  let n = 0;
  let errors = 0;
  while (n < opt.snapNodes && performance.now() - t0Pop < opt.snapBudgetMs) {
    const count = Math.min(POPULATE_CHUNK, opt.snapNodes - n);
    const pop = await runLoad({ port: ports[0], ports, conns: opt.conns, workload: "populate", window: 64, populateBatch: POPULATE_BATCH, populateBase: n, populateCount: count, timeoutMs: 900000 });
    if (pop.fatal) throw new Error(`populate failed: ${pop.fatal}`);
    errors += pop.errors;
    n += count;
  }
  const populateMs = performance.now() - t0Pop;
  log(`  [${cl.kind}] ${n} znodes in ${Math.round(populateMs)} ms`);
  const lastPath = `/ezkrss/b${Math.floor((n - 1) / 1000)}/n${(n - 1) % 1000}`;
  const follower = cl.peers.find((p) => p !== leader);
  await until("the follower to have the last znode", () => sees(follower.clientPort, lastPath), 120000);
  await cl.kill9(follower);
  cl.wipe(follower);
  const leaderCpu0 = cpuSeconds(leader.handle.pid);
  const t0 = cl.start(follower);
  const base = { znodes: n, createErrors: errors, budgetHit: n < opt.snapNodes, populateOpsPerSec: Math.round(n / (populateMs / 1000)), followerSid: follower.sid };
  let served;
  let complete;
  try {
    served = await cl.waitServed(follower, opt.snapLimitMs);
    complete = await until("the last znode on the rejoined follower", async () => (await sees(follower.clientPort, lastPath)) && performance.now(), opt.snapLimitMs - (served - t0), 5);
  } catch {
    // Recorded, not thrown: the ensemble may still serve the failover case.
    const logTails = { [follower.sid]: follower.handle.logTail(12), [leader.sid]: leader.handle.logTail(12) };
    log(`  [${cl.kind}] wiped follower ${follower.sid} did NOT rejoin within ${opt.snapLimitMs} ms`);
    return { ...base, stuck: `not rejoined within ${opt.snapLimitMs} ms`, logTails };
  }
  // CPU (all threads) of the new follower since its spawn and of the leader meanwhile: what the
  // rejoin costs, apart from how long a busy machine made it wait.
  const cpuMs = { follower: round(cpuSeconds(follower.handle.pid) * 1000), leader: round((cpuSeconds(leader.handle.pid) - leaderCpu0) * 1000) };
  const r = { ...base, servedMs: round(served - t0), completeMs: round(complete - t0), cpuMs, loadavg: os.loadavg() };
  log(`  [${cl.kind}] wiped follower ${follower.sid} served after ${r.servedMs} ms, last znode after ${r.completeMs} ms`);
  return r;
}

async function runEnsemble(kind, opt, root) {
  const res = { kind, started: new Date().toISOString() };
  const avail = clusterAvailable(kind, opt.ezkMain);
  if (!avail.ok) return { ...res, notRun: avail.reason };
  const dir = path.join(root, kind);
  mkdirSync(dir, { recursive: true });
  const cl = await makeCluster({ kind, nodes: opt.nodes, root: dir, timing: opt.timing, ezkMain: opt.ezkMain, nodeArgs: opt.ezkProf && kind === "ezk" ? (sid) => ["--cpu-prof", `--cpu-prof-dir=${path.join(dir, `prof${sid}`)}`] : undefined });
  try {
    const t0 = performance.now();
    await cl.startAll();
    res.formedMs = round(performance.now() - t0);
    const leader = await setup(cl, opt.conns);
    res.modes = await cl.modes();
    log(`[${kind}] ensemble serving after ${res.formedMs} ms, modes ${res.modes.join(",")}`);
    if (opt.cases.has("load")) res.load = await loadCases(cl, opt, leader);
    // SNAP before failover: an ensemble that does not recover from a failover must not cost the SNAP case.
    if (opt.cases.has("snap")) res.snap = await snapRejoin(cl, opt);
    if (opt.cases.has("failover")) res.failover = await failovers(cl, opt);
  } catch (e) {
    res.error = e instanceof Error ? e.message : String(e);
    res.logTails = Object.fromEntries(cl.peers.map((p) => [p.sid, p.handle?.logTail(20) ?? ""]));
    log(`[${kind}] FAILED: ${res.error}`);
  } finally {
    await cl.stopAll();
    if (opt.ezkProf && kind === "ezk") res.profiles = dir;
  }
  return res;
}

/** @param {string[]} argv arguments after --ensemble */
export async function main(argv) {
  const { values: a } = parseArgs({
    args: argv,
    options: {
      targets: { type: "string", default: "ezk,zookeeper" },
      nodes: { type: "string", default: "3" },
      cases: { type: "string", default: "load,snap,failover" },
      warmup: { type: "string" },
      duration: { type: "string" },
      failovers: { type: "string" },
      "snap-nodes": { type: "string" },
      "snap-budget": { type: "string" },
      "snap-limit": { type: "string" },
      tick: { type: "string", default: "2000" },
      "init-limit": { type: "string", default: "10" },
      "sync-limit": { type: "string", default: "5" },
      "wait-idle": { type: "string", default: "20" },
      "ezk-main": { type: "string", default: path.join(REPO_DIR, "bin/ezk.cjs") },
      "ezk-prof": { type: "boolean", default: false },
      out: { type: "string", default: path.join(BENCH_DIR, "results") },
      "no-write": { type: "boolean", default: false },
      keep: { type: "boolean", default: false },
      quick: { type: "boolean", default: false },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  if (a.help) return process.stdout.write(ENSEMBLE_HELP), 0;
  const q = a.quick;
  const opt = {
    targets: a.targets.split(","),
    nodes: Number(a.nodes),
    cases: new Set(a.cases.split(",")),
    conns: 8,
    warmupMs: Number(a.warmup ?? (q ? 0.5 : 1)) * 1000,
    durationMs: Number(a.duration ?? (q ? 2 : 5)) * 1000,
    serverWarmupMs: q ? 1000 : 3000,
    failovers: Number(a.failovers ?? (q ? 3 : 5)),
    snapNodes: Number(a["snap-nodes"] ?? (q ? 100000 : 1000000)),
    snapBudgetMs: Number(a["snap-budget"] ?? (q ? 30 : 60)) * 1000,
    snapLimitMs: Number(a["snap-limit"] ?? 90) * 1000,
    timing: { tickTime: Number(a.tick), initLimit: Number(a["init-limit"]), syncLimit: Number(a["sync-limit"]) },
    waitIdleMs: Number(a["wait-idle"]) * 1000,
    ezkMain: path.resolve(a["ezk-main"]),
    ezkProf: a["ezk-prof"],
  };
  const keep = a.keep || opt.ezkProf;
  const root = mkdtempSync(path.join(os.tmpdir(), "ezk-bench-ens-"));
  for (const sig of ["SIGINT", "SIGTERM"])
    process.on(sig, () => void Promise.all([...running].map((h) => h.stop(3000))).finally(() => process.exit(130)));
  const command = `npm run bench -- --ensemble ${argv.join(" ")}`.trim();
  const started = new Date().toISOString();
  const results = [];
  for (const kind of opt.targets) {
    const r = await runEnsemble(kind, opt, root);
    results.push(r);
    // Same SNAP size for every target: the first one's budget decides it.
    if (r.snap?.budgetHit) {
      opt.snapNodes = r.snap.znodes;
      opt.snapBudgetMs = Infinity;
    }
  }
  const doc = { command, started, finished: new Date().toISOString(), loadavgAtEnd: os.loadavg(), host: { cpus: os.cpus().length, model: os.cpus()[0]?.model, memGiB: Math.round(os.totalmem() / 2 ** 30), node: process.version }, options: { ...opt, cases: [...opt.cases] }, results };
  const md = renderEnsemble(doc);
  process.stdout.write(md);
  if (!a["no-write"]) {
    mkdirSync(a.out, { recursive: true });
    writeFileSync(path.join(a.out, "ensemble-latest.json"), `${JSON.stringify(doc, null, 2)}\n`);
    writeFileSync(path.join(a.out, "ensemble-latest.md"), md);
  }
  if (!keep) rmSync(root, { recursive: true, force: true });
  else log(`work dir kept: ${root}`);
  return results.some((r) => r.error) ? 1 : 0;
}
