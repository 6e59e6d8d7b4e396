// Dev probe (not part of the benchmark): one load case against an already running server, then
// prints its mntr batching figures.   node bench/probe-w1.mjs <port> [workload] [window] [seconds]
import { runLoad } from "./lib/loadgen.mjs";
import { ensureNode, MiniClient, valueOfSize } from "./lib/proto.mjs";
import { execFileSync } from "node:child_process";
const [port, workload = "set100", window = "1", secs = "4"] = process.argv.slice(2);
const c = await MiniClient.connect(Number(port));
await ensureNode(c, "/ezkbench", null);
await ensureNode(c, "/ezkbench/e", null);
for (let i = 0; i < 8; i++) await ensureNode(c, `/ezkbench/d${i}`, valueOfSize(100, 7));
c.sock?.destroy?.();
const r = await runLoad({ port: Number(port), workload, window: Number(window), conns: 8, warmupMs: 1000, durationMs: Number(secs) * 1000 });
console.log(JSON.stringify({ ops: Math.round(r.opsPerSec ?? r.ops ?? 0), p50: r.latency?.p50, p99: r.latency?.p99 }));
console.log(execFileSync(process.execPath, ["bin/ezk.cjs", "4lw", "mntr", "--server", `127.0.0.1:${port}`]).toString().split("\n").filter((l) => /fsynctime|sync_processor_queue/.test(l)).join("\n"));
