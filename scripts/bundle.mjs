// Bundles the CLI into two CommonJS files that bin/ezk.cjs loads:
// - dist/ezk.cjs: the fast path (server, 4lw, version), loaded through V8's code cache (dist/ezk.cache);
// - dist/ezk-full.cjs: the complete @effect/cli program, for help and anything else;
// - dist/ezk-shell.cjs: `ezk shell` (exports runShellMain), the client without the server.
// Cold start to the first served request is a benchmark target: a lean single file with a warm code
// cache starts in ~110 ms instead of ~600 ms for hundreds of ESM modules. The fast-path graph has no
// dynamic import, so esbuild hoists and tree-shakes it instead of wrapping modules in lazy initialisers.
import { build } from "esbuild"
import { execFileSync } from "node:child_process"
import { rmSync } from "node:fs"

const common = {
  bundle: true,
  platform: "node",
  format: "cjs",
  target: "node20",
  minify: true,
  legalComments: "none",
  logLevel: "warning",
  // import.meta.url (the package.json lookup) in a CommonJS bundle.
  define: { "import.meta.url": "__ezk_import_meta_url" },
  banner: { js: "const __ezk_import_meta_url=require('url').pathToFileURL(__filename).href;" }
}
await build({ ...common, entryPoints: ["dist/cli/FastMain.js"], outfile: "dist/ezk.cjs" })
await build({ ...common, entryPoints: ["dist/cli/main.js"], outfile: "dist/ezk-full.cjs" })
await build({ ...common, entryPoints: ["dist/cli/ShellMain.js"], outfile: "dist/ezk-shell.cjs" })
// A fresh bundle invalidates the old cache; warm a new one with a short run.
rmSync("dist/ezk.cache", { force: true })
execFileSync(process.execPath, ["bin/ezk.cjs", "version"], { stdio: "ignore" })
