// Markdown for an ensemble benchmark results document (see bench/ensemble.mjs).

const fmt = (x) => (x === null || x === undefined ? "–" : typeof x === "number" ? x.toLocaleString("en-US") : String(x));
const ratio = (e, z) => (typeof e === "number" && typeof z === "number" && z > 0 ? Math.round((e / z) * 100) / 100 : null);

/** Each target: [label, value from a result, goal ratio, "higher" is better or "lower"]. */
const ROWS = [
  ["pipelined writes: setData 100 B, window 64 (ops/s)", (r) => r.load?.write64?.opsPerSec, 2.0, "higher"],
  ["reads: getData 100 B, window 64 (ops/s)", (r) => r.load?.read64?.opsPerSec, 3.0, "higher"],
  ["window-1 write p99: setData 100 B (µs)", (r) => r.load?.write1?.latencyUs?.p99, 1.0, "lower"],
  ["failover: kill -9 leader → next write, median (ms)", (r) => (r.failover?.stuck ? "stuck" : r.failover?.medianMs), 0.5, "lower"],
  ["wiped follower rejoins by SNAP → last znode readable (ms)", (r) => (r.snap?.stuck ? "stuck" : r.snap?.completeMs), 0.5, "lower"],
];

const INFO = [
  ["window-1 writes (ops/s)", (r) => r.load?.write1?.opsPerSec],
  ["window-1 write p50 (µs)", (r) => r.load?.write1?.latencyUs?.p50],
  ["pipelined write p50 / p99 (µs)", (r) => (r.load?.write64 ? `${fmt(r.load.write64.latencyUs.p50)} / ${fmt(r.load.write64.latencyUs.p99)}` : null)],
  ["load errors (write64 / read64 / write1)", (r) => (r.load ? ["write64", "read64", "write1"].map((k) => r.load[k]?.errors ?? "–").join(" / ") : null)],
  ["failover trials (ms)", (r) => r.failover?.trials.map((t) => t.ms ?? `stuck (${t.stuck})`).join(", ")],
  ["machine load average 1 min (write64 / read64 / write1)", (r) => (r.load ? ["write64", "read64", "write1"].map((k) => r.load[k]?.loadavg?.[0]?.toFixed(1) ?? "–").join(" / ") : null)],
  ["wiped follower: first request served (ms)", (r) => r.snap?.servedMs ?? r.snap?.stuck],
  ["SNAP rejoin CPU (ms): new follower / leader; load average 1 min at the end", (r) => (r.snap?.cpuMs ? `${fmt(r.snap.cpuMs.follower)} / ${fmt(r.snap.cpuMs.leader)}; ${r.snap.loadavg[0].toFixed(1)}` : null)],
  ["znodes at SNAP (budget hit?); create rate (ops/s)", (r) => (r.snap ? `${fmt(r.snap.znodes)}${r.snap.budgetHit ? " (yes)" : ""}; ${fmt(r.snap.populateOpsPerSec)}` : null)],
  ["ensemble start → all peers serving (ms)", (r) => r.formedMs],
];

export function renderEnsemble(doc) {
  const ezk = doc.results.find((r) => r.kind === "ezk") ?? {};
  const zk = doc.results.find((r) => r.kind === "zookeeper") ?? {};
  const o = doc.options;
  const out = [];
  out.push("# Ensemble benchmark: 3-node ezk vs 3-node Apache ZooKeeper 3.8", "");
  out.push(`Command: \`${doc.command}\`  `, `Run: ${doc.started} → ${doc.finished}  `);
  out.push(`Machine: ${doc.host.cpus} × ${doc.host.model}, ${doc.host.memGiB} GiB, Node ${doc.host.node}`, "");
  out.push(
    `${o.nodes} peers per ensemble on loopback, one ensemble at a time, each peer its own process and data dir; ` +
      `tickTime=${o.timing.tickTime}, initLimit=${o.timing.initLimit}, syncLimit=${o.timing.syncLimit}, forceSync=yes for both. ` +
      `Load: ${o.conns} sessions spread round-robin over all peers (leader and followers), ${o.warmupMs / 1000} s warm-up + ${o.durationMs / 1000} s measured per case.`,
    "",
  );
  for (const r of doc.results) {
    if (r.notRun) out.push(`**${r.kind} not run:** ${r.notRun}`, "");
    if (r.error) out.push(`**${r.kind} failed:** ${r.error}`, "");
  }
  out.push("| case | ezk | ZooKeeper | ezk/ZK | target | |", "| --- | ---: | ---: | ---: | ---: | --- |");
  for (const [label, get, goal, better] of ROWS) {
    const e = get(ezk);
    const z = get(zk);
    const q = ratio(e, z);
    const met = e === "stuck" ? "**miss**" : q === null ? "–" : (better === "higher" ? q >= goal : q <= goal) ? "met" : "**miss**";
    out.push(`| ${label} | ${fmt(e)} | ${fmt(z)} | ${q === null ? "–" : `${q}x`} | ${better === "higher" ? "≥" : "≤"} ${goal}x | ${met} |`);
  }
  out.push("", "| more | ezk | ZooKeeper |", "| --- | ---: | ---: |");
  for (const [label, get] of INFO) out.push(`| ${label} | ${fmt(get(ezk))} | ${fmt(get(zk))} |`);
  out.push(
    "",
    "Failover: background pipelined writers on the two followers, then `kill -9` of the leader; the time runs from the kill to the " +
      "first successful setData reply on any surviving peer (each probe attempt a new session; attempts overlap every 20 ms). The " +
      "killed peer is restarted and rejoins before the next trial, which kills the then-current leader.",
    "",
    "SNAP: the znodes are created through all peers (multi requests of 25 creates, window 64 × 8 sessions, in chunks of 50,000 until the count or the time budget is reached), a follower is killed, its data dir emptied except " +
      "myid, and restarted; the time runs from its spawn to the moment it answers `exists` of the last znode. " +
      "`snapshotSizeFactor=-1` in both configs makes ZooKeeper send SNAP rather than a txn-log DIFF (ezk always does).",
    "",
  );
  return `${out.join("\n")}\n`;
}
