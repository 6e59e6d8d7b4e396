#!/usr/bin/env node
// ezk vs Apache ZooKeeper 3.8 benchmark (issue item 12). See bench/README.md.
//
//   npm run bench                                  # ezk + zookeeper, full run
//   npm run bench -- --targets zookeeper,bare      # any subset of ezk, zookeeper, bare
//   npm run bench -- --quick                       # short smoke run
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { runLoad, WORKLOAD_LABEL, WORKLOADS } from "./lib/loadgen.mjs";
import { memory, waitIdle } from "./lib/procstat.mjs";
import { body, ensureNode, freePort, MiniClient, Op, valueOfSize } from "./lib/proto.mjs";
import { BENCH_DIR, makeTargets, REPO_DIR, running, startServer, waitServed } from "./lib/targets.mjs";

const HELP = `Usage: node bench/compare.mjs [options]

  --targets LIST        comma list of ezk, zookeeper, bare        (default ezk,zookeeper)
  --phases LIST         load,rss,cold                             (default all)
  --workloads LIST      ${WORKLOADS.join(",")}  (default all)
  --windows LIST        requests in flight per connection          (default 1,64)
  --conns N             connections (sessions)                    (default 8)
  --workers N           load-generator worker threads             (default 1)
  --warmup S            warm-up seconds per case                  (default 1)
  --duration S          measured seconds per case                 (default 5)
  --server-warmup S     unrecorded mixed load before the cases    (default 3)
  --rss-nodes N         znodes (100 B) loaded for the RSS figure  (default 1000000)
  --rss-settle S        pause before reading VmRSS                (default 3)
  --cold-runs N         cold-start repetitions (median reported)  (default 5)
  --wait-idle S         before each case wait up to S s for other
                        processes to use < 15% of a core          (default 120; 0 = off)
  --retries N           re-run a case whose interval had > 25% of a
                        core used by other processes; the attempt
                        with the least foreign CPU is kept         (default 3)
  --ezk-main PATH       ezk CLI entry                             (default bin/ezk.cjs, the installed ezk)
  --zk-jvmflags FLAGS   SERVER_JVMFLAGS for zkServer.sh            (default: none, packaged defaults)
  --out DIR             results directory                         (default bench/results)
  --no-write            do not write results files
  --keep                keep the temporary data directories
  --quick               smoke run: 0.5 s warm-up, 2 s cases, 100k znodes, 2 cold runs
  --report FILE         only re-render the Markdown of an earlier results JSON
  --ensemble            run the 3-node ensemble benchmark instead (--ensemble --help)
`;

// `--ensemble` hands the whole run to the ensemble benchmark, which has its own options.
if (process.argv.includes("--ensemble")) {
  const { main } = await import("./ensemble.mjs");
  process.exit(await main(process.argv.slice(2).filter((x) => x !== "--ensemble")));
}

const { values: a } = parseArgs({
  options: {
    targets: { type: "string", default: "ezk,zookeeper" },
    phases: { type: "string", default: "load,rss,cold" },
    workloads: { type: "string", default: WORKLOADS.join(",") },
    windows: { type: "string", default: "1,64" },
    conns: { type: "string", default: "8" },
    workers: { type: "string", default: "1" },
    warmup: { type: "string" },
    duration: { type: "string" },
    "server-warmup": { type: "string" },
    "rss-nodes": { type: "string" },
    "rss-settle": { type: "string", default: "3" },
    "cold-runs": { type: "string" },
    "wait-idle": { type: "string", default: "120" },
    retries: { type: "string", default: "3" },
    "ezk-main": { type: "string", default: path.join(REPO_DIR, "bin/ezk.cjs") },
    "zk-jvmflags": { type: "string" },
    out: { type: "string", default: path.join(BENCH_DIR, "results") },
    "no-write": { type: "boolean", default: false },
    keep: { type: "boolean", default: false },
    quick: { type: "boolean", default: false },
    report: { type: "string" },
    help: { type: "boolean", short: "h", default: false },
  },
});
if (a.help) {
  process.stdout.write(HELP);
  process.exit(0);
}

const list = (s) => s.split(",").map((x) => x.trim()).filter((x) => x.length > 0);
const num = (s, d) => (s === undefined ? d : Number(s));
const opt = {
  targets: list(a.targets),
  phases: new Set(list(a.phases)),
  workloads: list(a.workloads),
  windows: list(a.windows).map(Number),
  conns: num(a.conns, 8),
  workers: num(a.workers, 1),
  warmupMs: num(a.warmup, a.quick ? 0.5 : 1) * 1000,
  durationMs: num(a.duration, a.quick ? 2 : 5) * 1000,
  serverWarmupMs: num(a["server-warmup"], a.quick ? 1 : 3) * 1000,
  rssNodes: num(a["rss-nodes"], a.quick ? 100000 : 1000000),
  rssSettleMs: num(a["rss-settle"], 3) * 1000,
  coldRuns: num(a["cold-runs"], a.quick ? 2 : 5),
  waitIdleMs: num(a["wait-idle"], 120) * 1000,
  retries: num(a.retries, 3),
  idleLimit: 15,
  noiseLimit: 25,
  ezkMain: path.resolve(a["ezk-main"]),
  zkJvmFlags: a["zk-jvmflags"] ?? null,
};
for (const w of opt.workloads) if (!WORKLOADS.includes(w)) throw new Error(`unknown workload ${w}`);
const targets = makeTargets({ ezkMain: opt.ezkMain, zkJvmFlags: opt.zkJvmFlags });
for (const t of opt.targets) if (!(t in targets)) throw new Error(`unknown target ${t} (ezk, zookeeper, bare)`);

const tmpRoot = mkdtempSync(path.join(os.tmpdir(), "ezk-bench-"));
const log = (s) => process.stderr.write(`${s}\n`);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function stopAll() {
  await Promise.all([...running].map((h) => h.stop(3000)));
}
for (const sig of ["SIGINT", "SIGTERM"]) {
  process.on(sig, () => {
    log(`\n${sig}: stopping servers`);
    void stopAll().finally(() => {
      if (!a.keep) rmSync(tmpRoot, { recursive: true, force: true });
      process.exit(130);
    });
  });
}

let dirSeq = 0;
/** A fresh work dir with an existing, empty data dir inside. */
function freshDirs(tag) {
  const workDir = path.join(tmpRoot, `${tag}-${++dirSeq}`);
  const dataDir = path.join(workDir, "data");
  mkdirSync(dataDir, { recursive: true });
  return { workDir, dataDir };
}
const cleanup = (d) => {
  if (!a.keep) rmSync(d.workDir, { recursive: true, force: true });
};

/** Start a target on a free port in fresh dirs and wait until it serves. */
async function boot(target, tag) {
  const dirs = freshDirs(`${target.name}-${tag}`);
  const port = await freePort();
  const h = startServer(target, { port, ...dirs });
  try {
    await waitServed(h);
  } catch (e) {
    await h.stop(3000);
    cleanup(dirs);
    throw Object.assign(e instanceof Error ? e : new Error(String(e)), { bootFailure: true, command: h.command });
  }
  return { h, dirs, port };
}

/** Let other users of the machine finish before measuring (see --wait-idle). */
async function quiet(label, ownPids) {
  if (opt.waitIdleMs <= 0) return null;
  const r = await waitIdle({ maxBusyPct: opt.idleLimit, maxWaitMs: opt.waitIdleMs, ownPids: [process.pid, ...ownPids] });
  if (r.waitedMs > 1000) log(`  (${label}: waited ${(r.waitedMs / 1000).toFixed(1)} s for a quiet machine; foreign CPU now ${r.busyPct}%)`);
  return r;
}

const mib = (kib) => (kib == null ? null : Math.round((kib / 1024) * 10) / 10);

// ---------------------------------------------------------------------------------------------
// phases

async function loadPhase(target, res) {
  const { h, dirs, port } = await boot(target, "load");
  res.command = h.command;
  res.serverCmdline = h.cmdline();
  res.pid = h.pid;
  if (target.name === "zookeeper") res.jvm = jvmInfo(h.pid);
  try {
    const c = await MiniClient.connect(port);
    await ensureNode(c, "/ezkbench");
    await ensureNode(c, "/ezkbench/e");
    for (let i = 0; i < opt.conns; i++) await ensureNode(c, `/ezkbench/d${i}`, valueOfSize(100, 7));
    await c.close();
    const base = { port, conns: opt.conns, workers: opt.workers, serverPid: h.pid };
    if (opt.serverWarmupMs > 0) {
      log(`  [${target.name}] server warm-up ${opt.serverWarmupMs / 1000} s (mixed, window 64, unrecorded)`);
      const r = await runLoad({ ...base, workload: "mixed", window: 64, warmupMs: 0, durationMs: opt.serverWarmupMs });
      res.serverWarmup = { opsPerSec: r.opsPerSec, fatal: r.fatal };
    }
    res.cases = [];
    for (const workload of opt.workloads) {
      for (const window of opt.windows) {
        if (h.exitInfo()) {
          const fatal = `server exited: ${JSON.stringify(h.exitInfo())}`;
          res.cases.push({ workload, window, fatal });
          log(`  [${target.name}] ${WORKLOAD_LABEL[workload]}, window ${window}: skipped, ${fatal}`);
          continue;
        }
        let r = null;
        const attempts = [];
        for (let attempt = 0; attempt <= opt.retries; attempt++) {
          await quiet(`${target.name} ${workload}/${window}`, [h.pid]);
          // every case starts from 100-byte values in the data nodes
          let x;
          try {
            const s = await MiniClient.connect(port);
            await s.pipeline(Array.from({ length: opt.conns }, (_, i) => [Op.setData, body.setData(`/ezkbench/d${i}`, valueOfSize(100, 7))]));
            await s.close();
            x = await runLoad({ ...base, workload, window, warmupMs: opt.warmupMs, durationMs: opt.durationMs });
          } catch (e) {
            x = { workload, window, fatal: e instanceof Error ? e.message : String(e) };
          }
          const other = x.cpu?.other ?? 0;
          attempts.push({ opsPerSec: x.opsPerSec ?? null, p99: x.latencyUs?.p99 ?? null, foreignCpu: other, fatal: x.fatal ?? null });
          // keep the attempt least disturbed by other processes (never chosen by its result)
          if (r === null || (!x.fatal && (r.fatal || other < (r.cpu?.other ?? 0)))) r = x;
          if (x.fatal) {
            log(`  (${target.name} ${workload}/${window}: attempt ${attempt + 1} failed: ${x.fatal})`);
            if (h.exitInfo()) log(`  (${target.name} server exited ${JSON.stringify(h.exitInfo())}; log tail:\n${h.logTail(10)})`);
            break;
          }
          if (other <= opt.noiseLimit) break;
          log(`  (${target.name} ${workload}/${window}: ${other}% of a core used by other processes, re-running)`);
        }
        if (attempts.length > 1) r.attempts = attempts;
        res.cases.push(r);
        const l = r.latencyUs;
        log(
          `  [${target.name}] ${WORKLOAD_LABEL[workload]}, window ${window}: ${r.opsPerSec ?? "-"} ops/s, p50/p99/p999 ${l?.p50}/${l?.p99}/${l?.p999} µs` +
            `${r.errors ? `, ${r.errors} errors` : ""}${r.fatal ? `, FAILED: ${r.fatal}` : ""}` +
            (r.cpu ? `, cpu server ${r.cpu.server}% gen ${r.cpu.generator}% other ${r.cpu.other}%` : ""),
        );
      }
    }
  } finally {
    res.exitedDuringLoad = h.exitInfo();
    if (res.exitedDuringLoad) {
      res.exitLogTail = h.logTail(30);
      log(`  [${target.name}] server exited during the load phase; log tail:\n${res.exitLogTail}`);
    }
    await h.stop();
    cleanup(dirs);
  }
}

async function rssPhase(target, res) {
  await quiet(`${target.name} rss`, []);
  const { h, dirs, port } = await boot(target, "rss");
  try {
    await sleep(1000);
    const idle = memory(h.pid);
    const c = await MiniClient.connect(port);
    await ensureNode(c, "/ezkrss");
    const buckets = Math.ceil(opt.rssNodes / 1000);
    const made = await c.pipeline(Array.from({ length: buckets }, (_, k) => [Op.create, body.create(`/ezkrss/b${k}`, null)]));
    const bad = made.filter((r) => r.err !== 0 && r.err !== -110).length;
    await c.close();
    if (bad > 0) throw new Error(`${bad} bucket creates failed`);
    log(`  [${target.name}] loading ${opt.rssNodes} znodes of 100 B (${buckets} parents x 1000, window 64 x ${opt.conns} conns)`);
    const r = await runLoad({ port, conns: opt.conns, workers: opt.workers, serverPid: h.pid, workload: "populate", window: 64, populateCount: opt.rssNodes, timeoutMs: 600000 });
    if (r.fatal) throw new Error(`load failed: ${r.fatal}`);
    // spot check: the last node exists
    const v = await MiniClient.connect(port);
    const last = opt.rssNodes - 1;
    const chk = await v.request(Op.exists, body.exists(`/ezkrss/b${Math.floor(last / 1000)}/n${last % 1000}`));
    await v.close();
    await sleep(opt.rssSettleMs);
    const m = memory(h.pid);
    res.rss = {
      znodes: opt.rssNodes,
      created: r.ops - r.errors,
      createErrors: r.errors,
      errorCodes: r.errorCodes,
      lastNodeExists: chk.err === 0,
      loadOpsPerSec: r.opsPerSec,
      loadSeconds: r.seconds,
      loadLatencyUs: r.latencyUs,
      loadCpu: r.cpu,
      idleRssMiB: mib(idle?.rssKiB),
      rssMiB: mib(m?.rssKiB),
      peakRssMiB: mib(m?.hwmKiB),
      threads: m?.threads ?? null,
      settleMs: opt.rssSettleMs,
    };
    log(`  [${target.name}] RSS idle ${res.rss.idleRssMiB} MiB, after ${opt.rssNodes} znodes ${res.rss.rssMiB} MiB (peak ${res.rss.peakRssMiB}), load ${r.opsPerSec} creates/s, ${r.errors} errors`);
  } finally {
    await h.stop();
    cleanup(dirs);
  }
}

/** Time from spawn to the first answered request; fresh empty data dir, then a restart on it. */
async function coldPhase(target, res) {
  const fresh = [];
  const restart = [];
  const foreignAtStart = [];
  for (let i = 0; i < opt.coldRuns; i++) {
    const dirs = freshDirs(`${target.name}-cold`);
    const port = await freePort();
    for (const [kind, arr] of [["fresh", fresh], ["restart", restart]]) {
      const q = await quiet(`${target.name} cold ${kind}`, []);
      foreignAtStart.push(q?.busyPct ?? null);
      const t0 = performance.now();
      const h = startServer(target, { port, ...dirs });
      try {
        const t1 = await waitServed(h, { timeoutMs: 60000, pollMs: 2 });
        arr.push(Math.round((t1 - t0) * 10) / 10);
      } finally {
        await h.stop();
      }
      void kind;
    }
    cleanup(dirs);
  }
  const median = (xs) => {
    const s = [...xs].sort((x, y) => x - y);
    const n = s.length;
    return n === 0 ? null : n % 2 ? s[(n - 1) / 2] : ((s[n / 2 - 1] ?? 0) + (s[n / 2] ?? 0)) / 2;
  };
  res.coldStart = {
    runs: opt.coldRuns,
    freshMs: { median: median(fresh), min: Math.min(...fresh), max: Math.max(...fresh), all: fresh },
    restartMs: { median: median(restart), min: Math.min(...restart), max: Math.max(...restart), all: restart },
    foreignCpuBeforeEachStart: foreignAtStart,
  };
  log(`  [${target.name}] cold start median ${res.coldStart.freshMs.median} ms (empty dir), ${res.coldStart.restartMs.median} ms (restart) over ${opt.coldRuns} runs`);
}

// ---------------------------------------------------------------------------------------------
// environment facts

/** stdout + stderr of a command (java -version writes to stderr), or null. */
function sh(cmd, args) {
  const r = spawnSync(cmd, args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], timeout: 15000 });
  const text = `${r.stdout ?? ""}${r.stderr ?? ""}`.trim();
  return r.error || text.length === 0 ? null : text;
}

/** Effective flags of the running JVM (jcmd), i.e. what zkServer.sh's defaults amount to. */
function jvmInfo(pid) {
  const flags = sh("jcmd", [String(pid), "VM.flags"]);
  const line = flags?.split("\n").find((l) => l.includes("-XX:")) ?? null;
  const pick = (name) => (line ? (new RegExp(`-XX:${name}=(\\d+)`).exec(line)?.[1] ?? null) : null);
  const gc = line ? (/-XX:\+Use(\w+GC)/.exec(line)?.[1] ?? null) : null;
  const bytesMiB = (x) => (x == null ? null : Math.round(Number(x) / 1048576));
  return {
    vmFlags: line,
    gc,
    initialHeapMiB: bytesMiB(pick("InitialHeapSize")),
    maxHeapMiB: bytesMiB(pick("MaxHeapSize")),
  };
}

function environment() {
  const cpu = os.cpus();
  let kernel = null;
  try {
    kernel = readFileSync("/proc/sys/kernel/osrelease", "utf8").trim();
  } catch {}
  return {
    date: new Date().toISOString(),
    host: { cpus: cpu.length, model: cpu[0]?.model ?? null, memTotalMiB: Math.round(os.totalmem() / 1048576), kernel, tmpdir: os.tmpdir() },
    node: process.version,
    java: sh("java", ["-version"])?.split("\n")[1] ?? null,
    zookeeperPackage: sh("dpkg-query", ["-W", "-f", "${Version}", "zookeeper"]),
  };
}

// ---------------------------------------------------------------------------------------------
// report

const fmtN = (x) => (x == null ? "–" : Math.round(x).toLocaleString("en-US"));
const fmtUs = (x) => (x == null ? "–" : x >= 10000 ? `${(x / 1000).toFixed(1)} ms` : `${Math.round(x)}`);
const ratio = (x, y) => (x == null || y == null || y === 0 ? null : Math.round((x / y) * 100) / 100);
const fmtR = (r) => (r == null ? "–" : `${r.toFixed(2)}x`);

function caseOf(res, workload, window) {
  return res?.cases?.find((c) => c.workload === workload && c.window === window) ?? null;
}

function markdown(out) {
  const names = out.options.targets;
  const T = out.targets;
  const hasCmp = T.ezk?.available && T.zookeeper?.available && T.ezk.cases && T.zookeeper.cases;
  const L = [];
  L.push(`# ezk vs ZooKeeper benchmark — ${out.env.date}`);
  L.push("");
  L.push(
    `Machine: ${out.env.host.cpus} × ${out.env.host.model}, ${out.env.host.memTotalMiB} MiB RAM, Linux ${out.env.host.kernel}; Node ${out.env.node}; ${out.env.java}; zookeeper package ${out.env.zookeeperPackage}.`,
  );
  L.push(
    `Load: ${out.options.conns} connections (sessions), ${out.options.workers} generator worker thread(s), ${out.options.warmupMs / 1000} s warm-up + ${out.options.durationMs / 1000} s measured per case, ` +
      `server warm-up ${out.options.serverWarmupMs / 1000} s. Latency = send→reply per request, µs. create+delete counts each request as one op (a pair = 2 ops).`,
  );
  L.push("");
  for (const n of names) {
    const r = T[n];
    if (!r.available) L.push(`- **${n}**: not run — ${r.reason}`);
    else if (r.error) {
      const lines = r.error.split("\n").filter((x) => x.trim() && !/^\s+at /.test(x));
      L.push(`- **${n}**: FAILED — ${lines.join(" / ").slice(0, 500)}`);
    }
  }
  L.push("");
  const live = names.filter((n) => T[n].cases);
  if (live.length > 0) {
    L.push("## Throughput and latency");
    L.push("");
    const head = ["Case", "Win"];
    for (const n of live) head.push(`${n} ops/s`, `${n} p50 / p99 / p999 µs`);
    if (hasCmp) head.push("ezk/zk ops/s", "ezk/zk p99");
    L.push(`| ${head.join(" | ")} |`);
    L.push(`|${head.map((_, i) => (i < 2 ? " --- " : " ---: ")).join("|")}|`);
    for (const w of out.options.workloads) {
      for (const win of out.options.windows) {
        const row = [WORKLOAD_LABEL[w], String(win)];
        for (const n of live) {
          const c = caseOf(T[n], w, win);
          if (!c || c.fatal) {
            row.push("FAILED", c?.fatal ? c.fatal.slice(0, 60) : "–");
            continue;
          }
          const l = c.latencyUs;
          row.push(`${fmtN(c.opsPerSec)}${c.errors ? ` (${c.errors} err)` : ""}`, `${fmtUs(l.p50)} / ${fmtUs(l.p99)} / ${fmtUs(l.p999)}`);
        }
        if (hasCmp) {
          const e = caseOf(T.ezk, w, win);
          const z = caseOf(T.zookeeper, w, win);
          row.push(fmtR(ratio(e?.opsPerSec, z?.opsPerSec)), fmtR(ratio(e?.latencyUs?.p99, z?.latencyUs?.p99)));
        }
        L.push(`| ${row.join(" | ")} |`);
      }
    }
    L.push("");
    L.push(
      `CPU during the measured interval, % of one core (the machine has ${out.env.host.cpus}). gen = the load-generator process; ` +
        "other = CPU of all other processes (other users of a shared machine; a case is re-run when > 25).",
    );
    L.push("");
    const ch = ["Case", "Win", ...live.map((n) => `${n} server / gen / other`)];
    L.push(`| ${ch.join(" | ")} |`);
    L.push(`|${ch.map((_, i) => (i < 2 ? " --- " : " ---: ")).join("|")}|`);
    for (const w of out.options.workloads) {
      for (const win of out.options.windows) {
        const row = [WORKLOAD_LABEL[w], String(win)];
        for (const n of live) {
          const c = caseOf(T[n], w, win)?.cpu;
          row.push(c ? `${c.server ?? "–"} / ${c.generator} / ${c.other}` : "–");
        }
        L.push(`| ${row.join(" | ")} |`);
      }
    }
    L.push("");
  }
  const withRss = names.filter((n) => T[n].rss || T[n].coldStart);
  if (withRss.length > 0) {
    L.push("## Memory and start-up");
    L.push("");
    const head = ["Metric", ...withRss];
    if (hasCmp || (T.ezk?.rss && T.zookeeper?.rss)) head.push("ezk/zk");
    L.push(`| ${head.join(" | ")} |`);
    L.push(`|${head.map((_, i) => (i < 1 ? " --- " : " ---: ")).join("|")}|`);
    const both = T.ezk && T.zookeeper && head.includes("ezk/zk");
    const row = (label, get, unit) => {
      const cells = withRss.map((n) => {
        const v = get(T[n]);
        return v == null ? "–" : `${typeof v === "number" ? Math.round(v * 10) / 10 : v}${unit}`;
      });
      if (both) cells.push(fmtR(ratio(get(T.ezk), get(T.zookeeper))));
      L.push(`| ${label} | ${cells.join(" | ")} |`);
    };
    const nodes = out.options.rssNodes.toLocaleString("en-US");
    row(`RSS after ${nodes} znodes × 100 B (MiB)`, (r) => r.rss?.rssMiB, "");
    row("RSS idle, 1 s after start (MiB)", (r) => r.rss?.idleRssMiB, "");
    row("peak RSS during load (MiB)", (r) => r.rss?.peakRssMiB, "");
    row(`load ${nodes} creates, window 64 (ops/s)`, (r) => r.rss?.loadOpsPerSec, "");
    row(`cold start, empty data dir, median of ${out.options.coldRuns} (ms)`, (r) => r.coldStart?.freshMs.median, "");
    row("restart on that dir, median (ms)", (r) => r.coldStart?.restartMs.median, "");
    L.push("");
  }
  const ezkHasData = T.ezk && (T.ezk.cases || T.ezk.rss || T.ezk.coldStart);
  if (ezkHasData && T.zookeeper?.available) {
    L.push("## Targets (issue item 12)");
    L.push("");
    L.push("| Target | Measured (ezk/zk) | Result |");
    L.push("| --- | ---: | --- |");
    const check = (label, r, ok) => L.push(`| ${label} | ${fmtR(r)} | ${r == null ? "n/a" : ok(r) ? "pass" : "**miss**"} |`);
    for (const win of out.options.windows) {
      for (const w of ["set100", "set1k", "eph"].filter((x) => out.options.workloads.includes(x)))
        check(`write ops/s ≥ 1.5x — ${WORKLOAD_LABEL[w]}, window ${win}`, ratio(caseOf(T.ezk, w, win)?.opsPerSec, caseOf(T.zookeeper, w, win)?.opsPerSec), (r) => r >= 1.5);
      for (const w of ["get"].filter((x) => out.options.workloads.includes(x)))
        check(`read ops/s ≥ 2.0x — ${WORKLOAD_LABEL[w]}, window ${win}`, ratio(caseOf(T.ezk, w, win)?.opsPerSec, caseOf(T.zookeeper, w, win)?.opsPerSec), (r) => r >= 2.0);
    }
    for (const w of out.options.workloads)
      for (const win of out.options.windows)
        check(`p99 ≤ 1.0x — ${WORKLOAD_LABEL[w]}, window ${win}`, ratio(caseOf(T.ezk, w, win)?.latencyUs?.p99, caseOf(T.zookeeper, w, win)?.latencyUs?.p99), (r) => r <= 1.0);
    check(`RSS with ${out.options.rssNodes.toLocaleString("en-US")} znodes ≤ 0.6x`, ratio(T.ezk.rss?.rssMiB, T.zookeeper.rss?.rssMiB), (r) => r <= 0.6);
    check("cold start ≤ 0.3x", ratio(T.ezk.coldStart?.freshMs.median, T.zookeeper.coldStart?.freshMs.median), (r) => r <= 0.3);
    L.push("");
  }
  L.push("## Server command lines");
  L.push("");
  for (const n of names) {
    const r = T[n];
    const cmd = r.serverCmdline ?? r.command;
    if (!r.available || !cmd) continue;
    L.push(`- **${n}**: \`${cmd.join(" ")}\``);
    if (r.jvm) L.push(`  - JVM (jcmd VM.flags): GC ${r.jvm.gc}, initial heap ${r.jvm.initialHeapMiB} MiB, max heap ${r.jvm.maxHeapMiB} MiB — \`${r.jvm.vmFlags}\``);
  }
  L.push("");
  return L.join("\n");
}

// ---------------------------------------------------------------------------------------------
// main

if (a.report) {
  rmSync(tmpRoot, { recursive: true, force: true });
  process.stdout.write(`${markdown(JSON.parse(readFileSync(a.report, "utf8")))}\n`);
  process.exit(0);
}

const out = {
  env: environment(),
  options: {
    targets: opt.targets,
    phases: [...opt.phases],
    workloads: opt.workloads,
    windows: opt.windows,
    conns: opt.conns,
    workers: opt.workers,
    warmupMs: opt.warmupMs,
    durationMs: opt.durationMs,
    serverWarmupMs: opt.serverWarmupMs,
    rssNodes: opt.rssNodes,
    rssSettleMs: opt.rssSettleMs,
    coldRuns: opt.coldRuns,
    waitIdleMs: opt.waitIdleMs,
    retries: opt.retries,
    zkJvmFlags: opt.zkJvmFlags,
    argv: process.argv.slice(2),
  },
  targets: /** @type {Record<string, any>} */ ({}),
};

log(`bench: targets ${opt.targets.join(", ")}; temp dir ${tmpRoot}`);
for (const name of opt.targets) {
  const target = targets[name];
  const av = target.available();
  const res = { label: target.label, available: av.ok, reason: av.reason ?? null, error: null };
  out.targets[name] = res;
  if (!av.ok) {
    log(`- ${name}: skipped (${av.reason})`);
    continue;
  }
  log(`- ${name}: ${target.label}`);
  const phases = [
    ["load", loadPhase],
    ["rss", rssPhase],
    ["cold", coldPhase],
  ];
  for (const [ph, fn] of phases) {
    if (!opt.phases.has(ph)) continue;
    try {
      await fn(target, res);
    } catch (e) {
      const msg = e instanceof Error ? e.message : String(e);
      res.error = res.error ? `${res.error}\n[${ph}] ${msg}` : `[${ph}] ${msg}`;
      log(`  [${name}] ${ph} phase FAILED: ${msg}`);
      // a server that cannot start would fail every later phase the same way, slowly
      const info = /** @type {any} */ (e);
      if (info?.command && !res.command) res.command = info.command;
      if (info?.bootFailure) break;
    }
  }
}
await stopAll();
if (!a.keep) rmSync(tmpRoot, { recursive: true, force: true });

const md = markdown(out);
process.stdout.write(`${md}\n`);
if (!a["no-write"]) {
  mkdirSync(a.out, { recursive: true });
  const stamp = out.env.date.replace(/[:.]/g, "-");
  const json = `${JSON.stringify(out, null, 2)}\n`;
  writeFileSync(path.join(a.out, `${stamp}.json`), json);
  writeFileSync(path.join(a.out, "latest.json"), json);
  writeFileSync(path.join(a.out, "latest.md"), `${md}\n`);
  log(`results: ${path.relative(process.cwd(), path.join(a.out, "latest.md"))}, latest.json, ${stamp}.json`);
}
