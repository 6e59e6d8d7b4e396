/**
 * `npm run chaos` (bench/chaos.ts) on real processes: a 3-node ensemble of ezk, then of Apache
 * ZooKeeper 3.8, under the sim's workload while the nemesis kill -9s and SIGSTOPs peers; the
 * history (with the committed sequences read from the data dirs) must be VALID for both. Apache
 * ZooKeeper passing shows the checker expects ZooKeeper's real behaviour.
 */
import { assert, describe, it } from "@effect/vitest"
import * as fs from "node:fs"
import { formatResult, runChaos, type Target } from "../../bench/chaos.js"
import { noApacheZk } from "../support/apacheZk.js"
import { noEzkBuild } from "../support/ezkServer.js"

const chaos = async (target: Target) => {
  const trace: Array<string> = []
  const r = await runChaos({ target, nodes: 3, seconds: 8, seed: 11, log: (line) => void trace.push(line) })
  const summary = `${formatResult(r)}\n${trace.join("\n")}`
  assert.isTrue(r.report.valid, summary)
  assert.isAbove(r.report.counts.ok, 100, summary)
  assert.isAtLeast(r.kills + r.pauses, 2, summary)
  assert.strictEqual(r.report.counts.peers, 3, summary)
  // The peer-log checkers ran (nothing needed was skipped, only WGL on this many writes).
  assert.deepStrictEqual(r.report.skipped.map((s) => s.checker), ["wgl"], summary)
  // Kept (named in the message) when the run fails.
  fs.rmSync(r.historyFile, { force: true })
}

describe("chaos on real processes", () => {
  it.skipIf(noEzkBuild())("a 3-node ezk ensemble under kill -9 and SIGSTOP is VALID", () => chaos("ezk"), 120_000)
  it.skipIf(noApacheZk())("a 3-node Apache ZooKeeper 3.8 ensemble under kill -9 and SIGSTOP is VALID", () => chaos("zookeeper"), 120_000)
})
