import { defineConfig } from "vitest/config"

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // Prints one line at the end naming interop tests skipped for a missing tool (CI=true fails instead).
    globalSetup: ["test/support/skipSummary.ts"],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Integration suites start real server processes on free ports; keep CPU contention sane on 2 cores.
    maxWorkers: 2,
    minWorkers: 1
  }
})
