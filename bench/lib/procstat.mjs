// /proc readers: CPU time of a process (all threads), RSS, and machine-wide CPU busy time.
import { readdirSync, readFileSync } from "node:fs";

export const CLK_TCK = 100; // getconf CLK_TCK on Linux x86-64

/** utime + stime of a process in seconds, or null if it is gone. */
export function cpuSeconds(pid) {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, "utf8");
    const f = s.slice(s.lastIndexOf(")") + 2).split(" ");
    // f[0] is field 3 (state); utime = field 14, stime = field 15
    return (Number(f[11]) + Number(f[12])) / CLK_TCK;
  } catch {
    return null;
  }
}

/** Jiffies over all CPUs from /proc/stat (guest time is already inside user). */
export function machineTicks() {
  const line = readFileSync("/proc/stat", "utf8").split("\n")[0] ?? "";
  const v = line.trim().split(/\s+/).slice(1, 9).map(Number);
  const [user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0] = v;
  const total = user + nice + system + idle + iowait + irq + softirq + steal;
  return { user: user + nice, system, softirq: irq + softirq, steal, idle: idle + iowait, busy: total - idle - iowait, total };
}

/** VmRSS / VmHWM in KiB from /proc/<pid>/status, or null. */
export function memory(pid) {
  try {
    const s = readFileSync(`/proc/${pid}/status`, "utf8");
    const get = (k) => {
      const m = new RegExp(`^${k}:\\s+(\\d+) kB`, "m").exec(s);
      return m ? Number(m[1]) : null;
    };
    return { rssKiB: get("VmRSS"), hwmKiB: get("VmHWM"), threads: Number(/^Threads:\s+(\d+)/m.exec(s)?.[1] ?? 0) };
  } catch {
    return null;
  }
}

export function exeOf(pid) {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").filter((x) => x.length > 0);
  } catch {
    return null;
  }
}

/**
 * CPU ticks of every other process: user-space processes keyed by pid (utime+stime plus
 * reaped children's cutime+cstime, so short-lived children count too) and the sum over
 * kernel threads (jbd2/kworker doing fsync and writeback work on the server's behalf).
 */
function othersTicks(exclude) {
  const user = new Map();
  let kernel = 0;
  for (const d of readdirSync("/proc")) {
    const pid = Number(d);
    if (!Number.isInteger(pid) || exclude.has(pid)) continue;
    let s;
    try {
      s = readFileSync(`/proc/${pid}/stat`, "utf8");
    } catch {
      continue;
    }
    const f = s.slice(s.lastIndexOf(")") + 2).split(" ");
    const ppid = Number(f[1]);
    const own = Number(f[11]) + Number(f[12]);
    if (pid === 2 || ppid === 2) kernel += own;
    else if (!exclude.has(ppid)) user.set(pid, own + Number(f[13]) + Number(f[14]));
  }
  return { user, kernel };
}

/** Snapshot for CPU accounting over an interval. */
export function cpuSnapshot(pids) {
  const exclude = new Set(Object.values(pids).filter((p) => p != null));
  return {
    t: performance.now(),
    procs: Object.fromEntries(Object.entries(pids).map(([k, pid]) => [k, pid == null ? null : cpuSeconds(pid)])),
    machine: machineTicks(),
    others: othersTicks(exclude),
  };
}

/** CPU use between two snapshots, in % of one core per process and % of the whole machine. */
export function cpuBetween(a, b) {
  const secs = (b.t - a.t) / 1000;
  const out = {};
  for (const k of Object.keys(a.procs)) {
    const x = a.procs[k];
    const y = b.procs[k];
    out[k] = x == null || y == null ? null : Math.round(((y - x) / secs) * 1000) / 10;
  }
  // machine-wide, in % of one core (so 2 cores fully busy = 200); softirq holds loopback TCP work
  const ncpu = Math.max(1, Math.round((b.machine.total - a.machine.total) / CLK_TCK / secs));
  const pct = (k) => Math.round(((b.machine[k] - a.machine[k]) / CLK_TCK / secs) * 1000) / 10;
  out.machine = { cores: ncpu, busy: pct("busy"), user: pct("user"), system: pct("system"), softirq: pct("softirq"), steal: pct("steal") };
  // user-space CPU of all other processes (other users of a shared machine) and kernel threads
  let foreign = 0;
  for (const [pid, t] of b.others.user) foreign += t - (a.others.user.get(pid) ?? 0);
  const perCore = (ticks) => Math.round((Math.max(0, ticks) / CLK_TCK / secs) * 1000) / 10;
  out.kernelThreads = perCore(b.others.kernel - a.others.kernel);
  // A reaped child adds its whole lifetime to the parent's cutime at once; bound the sum by
  // what the machine-wide counters leave unexplained.
  let own = out.kernelThreads;
  for (const k of Object.keys(a.procs)) own += out[k] ?? 0;
  out.other = Math.min(perCore(foreign), Math.max(0, Math.round((out.machine.busy - own) * 10) / 10));
  return out;
}

/**
 * Wait until the machine is quiet: whole-machine busy time (minus `ownPids`) below
 * `maxBusyPct` % of one core over a 500 ms window. Gives up after `maxWaitMs`.
 * Returns {waitedMs, busyPct} of the last window.
 */
export async function waitIdle({ maxBusyPct = 15, maxWaitMs = 60000, ownPids = [] } = {}) {
  const t0 = performance.now();
  for (;;) {
    const a = cpuSnapshot(Object.fromEntries(ownPids.map((p, i) => [`p${i}`, p])));
    await new Promise((r) => setTimeout(r, 500));
    const b = cpuSnapshot(Object.fromEntries(ownPids.map((p, i) => [`p${i}`, p])));
    const c = cpuBetween(a, b);
    const waitedMs = performance.now() - t0;
    if (c.other <= maxBusyPct || waitedMs >= maxWaitMs) return { waitedMs: Math.round(waitedMs), busyPct: c.other };
  }
}
