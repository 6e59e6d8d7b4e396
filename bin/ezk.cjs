#!/usr/bin/env node
"use strict"
// The `ezk` command. Loads the fast-path bundle dist/ezk.cjs (server, 4lw, version) with V8's code
// cache (dist/ezk.cache), so a start does not re-compile it; the cache is (re)written once when
// missing or stale (another Node version). `ezk shell` runs dist/ezk-shell.cjs (the client, no server);
// anything else runs the full CLI bundle dist/ezk-full.cjs.
// Without bundles (a plain tsc build) it runs the ESM entry dist/cli/main.js.
const fs = require("fs")
const path = require("path")
const vm = require("vm")
const Module = require("module")

const dist = path.join(__dirname, "..", "dist")
const bundle = path.join(dist, "ezk.cjs")
const fullBundle = path.join(dist, "ezk-full.cjs")
const cacheFile = path.join(dist, "ezk.cache")
const shellBundle = path.join(dist, "ezk-shell.cjs")

if (process.argv[2] === "shell" && fs.existsSync(shellBundle)) {
  require(shellBundle).runShellMain(process.argv.slice(3))
} else if (!fs.existsSync(bundle)) {
  import(require("url").pathToFileURL(path.join(dist, "cli", "main.js")).href)
} else {
  let cachedData
  try {
    cachedData = fs.readFileSync(cacheFile)
  } catch {}
  const source = fs.readFileSync(bundle, "utf8").replace(/^#!.*/, "")
  const script = new vm.Script(Module.wrap(source), { filename: bundle, cachedData })
  if (cachedData === undefined || script.cachedDataRejected) {
    // Written after the first second (the server's start-up and first requests are compiled by
    // then) or at exit for short commands; best effort, e.g. a read-only install just runs uncached.
    let written = false
    const write = () => {
      if (written) return
      written = true
      try {
        const tmp = `${cacheFile}.${process.pid}.tmp`
        fs.writeFileSync(tmp, script.createCachedData())
        fs.renameSync(tmp, cacheFile)
      } catch {}
    }
    setTimeout(write, 1000).unref()
    process.once("exit", write)
  }
  const mod = new Module(bundle, module)
  mod.filename = bundle
  mod.paths = Module._nodeModulePaths(dist)
  script.runInThisContext().call(mod.exports, mod.exports, (id) => mod.require(id), mod, bundle, dist)
  if (!mod.exports.runFast(process.argv)) require(fullBundle)
}
