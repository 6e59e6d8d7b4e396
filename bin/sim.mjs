#!/usr/bin/env node
// `npm run sim -- …`: bundles src/sim/Main.ts with esbuild (dependencies stay external) and runs it.
// Lives outside src/ because only entry points run Effects as programs (test/tidy.test.ts).
import { build } from "esbuild"
import { mkdirSync } from "node:fs"
import { pathToFileURL } from "node:url"
import { Effect } from "effect"

mkdirSync("dist", { recursive: true })
const outfile = "dist/sim.mjs"
await build({ entryPoints: ["src/sim/Main.ts"], bundle: true, platform: "node", format: "esm", packages: "external", outfile, logLevel: "warning" })
const { main } = await import(pathToFileURL(outfile).href)
const failing = await Effect.runPromise(main(process.argv.slice(2), () => performance.now()))
process.exit(failing.length === 0 ? 0 : 1)
