// A local ensemble of one kind (ezk or ZooKeeper 3.8) on loopback: every peer gets the same
// zoo.cfg keys except its own dataDir and clientPort, a myid file, and is started, killed,
// wiped and restarted as a separate process.
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import net from "node:net";
import path from "node:path";
import { REPO_DIR, startServer, waitServed, ZK_ENV_KEYS, ZK_SERVER_SH } from "./targets.mjs";

/** @param {"ezk" | "zookeeper"} kind */
export function clusterAvailable(kind, ezkMain) {
  if (kind === "zookeeper")
    return existsSync(ZK_SERVER_SH) && existsSync("/usr/bin/java") ? { ok: true } : { ok: false, reason: `${ZK_SERVER_SH} or java missing` };
  return existsSync(ezkMain) ? { ok: true } : { ok: false, reason: `${path.relative(REPO_DIR, ezkMain)} missing (npm run build)` };
}

/**
 * @param {object} o
 * @param {"ezk" | "zookeeper"} o.kind
 * @param {number} o.nodes
 * @param {string} o.root work directory for this ensemble
 * @param {{ tickTime: number, initLimit: number, syncLimit: number }} o.timing
 * @param {string} o.ezkMain
 */
/**
 * A port that was free a moment ago, below Linux's ephemeral range (32768+), never the same twice in
 * this process. A `listen(0)` port can be taken as the source port of another peer's outgoing
 * connection before its own peer binds it (seen: a ZooKeeper peer exiting at start with code 1).
 */
const handedOut = new Set();
async function portBelowEphemeralRange() {
  for (;;) {
    const candidate = 20_000 + Math.floor(Math.random() * 12_000);
    if (handedOut.has(candidate)) continue;
    const free = await new Promise((resolve) => {
      const srv = net.createServer();
      srv.once("error", () => resolve(false));
      srv.listen(candidate, "127.0.0.1", () => srv.close(() => resolve(true)));
    });
    if (!free) continue;
    handedOut.add(candidate);
    return candidate;
  }
}

export async function makeCluster(o) {
  const ports = [];
  for (let i = 0; i < o.nodes * 3; i++) ports.push(await portBelowEphemeralRange());
  const peers = Array.from({ length: o.nodes }, (_, i) => {
    const sid = i + 1;
    const workDir = path.join(o.root, `peer${sid}`);
    return { sid, workDir, dataDir: path.join(workDir, "data"), clientPort: ports[3 * i], quorumPort: ports[3 * i + 1], electionPort: ports[3 * i + 2], handle: null };
  });
  const serverLines = peers.map((p) => `server.${p.sid}=127.0.0.1:${p.quorumPort}:${p.electionPort}`);

  const writeConfig = (p) => {
    mkdirSync(p.dataDir, { recursive: true });
    writeFileSync(path.join(p.dataDir, "myid"), `${p.sid}\n`);
    const cfg = path.join(p.workDir, "zoo.cfg");
    writeFileSync(
      cfg,
      [
        `tickTime=${o.timing.tickTime}`,
        `initLimit=${o.timing.initLimit}`,
        `syncLimit=${o.timing.syncLimit}`,
        `dataDir=${p.dataDir}`,
        `clientPort=${p.clientPort}`,
        "clientPortAddress=127.0.0.1",
        "forceSync=yes",
        "maxClientCnxns=0",
        "4lw.commands.whitelist=*",
        "admin.enableServer=false",
        // ZooKeeper may sync a learner from its txn log when the log is < 0.33 x the snapshot;
        // ezk never does, so both are told to SNAP a learner outside the committed-log window
        // (ZooKeeper reads unknown keys as zookeeper.* properties; ezk warns and ignores it).
        "snapshotSizeFactor=-1",
        ...serverLines,
        "",
      ].join("\n"),
    );
    return cfg;
  };

  const targetOf = (p) => ({
    name: `${o.kind}-${p.sid}`,
    command: () => {
      const cfg = writeConfig(p);
      if (o.kind === "zookeeper") {
        const env = { ...process.env };
        for (const k of ZK_ENV_KEYS) delete env[k];
        return { cmd: ZK_SERVER_SH, args: ["start-foreground", cfg], env, cwd: p.workDir };
      }
      return { cmd: process.execPath, args: [...(o.nodeArgs?.(p.sid) ?? []), o.ezkMain, "server", "--config", cfg], env: { ...process.env }, cwd: p.workDir };
    },
  });

  /** Spawn peer p; resolves with the spawn time (performance.now()). */
  const start = (p) => {
    mkdirSync(p.workDir, { recursive: true });
    const t = performance.now();
    p.handle = startServer(targetOf(p), { port: p.clientPort, dataDir: p.dataDir, workDir: p.workDir });
    return t;
  };

  return {
    kind: o.kind,
    peers,
    clientPorts: () => peers.map((p) => p.clientPort),
    start,
    startAll: async (timeoutMs = 90000) => {
      for (const p of peers) start(p);
      await Promise.all(peers.map((p) => waitServed(p.handle, { timeoutMs })));
    },
    waitServed: (p, timeoutMs = 120000) => waitServed(p.handle, { timeoutMs }),
    kill9: (p) => {
      process.kill(p.handle.pid, "SIGKILL");
      return p.handle.exited;
    },
    /** Delete everything in the peer's data dir but myid (a replaced disk). */
    wipe: (p) => {
      for (const f of readdirSync(p.dataDir)) if (f !== "myid") rmSync(path.join(p.dataDir, f), { recursive: true, force: true });
    },
    /** The serving peer whose srvr says Mode: leader, or null. */
    leader: async () => {
      for (const p of peers) {
        if (!p.handle || p.handle.exitInfo()) continue;
        const m = await mode(p.clientPort).catch(() => null);
        if (m === "leader") return p;
      }
      return null;
    },
    modes: () => Promise.all(peers.map((p) => (p.handle && !p.handle.exitInfo() ? mode(p.clientPort).catch(() => "?") : Promise.resolve("down")))),
    stopAll: () => Promise.all(peers.map((p) => p.handle?.stop(5000))),
  };
}

/** The `Mode:` line of the srvr four-letter word. */
export function mode(port, timeoutMs = 2000) {
  return new Promise((resolve, reject) => {
    const sock = net.connect({ port, host: "127.0.0.1" });
    let out = "";
    const timer = setTimeout(() => {
      sock.destroy();
      reject(new Error("srvr timeout"));
    }, timeoutMs);
    sock.on("connect", () => sock.write("srvr"));
    sock.on("data", (d) => (out += d.toString("latin1")));
    sock.on("error", (e) => {
      clearTimeout(timer);
      reject(e);
    });
    sock.on("close", () => {
      clearTimeout(timer);
      const m = /^Mode: (\S+)/m.exec(out);
      if (m) resolve(m[1]);
      else reject(new Error(`no Mode in srvr: ${out.slice(0, 80)}`));
    });
  });
}
