/**
 * Vitest global setup: gives the workers a directory to note skipped tool-dependent tests in
 * (requireTool.ts), and at the end prints one line saying what was skipped and why.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { SKIPS_DIR_ENV } from "./requireTool.js"

export default function setup(): () => void {
  const dir = mkdtempSync(join(tmpdir(), "ezk-skips-"))
  process.env[SKIPS_DIR_ENV] = dir
  return () => {
    const reasons = new Set(readdirSync(dir).flatMap((f) => readFileSync(join(dir, f), "utf8").split("\n").filter((l) => l !== "")))
    rmSync(dir, { recursive: true, force: true })
    if (reasons.size > 0) {
      console.log(`\n[ezk] interop tests SKIPPED (CI=true fails instead): ${[...reasons].sort().join("; ")}\n`)
    }
  }
}
