#!/usr/bin/env node
// `npm run chaos -- [--target ezk|zookeeper] [--nodes 3|5] [--seconds N] [--seed S] [--out FILE]`:
// bundles bench/chaos.ts with esbuild (dependencies external) and runs it (docs/checker.md).
// ezk peers run the built CLI (bin/ezk.cjs on dist/: `npm run build` first).
import { build } from "esbuild"
import { mkdirSync } from "node:fs"
import { resolve } from "node:path"
import { pathToFileURL } from "node:url"
import { parseArgs } from "node:util"

const { values } = parseArgs({
  options: {
    target: { type: "string", default: "ezk" },
    nodes: { type: "string", default: "3" },
    seconds: { type: "string", default: "20" },
    seed: { type: "string", default: "1" },
    out: { type: "string" },
    sessions: { type: "string", default: "5" }
  }
})
if (values.target !== "ezk" && values.target !== "zookeeper") {
  console.error(`chaos: --target must be ezk or zookeeper, not ${values.target}`)
  process.exit(2)
}
for (const [flag, min] of [["nodes", 3], ["seconds", 1], ["seed", 0], ["sessions", 1]]) {
  if (!/^\d+$/.test(values[flag]) || Number(values[flag]) < min) {
    console.error(`chaos: --${flag} must be an integer >= ${min}, not ${values[flag]}`)
    process.exit(2)
  }
}
// The bundle lives in dist/; the ezk CLI path in test/support is relative to its own file.
process.env.EZK_CLI ??= resolve("bin/ezk.cjs")
mkdirSync("dist", { recursive: true })
const outfile = "dist/chaos.mjs"
await build({ entryPoints: ["bench/chaos.ts"], bundle: true, platform: "node", format: "esm", packages: "external", outfile, logLevel: "warning" })
const { runChaos, formatResult, targetAvailable } = await import(pathToFileURL(outfile).href)
if (!targetAvailable(values.target)) {
  console.error(values.target === "ezk" ? "chaos: ezk is not built (npm run build)" : "chaos: Apache ZooKeeper 3.8 not found (apt-get install zookeeper)")
  process.exit(2)
}
const result = await runChaos({
  target: values.target,
  nodes: Number(values.nodes),
  seconds: Number(values.seconds),
  seed: Number(values.seed),
  sessions: Number(values.sessions),
  ...(values.out === undefined ? {} : { out: values.out })
})
console.log(formatResult(result))
process.exit(result.report.valid ? 0 : 1)
