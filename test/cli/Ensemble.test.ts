/**
 * `ezk ensemble`: the port layout and zoo.cfg it writes, and the built command run for real — it
 * starts three peers that elect a leader, a write through one node is read through another, and
 * SIGTERM stops every node and exits 0 with no child left behind.
 */
import { assert, describe, it } from "@effect/vitest"
import * as Either from "effect/Either"
import { execFileSync, spawn } from "node:child_process"
import * as fs from "node:fs/promises"
import * as net from "node:net"
import * as os from "node:os"
import * as path from "node:path"
import { ENSEMBLE_DEFAULTS, ensembleConnectString, ensembleLayout, ensembleZooCfg } from "../../src/cli/EnsembleCommand.js"
import { Op } from "../../src/wire/Codes.js"
import { fourLetterWord } from "../support/apacheZk.js"
import { ezkCli, noEzkBuild } from "../support/ezkServer.js"
import { startPipelinedSession } from "../interop/rawClient.js"

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

describe("ensembleLayout", () => {
  it("gives node N three consecutive ports from base + 3(N-1); observers come last", () => {
    const nodes = Either.getOrThrow(ensembleLayout({ ...ENSEMBLE_DEFAULTS, observers: 1, dataDir: "d" }))
    assert.deepStrictEqual(
      nodes.map((n) => [n.name, n.observer, n.clientPort, n.quorumPort, n.electionPort, n.dir]),
      [
        ["node1", false, 2181, 2182, 2183, path.join("d", "node1")],
        ["node2", false, 2184, 2185, 2186, path.join("d", "node2")],
        ["node3", false, 2187, 2188, 2189, path.join("d", "node3")],
        ["node4", true, 2190, 2191, 2192, path.join("d", "node4")]
      ]
    )
    assert.strictEqual(ensembleConnectString(nodes), "127.0.0.1:2181,127.0.0.1:2184,127.0.0.1:2187,127.0.0.1:2190")
  })

  it("refuses flags that make no ensemble", () => {
    const message = (flags: Partial<typeof ENSEMBLE_DEFAULTS>) =>
      Either.match(ensembleLayout({ ...ENSEMBLE_DEFAULTS, ...flags }), { onLeft: (e) => e.message, onRight: () => "ok" })
    assert.strictEqual(message({ nodes: 0 }), "--nodes must be at least 1, got 0")
    assert.strictEqual(message({ observers: -1 }), "--observers must be 0 or more, got -1")
    assert.strictEqual(message({ basePort: 65530 }), "--base-port 65530 leaves no room for 9 ports")
  })

  it("writes ZooKeeper's zoo.cfg with the server list, client addresses and peerType for observers", () => {
    const flags = { ...ENSEMBLE_DEFAULTS, nodes: 2, observers: 1, dataDir: "/var/ezk", tickTime: 500 }
    const nodes = Either.getOrThrow(ensembleLayout(flags))
    assert.strictEqual(
      ensembleZooCfg(flags, nodes, nodes[2]!),
      [
        "tickTime=500",
        "initLimit=10",
        "syncLimit=5",
        "dataDir=/var/ezk/node3/data",
        "clientPort=2187",
        "clientPortAddress=127.0.0.1",
        "4lw.commands.whitelist=*",
        "peerType=observer",
        "server.1=127.0.0.1:2182:2183;127.0.0.1:2181",
        "server.2=127.0.0.1:2185:2186;127.0.0.1:2184",
        "server.3=127.0.0.1:2188:2189:observer;127.0.0.1:2187",
        ""
      ].join("\n")
    )
    assert.notInclude(ensembleZooCfg(flags, nodes, nodes[0]!), "peerType")
  })
})

/** A base port with `count` free consecutive ports, below the ephemeral range (32768+). */
const freeBlock = async (count: number): Promise<number> => {
  const free = (port: number) =>
    new Promise<boolean>((resolve) => {
      const server = net.createServer()
      server.once("error", () => resolve(false))
      server.listen(port, "127.0.0.1", () => server.close(() => resolve(true)))
    })
  for (;;) {
    const base = 20_000 + Math.floor(Math.random() * 12_000)
    let ok = true
    for (let p = base; p < base + count && ok; p++) ok = await free(p)
    if (ok) return base
  }
}

/** Pids of the direct children of `pid` (ps; empty when it has none). */
const childPids = (pid: number): Array<number> => {
  try {
    return execFileSync("ps", ["-o", "pid=", "--ppid", String(pid)], { encoding: "utf8" })
      .split("\n").map((l) => Number(l.trim())).filter((p) => p > 0)
  } catch {
    return [] // ps exits 1 when nothing matches
  }
}

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

describe.skipIf(noEzkBuild())("ezk ensemble (the built command)", () => {
  it("runs three peers that replicate; SIGTERM stops them all and exits 0", async () => {
    const base = await freeBlock(9)
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), "ezk-ensemble-cli-"))
    const child = spawn(
      process.execPath,
      [ezkCli, "ensemble", "--nodes", "3", "--base-port", String(base), "--data-dir", dir, "--tick-time", "500"],
      { stdio: ["ignore", "pipe", "pipe"] }
    )
    let output = ""
    child.stdout.on("data", (d: Buffer) => (output += d.toString("utf8")))
    child.stderr.on("data", (d: Buffer) => (output += d.toString("utf8")))
    const exit = new Promise<string>((resolve) => child.on("exit", (code, signal) => resolve(signal ?? `code ${code}`)))
    let nodePids: Array<number> = []
    try {
      const waitFor = async (what: string, cond: () => boolean | Promise<boolean>) => {
        const deadline = Date.now() + 30_000
        while (!(await cond())) {
          if (Date.now() > deadline || child.exitCode !== null) throw new Error(`no ${what}:\n${output}`)
          await sleep(50)
        }
      }
      const connect = [0, 1, 2].map((i) => `127.0.0.1:${base + 3 * i}`).join(",")
      await waitFor("connect string", () => output.includes(`connect string: ${connect}`))
      const mode = (port: number) => fourLetterWord(port, "srvr").then((r) => /^Mode: (\S+)/m.exec(r)?.[1], () => undefined)
      await waitFor("leader and two followers", async () => {
        const modes = (await Promise.all([0, 1, 2].map((i) => mode(base + 3 * i)))).sort()
        return modes.join(",") === "follower,follower,leader"
      })
      for (const n of [1, 2, 3]) assert.include(output, `node${n} | `)

      const writer = await startPipelinedSession(base)
      const created = await writer.call({ type: Op.create, path: "/via-node1", data: new TextEncoder().encode("hi"), acl: [{ perms: 31, id: { scheme: "world", id: "anyone" } }], flags: 0, ttl: -1 })
      writer.close()
      assert.strictEqual(created.header.err, 0)
      const reader = await startPipelinedSession(base + 6)
      await reader.call({ type: Op.sync, path: "/via-node1" })
      const read = await reader.call({ type: Op.getData, path: "/via-node1", watch: false })
      reader.close()
      assert.strictEqual(read.response?.type === "data" ? new TextDecoder().decode(read.response.data!) : read.header.err, "hi")

      nodePids = childPids(child.pid!)
      assert.strictEqual(nodePids.length, 3, `children of ezk ensemble: ${nodePids}`)
      child.kill("SIGTERM")
      assert.strictEqual(await exit, "code 0", output)
      assert.deepStrictEqual(nodePids.filter(alive), [], "nodes left running after ezk ensemble exited")
    } finally {
      // A failure before SIGTERM must not orphan the nodes: find them while their parent still runs.
      if (child.exitCode === null && child.signalCode === null) {
        nodePids = childPids(child.pid!)
        child.kill("SIGKILL")
      }
      for (const pid of nodePids.filter(alive)) process.kill(pid, "SIGKILL")
      await fs.rm(dir, { recursive: true, force: true })
    }
  })
})
