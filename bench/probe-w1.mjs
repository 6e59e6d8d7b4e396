// Dev probe (not part of the benchmark): window-1 setData 100 B on 3-node ensembles, the bench's
// setup (8 sessions over all peers, forceSync on), a few short rounds alternating the targets so
// that each round's ratio shares the machine's load.   npm run build first, then
//   node bench/probe-w1.mjs [--targets ezk,zookeeper[,base --base DIR]] [--rounds 3] [--secs 4] [--keep] [--prof]
// --prof starts ezk peers with --cpu-prof (profiles in <work dir>/prof<sid>; implies keeping it).
// EZK_HOPS=1 in the environment makes ezk peers log per-hop times (see src/server/HopTimes.ts).
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { makeCluster } from "./lib/cluster.mjs";
import { runLoad } from "./lib/loadgen.mjs";
import { cpuSeconds } from "./lib/procstat.mjs";
import { ensureNode, MiniClient, valueOfSize } from "./lib/proto.mjs";
import { REPO_DIR } from "./lib/targets.mjs";

const { values: a } = parseArgs({
  options: {
    targets: { type: "string", default: "ezk,zookeeper" },
    rounds: { type: "string", default: "3" },
    secs: { type: "string", default: "4" },
    window: { type: "string", default: "1" },
    keep: { type: "boolean", default: false },
    prof: { type: "boolean", default: false },
    base: { type: "string" },
  },
});
const root = mkdtempSync(path.join(os.tmpdir(), "probe-w1-"));
const clusters = [];
try {
  for (const name of a.targets.split(",")) {
    // "base": ezk built from another checkout (--base DIR), to compare two versions in one run.
    const kind = name === "base" ? "ezk" : name;
    const ezkMain = path.join(name === "base" ? a.base : REPO_DIR, "bin/ezk.cjs");
    const cl = await makeCluster({ kind, nodes: 3, root: path.join(root, name), timing: { tickTime: 2000, initLimit: 10, syncLimit: 5 }, ezkMain, nodeArgs: a.prof ? (sid) => ["--cpu-prof", `--cpu-prof-dir=${path.join(root, `prof${sid}`)}`] : undefined });
    await cl.startAll();
    let leader = null;
    for (let i = 0; i < 400 && leader === null; i++) leader = (await cl.leader()) ?? (await new Promise((r) => setTimeout(r, 50)), null);
    if (leader === null) throw new Error(`${kind}: no leader`);
    const c = await MiniClient.connect(leader.clientPort);
    await ensureNode(c, "/ezkbench");
    await ensureNode(c, "/ezkbench/e");
    for (let i = 0; i < 8; i++) await ensureNode(c, `/ezkbench/d${i}`, valueOfSize(100, i));
    await c.close();
    await new Promise((r) => setTimeout(r, 300));
    // Server warm-up (JIT), as the bench does.
    await runLoad({ port: cl.clientPorts()[0], ports: cl.clientPorts(), conns: 8, workload: "mixed", window: 64, warmupMs: 0, durationMs: 3000 });
    clusters.push({ kind: name, cl, leader });
  }
  for (let r = 0; r < Number(a.rounds); r++) {
    const line = [];
    // Each round starts with a different target: none always follows the same one.
    for (const { kind, cl } of [...clusters.slice(r % clusters.length), ...clusters.slice(0, r % clusters.length)]) {
      const cpu = () => cl.peers.reduce((sum, p) => sum + (cpuSeconds(p.handle.pid) ?? 0), 0);
      const cpuBefore = cpu();
      const res = await runLoad({ port: cl.clientPorts()[0], ports: cl.clientPorts(), conns: 8, workload: "set100", window: Number(a.window), warmupMs: 1000, durationMs: Number(a.secs) * 1000 });
      // CPU of the 3 peers over warm-up + measurement, per op of the measurement scaled to both.
      const cpuUsPerOp = ((cpu() - cpuBefore) * 1e6) / (res.opsPerSec * (1 + Number(a.secs)));
      line.push(`${kind} ${res.opsPerSec} ops/s p50 ${res.latencyUs.p50} p99 ${res.latencyUs.p99} µs err ${res.errors} cpu ${Math.round(cpuUsPerOp)} µs/op`);
    }
    console.log(`round ${r + 1} (load ${os.loadavg()[0].toFixed(2)}): ${line.sort().join(" | ")}`);
  }
} finally {
  await Promise.all(clusters.map(({ cl }) => cl.stopAll()));
  if (a.keep || a.prof) console.log(`kept ${root}`);
  else rmSync(root, { recursive: true, force: true });
}
