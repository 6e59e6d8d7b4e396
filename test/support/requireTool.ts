/**
 * The interop tests prove ezk against the real ZooKeeper tools, so a missing tool must not pass
 * quietly. Under CI=true it fails the test file with the Debian package to install; elsewhere its
 * tests skip and the run ends with one line naming what was skipped (see skipSummary.ts).
 */
import { appendFileSync } from "node:fs"
import { join } from "node:path"

/** Set by skipSummary.ts (the global setup) for the workers: where they note their skips. */
export const SKIPS_DIR_ENV = "EZK_TEST_SKIPS_DIR"

/**
 * True when `tool` is missing and its tests should skip; throws under CI=true instead.
 * `install` is what to install, e.g. "apt-get install zookeeper".
 */
export const missingTool = (tool: string, available: boolean, install: string): boolean => {
  if (available) return false
  const why = `${tool} missing (${install})`
  if (process.env.CI === "true") throw new Error(`${why}: required when CI=true`)
  const dir = process.env[SKIPS_DIR_ENV]
  if (dir !== undefined) appendFileSync(join(dir, `${process.pid}.txt`), `${why}\n`)
  return true
}
