// How each benchmark target is started, probed and stopped.
import { spawn } from "node:child_process";
import { closeSync, existsSync, openSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { exeOf } from "./procstat.mjs";
import { body, MiniClient, Op } from "./proto.mjs";

const here = path.dirname(fileURLToPath(import.meta.url));
export const BENCH_DIR = path.resolve(here, "..");
export const REPO_DIR = path.resolve(BENCH_DIR, "..");

export const ZK_SERVER_SH = "/usr/share/zookeeper/bin/zkServer.sh";

// Environment variables zkServer.sh/zkEnv.sh read: cleared so every run gets the packaged
// defaults; --zk-jvmflags sets SERVER_JVMFLAGS explicitly when wanted.
export const ZK_ENV_KEYS = ["JVMFLAGS", "SERVER_JVMFLAGS", "CLIENT_JVMFLAGS", "JMXDISABLE", "JMXPORT", "JMXLOCALONLY", "ZOO_LOG_DIR", "ZOOCFGDIR", "ZOOPIDFILE", "ZOO_LOG4J_PROP", "JAVA_HOME"];

/**
 * @typedef {{ port: number, dataDir: string, workDir: string }} StartOpts
 * @typedef {{ ok: boolean, reason?: string }} Availability
 * @typedef {{ name: string, label: string, available: () => Availability, command: (o: StartOpts) => { cmd: string, args: string[], env: NodeJS.ProcessEnv, cwd: string } }} Target
 */

/** @param {{ ezkMain: string, zkJvmFlags: string | null }} opts @returns {Record<string, Target>} */
export function makeTargets(opts) {
  return {
    zookeeper: {
      name: "zookeeper",
      label: "ZooKeeper 3.8 (Debian, standalone)",
      available: () =>
        existsSync(ZK_SERVER_SH) && existsSync("/usr/bin/java")
          ? { ok: true }
          : { ok: false, reason: `${ZK_SERVER_SH} or /usr/bin/java not installed (apt-get install zookeeper)` },
      command: ({ port, dataDir, workDir }) => {
        const cfg = path.join(workDir, "zoo.cfg");
        // forceSync is left at its default (yes); the other keys are the brief's settings.
        writeFileSync(
          cfg,
          [
            "tickTime=2000",
            `dataDir=${dataDir}`,
            `clientPort=${port}`,
            "clientPortAddress=127.0.0.1",
            "maxClientCnxns=0",
            "4lw.commands.whitelist=*",
            "admin.enableServer=false",
            "",
          ].join("\n"),
        );
        const env = { ...process.env };
        for (const k of ZK_ENV_KEYS) delete env[k];
        if (opts.zkJvmFlags) env.SERVER_JVMFLAGS = opts.zkJvmFlags;
        // start-foreground execs java, so the child pid is the JVM's pid.
        return { cmd: ZK_SERVER_SH, args: ["start-foreground", cfg], env, cwd: workDir };
      },
    },
    ezk: {
      name: "ezk",
      label: "ezk",
      available: () =>
        existsSync(opts.ezkMain)
          ? { ok: true }
          : { ok: false, reason: `${path.relative(REPO_DIR, opts.ezkMain)} does not exist (run npm run build)` },
      command: ({ port, dataDir, workDir }) => ({
        cmd: process.execPath,
        args: [opts.ezkMain, "server", "--port", String(port), "--data-dir", dataDir],
        env: { ...process.env },
        cwd: workDir,
      }),
    },
    bare: {
      name: "bare",
      label: "bare Node.js (in memory, no fsync)",
      available: () => ({ ok: true }),
      command: ({ port, workDir }) => ({
        cmd: process.execPath,
        args: [path.join(BENCH_DIR, "bare-server.mjs"), "--port", String(port)],
        env: { ...process.env },
        cwd: workDir,
      }),
    },
  };
}

/** Every server process this run started, so a signal can stop them all. */
export const running = new Set();

/**
 * Spawn a target. Output goes to <workDir>/server.log.
 * @param {Target} target
 * @param {StartOpts} o
 */
export function startServer(target, o) {
  const c = target.command(o);
  const logPath = path.join(o.workDir, "server.log");
  const fd = openSync(logPath, "a");
  const proc = spawn(c.cmd, c.args, { cwd: c.cwd, env: c.env, stdio: ["ignore", fd, fd] });
  closeSync(fd);
  let exitInfo = null;
  const exited = new Promise((resolve) => {
    proc.on("exit", (code, signal) => {
      exitInfo = { code, signal };
      running.delete(handle);
      resolve(exitInfo);
    });
    proc.on("error", (e) => {
      exitInfo = { code: null, signal: null, error: e.message };
      running.delete(handle);
      resolve(exitInfo);
    });
  });
  const handle = {
    target: target.name,
    pid: proc.pid ?? -1,
    port: o.port,
    command: [c.cmd, ...c.args],
    logPath,
    exited,
    exitInfo: () => exitInfo,
    logTail: (n = 15) => {
      try {
        return readFileSync(logPath, "utf8").trimEnd().split("\n").slice(-n).join("\n");
      } catch {
        return "";
      }
    },
    /** The real server command line from /proc (for ZooKeeper: the java process). */
    cmdline: () => exeOf(proc.pid ?? -1),
    stop: async (timeoutMs = 10000) => {
      if (exitInfo) return exitInfo;
      proc.kill("SIGTERM");
      const t = setTimeout(() => proc.kill("SIGKILL"), timeoutMs);
      const r = await exited;
      clearTimeout(t);
      return r;
    },
  };
  running.add(handle);
  return handle;
}

/**
 * Resolve with the performance.now() at which the server first answers a request
 * (connect with a new session, then exists("/")); reject if the process exits first.
 *
 * Attempts overlap: ZooKeeper accepts TCP connections a moment before it serves them and
 * never answers a ConnectRequest sent in that gap (the connection just hangs), so an attempt
 * that has made no progress for `stallMs` gets a sibling instead of blocking the probe.
 */
export function waitServed(handle, { timeoutMs = 60000, pollMs = 2, stallMs = 50, maxPending = 20 } = {}) {
  return new Promise((resolve, reject) => {
    const deadline = performance.now() + timeoutMs;
    /** @type {Set<{ sock: import("node:net").Socket | null }>} */
    const pending = new Set();
    let done = false;
    let lastStart = -Infinity;
    let lastErr = "";
    const finish = (err, t) => {
      if (done) return;
      done = true;
      clearInterval(tick);
      for (const p of pending) p.sock?.destroy();
      pending.clear();
      if (err) reject(err);
      else resolve(t);
    };
    const attempt = () => {
      lastStart = performance.now();
      const entry = { sock: /** @type {import("node:net").Socket | null} */ (null) };
      pending.add(entry);
      MiniClient.connect(handle.port, { timeoutMs, onSocket: (s) => (entry.sock = s) })
        .then(async (c) => {
          if (done) return c.destroy();
          const r = await c.request(Op.exists, body.exists("/"));
          const t = performance.now();
          pending.delete(entry);
          if (r.err === 0) {
            finish(null, t);
            await c.close();
          } else {
            lastErr = `exists(/) err ${r.err}`;
            c.destroy();
          }
        })
        .catch((e) => {
          pending.delete(entry);
          lastErr = e instanceof Error ? e.message : String(e);
        });
    };
    const tick = setInterval(() => {
      const x = handle.exitInfo();
      if (x) {
        finish(new Error(`server exited (code ${x.code}, signal ${x.signal}${x.error ? `, ${x.error}` : ""}) before serving:\n${handle.logTail()}`));
        return;
      }
      const now = performance.now();
      if (now > deadline) {
        finish(new Error(`server not serving after ${timeoutMs} ms (last: ${lastErr})\n${handle.logTail()}`));
        return;
      }
      if (pending.size === 0 || (now - lastStart > stallMs && pending.size < maxPending)) attempt();
    }, pollMs);
  });
}
