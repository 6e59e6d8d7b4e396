#!/usr/bin/env node
// Client comparison (issue 8 item 5): ezk's Effect client (one Effect per request, all at once or
// at most 256 at a time, and `zk.batch`), its Promise facade, node-zookeeper-client and npm's
// `zookeeper` (the binding of ZooKeeper's C client) against the same ezk server in one run. Each client runs in its own child process
// (clean CPU and memory figures) on one session and issues pipelined getData / setData:
// `--outstanding` requests in flight at once, `--rounds` times. Reported per client and op:
// ops/s, latency percentiles of single requests under that load (for a batch: until the caller
// has the results, i.e. the whole batch), client CPU ms per 10,000 requests, and RSS and heap
// growth per 10,000 outstanding requests. `--runs` repeats everything (clients in the same order
// each run); the report gives the median of each figure and each run's ratios to
// node-zookeeper-client, since only ratios within one run are comparable on a shared machine.
// `effect-floor` (not in the default list) runs the per-request Effect harness on a request-free
// Effect: the Effect runtime's own ceiling for a fiber per request.
//
//   npm run build && node bench/clients.mjs [--outstanding 10000] [--rounds 5] [--runs 3]
//     [--clients effect,effect-c256,effect-batch,promise,nzk,c-binding] [--out bench/results/clients-latest.md]
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
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
    runs: { type: "string", default: "3" },
    clients: { type: "string", default: "effect,effect-c256,effect-batch,promise,nzk,c-binding" },
    out: { type: "string", default: path.join(here, "results/clients-latest.md") },
    child: { type: "string" },
    op: { type: "string" },
    connect: { type: "string" }
  }
});
const outstanding = Number(opts.outstanding);
const rounds = Number(opts.rounds);
const ops = ["getData", "setData"];
const op = opts.op;
const payload = Buffer.alloc(100, 1);

const percentile = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/**
 * Runs `rounds` rounds of `outstanding` requests of `op` (this child's) and returns the figures.
 * `round(op, n, record)` issues n requests at once, calls `record(ms)` per request when its
 * caller has the result, and resolves when all have; it is first used for a small warm-up.
 */
async function measure(round) {
  await round(op, 200, () => {});
  globalThis.gc?.();
  const before = process.memoryUsage();
  const cpuBefore = process.cpuUsage();
  const latencies = [];
  let rssPeak = before.rss;
  let heapPeak = before.heapUsed;
  // Sampled right after a round's requests are issued (before the first reply can be read) and every 5 ms.
  const sample = () => {
    const m = process.memoryUsage();
    rssPeak = Math.max(rssPeak, m.rss);
    heapPeak = Math.max(heapPeak, m.heapUsed);
  };
  const sampler = setInterval(sample, 5);
  const start = performance.now();
  for (let r = 0; r < rounds; r++) {
    const done = round(op, outstanding, (ms) => latencies.push(ms));
    sample();
    await done;
  }
  clearInterval(sampler);
  const seconds = (performance.now() - start) / 1000;
  const cpu = process.cpuUsage(cpuBefore);
  if (latencies.length !== outstanding * rounds) throw new Error(`${op}: ${latencies.length} replies, expected ${outstanding * rounds}`);
  latencies.sort((a, b) => a - b);
  const perTenKOutstanding = (bytes) => +((bytes / 2 ** 20) * (10000 / outstanding)).toFixed(1);
  return {
    opsPerSec: Math.round((outstanding * rounds) / seconds),
    p50ms: +percentile(latencies, 50).toFixed(1),
    p99ms: +percentile(latencies, 99).toFixed(1),
    cpuMsPer10k: Math.round(((cpu.user + cpu.system) / 1000) * (10000 / (outstanding * rounds))),
    rssMiBPer10kOutstanding: perTenKOutstanding(rssPeak - before.rss),
    heapMiBPer10kOutstanding: perTenKOutstanding(heapPeak - before.heapUsed)
  };
}

/** A round of `n` promise-returning calls, each timed from its own start. */
const promiseRound = (call) => (op, n, record) => {
  const all = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    all.push(call(op).then(() => record(performance.now() - t0)));
  }
  return Promise.all(all);
};

/** Each client: connect, then `measure`, then close. Runs in the child process. */
const clients = {
  async effect(connectString) {
    return withEffectClient(connectString, "/bench-effect", ({ Effect }, zk) =>
      effectPerRequest(Effect, (op) => (op === "getData" ? zk.getData("/bench-effect") : zk.setData("/bench-effect", payload))));
  },
  async "effect-c256"(connectString) {
    return withEffectClient(connectString, "/bench-effect", ({ Effect }, zk) =>
      effectPerRequest(Effect, (op) => (op === "getData" ? zk.getData("/bench-effect") : zk.setData("/bench-effect", payload)), 256));
  },
  async "effect-floor"(connectString) {
    return withEffectClient(connectString, "/bench-effect", ({ Effect }) => {
      // Each "request" is resumed from one setImmediate per burst, as replies are from one socket read.
      let due = [];
      const answer = () => {
        const now = due;
        due = [];
        for (const resume of now) resume(Effect.void);
      };
      const noop = Effect.async((resume) => {
        if (due.push(resume) === 1) setImmediate(answer);
      });
      return effectPerRequest(Effect, () => noop);
    });
  },
  async "effect-batch"(connectString) {
    return withEffectClient(connectString, "/bench-batch", ({ Effect, Either }, zk, { Batch }) =>
      measure(async (op, n, record) => {
        const one = op === "getData" ? Batch.getData("/bench-batch") : Batch.setData("/bench-batch", payload);
        const t0 = performance.now();
        const results = await Effect.runPromise(zk.batch(Array.from({ length: n }, () => one)));
        const ms = performance.now() - t0;
        for (const result of results) {
          if (Either.isLeft(result)) throw result.left;
          record(ms);
        }
      }));
  },
  async promise(connectString) {
    const { connect } = await import(path.join(repo, "dist/client/promise/index.js"));
    const zk = await connect({ connectString });
    await zk.create("/bench-promise", payload).catch(() => {});
    const result = await measure(promiseRound((op) => (op === "getData" ? zk.getData("/bench-promise") : zk.setData("/bench-promise", payload))));
    await zk.close();
    return result;
  },
  async nzk(connectString) {
    const { default: zookeeper } = await import("node-zookeeper-client");
    const zk = zookeeper.createClient(connectString);
    await new Promise((resolve) => {
      zk.once("connected", resolve);
      zk.connect();
    });
    await new Promise((resolve) => zk.create("/bench-nzk", payload, () => resolve()));
    const call = (op) =>
      new Promise((resolve, reject) => {
        const done = (err) => (err ? reject(err) : resolve());
        if (op === "getData") zk.getData("/bench-nzk", done);
        else zk.setData("/bench-nzk", payload, -1, done);
      });
    const result = await measure(promiseRound(call));
    zk.close();
    return result;
  },
  async "c-binding"(connectString) {
    // npm's `zookeeper`: ZooKeeper's own C client (single-threaded, on libuv) behind a Node addon.
    const { default: ZooKeeper } = await import("zookeeper");
    const zk = new ZooKeeper({ connect: connectString, timeout: 10000, debug_level: ZooKeeper.constants.ZOO_LOG_LEVEL_ERROR });
    await new Promise((resolve) => {
      zk.once("connect", resolve);
      zk.init({});
    });
    await new Promise((resolve) => zk.a_create("/bench-c", payload, 0, () => resolve()));
    const call = (op) =>
      new Promise((resolve, reject) => {
        const done = (rc, error) => (rc === 0 ? resolve() : reject(new Error(`rc ${rc}: ${error}`)));
        if (op === "getData") zk.a_get("/bench-c", false, done);
        else zk.a_set("/bench-c", payload, -1, done);
      });
    const result = await measure(promiseRound(call));
    await zk.close();
    return result;
  }
};

async function withEffectClient(connectString, node, body) {
  const effect = await import("effect");
  const { Effect, Exit, Scope } = effect;
  const client = await import(path.join(repo, "dist/client/index.js"));
  const scope = Effect.runSync(Scope.make());
  const zk = await Effect.runPromise(Scope.extend(client.ZooKeeper.make({ connectString }), scope));
  await Effect.runPromise(Effect.ignore(zk.create(node, payload)));
  const result = await body(effect, zk, client);
  await Effect.runPromise(Scope.close(scope, Exit.void));
  return result;
}

/** The Effect client's own way to pipeline single calls: one Effect.all, by default with unbounded concurrency. */
const effectPerRequest = (Effect, one, concurrency = "unbounded") =>
  measure((op, n, record) =>
    Effect.runPromise(
      Effect.all(
        Array.from({ length: n }, () => {
          const t0 = performance.now();
          return Effect.map(one(op), () => record(performance.now() - t0));
        }),
        { concurrency, discard: true }
      )
    ));

if (opts.child) {
  const run = clients[opts.child];
  if (run === undefined) throw new Error(`unknown client ${opts.child}`);
  const result = await run(opts.connect).catch((e) => ({ error: String(e?.stack ?? e).split("\n").slice(0, 3).join(" ") }));
  process.stdout.write(`RESULT ${JSON.stringify(result)}\n`);
  process.exit(0);
}

// Parent: start ezk, run each client in a child process, `runs` times; print and write the report.
const kinds = opts.clients.split(",");
const runs = Number(opts.runs);
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

/** One client and op in a fresh process, so that its CPU and memory figures are its own. */
async function runClient(kind, op) {
  const args = ["--expose-gc", fileURLToPath(import.meta.url), "--child", kind, "--op", op, "--connect", connectString,
    "--outstanding", String(outstanding), "--rounds", String(rounds)];
  const child = spawn(process.execPath, args, { stdio: ["ignore", "pipe", "inherit"] });
  let out = "";
  child.stdout.on("data", (d) => (out += d));
  const code = await new Promise((resolve) => child.on("exit", resolve));
  const line = out.split("\n").find((l) => l.startsWith("RESULT "));
  return line ? JSON.parse(line.slice(7)) : { error: `no result (exit code ${code}; its stderr is above) ${out}` };
}

const started = new Date();
const loadBefore = os.loadavg()[0];
const all = []; // all[run][kind] = { getData: {...}, setData: {...} } or { error }
try {
  for (let r = 0; r < runs; r++) {
    const run = {};
    for (const kind of kinds) {
      const res = {};
      for (const op of ops) {
        const one = await runClient(kind, op);
        if (one.error !== undefined) res.error = one.error;
        else res[op] = one;
      }
      run[kind] = res;
      console.error(`run ${r + 1}/${runs} ${kind}: ${res.error ?? ops.map((op) => `${op} ${res[op].opsPerSec} ops/s`).join(", ")}`);
    }
    all.push(run);
  }
} finally {
  server.kill("SIGTERM");
  rmSync(dataDir, { recursive: true, force: true });
}

const fields = ["opsPerSec", "p50ms", "p99ms", "cpuMsPer10k", "rssMiBPer10kOutstanding", "heapMiBPer10kOutstanding"];
const ok = (kind) => all.filter((run) => run[kind]?.error === undefined).map((run) => run[kind]);
const rows = [];
for (const kind of kinds) {
  const good = ok(kind);
  if (good.length === 0) {
    rows.push(`| ${kind} | — | not run: ${all[0][kind].error.replace(/\s+/g, " ").replaceAll("|", "\\|")} ||||||||`);
    continue;
  }
  for (const op of ops) {
    const med = fields.map((f) => median(good.map((g) => g[op][f])));
    const ratios = (base) =>
      all.map((run) => (run[kind][op] !== undefined && run[base]?.[op] !== undefined ? (run[kind][op].opsPerSec / run[base][op].opsPerSec).toFixed(2) : "—"));
    rows.push(`| ${kind} | ${op} | ${med.join(" | ")} | ${ratios("nzk").join(" / ")} | ${ratios("c-binding").join(" / ")} |`);
  }
}
const command = `node bench/clients.mjs --outstanding ${outstanding} --rounds ${rounds} --runs ${runs} --clients ${kinds.join(",")}`;
const report = `# Client throughput against one ezk server

\`${command}\` (after \`npm run build\`), ${started.toISOString().slice(0, 16)} UTC, ${os.cpus().length} cores, load average ${loadBefore.toFixed(1)} at the start
(${os.loadavg()[0].toFixed(1)} at the end). One session per client, each client in its own process; ${outstanding} requests
in flight at once (getData / setData of a 100-byte node), ${rounds} rounds, ${runs} runs. Figures are medians over the runs;
the last two columns are ops/s divided by node-zookeeper-client's and by the C binding's in the same run, for each run.

| client | op | ops/s | p50 ms | p99 ms | CPU ms / 10k req | RSS MiB / 10k outstanding | heap MiB / 10k outstanding | × nzk (per run) | × c-binding (per run) |
| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- |
${rows.join("\n")}

- \`effect\`: \`Effect.all(n × zk.getData(...), { concurrency: "unbounded" })\`, a fiber per request.
- \`effect-c256\`: the same with \`{ concurrency: 256 }\`: each round still issues n requests, at most 256 in
  flight (so its memory columns are for 256 outstanding, not n).
- \`effect-floor\` (when listed): the \`effect\` harness on a no-op \`Effect.async\` resumed in bursts from
  \`setImmediate\`, as replies are from one socket read; no request is sent. The Effect runtime's own cost
  of a fiber per request, with no client in it.
- \`effect-batch\`: \`zk.batch(n × Batch.getData(...))\`, one fiber per batch; a request's latency is the whole
  batch's (the caller gets all results at once).
- \`promise\`: \`ezk/promise\`, n calls and \`Promise.all\`. \`nzk\`: node-zookeeper-client 1.1.3, callbacks in Promises.
- \`c-binding\`: npm \`zookeeper\` 7.3.0 (ZooKeeper's C client, built by node-gyp), \`a_get\` / \`a_set\` in Promises.
  Built as the package builds itself: the C client with \`CFLAGS=-w\` (no \`-O2\`), the addon with \`-O0\`.
- Each client and op runs in a fresh process. RSS and heap: the peak (sampled when a round's requests are
  issued and every 5 ms) minus the figure before the first round.
`;
console.log(report);
writeFileSync(opts.out, report);
console.error(`written to ${path.relative(process.cwd(), opts.out)}`);
