/**
 * ezk's logging flags (ezk only): `--log-format json` prints one JSON object per line,
 * `--log-level warning` drops info lines but keeps warnings. The server is started without
 * startEzk (whose readiness wait reads the info line "ezk serving on"): it is up once `ruok`
 * answers, then SIGTERM ends it and the whole output is checked.
 */
import { afterAll, assert, describe, it } from "@effect/vitest"
import * as path from "node:path"
import { freePort, fourLetterWord } from "../support/apacheZk.js"
import { type CliRun, lines, removeTempDirs, spawnEzk, tempDir, waitUntil } from "./support.js"

afterAll(removeTempDirs)

/** Starts `ezk server` with `extra` args, waits until it answers ruok, SIGTERMs it and returns its run. */
const serveOnce = async (extra: ReadonlyArray<string>): Promise<CliRun> => {
  const port = await freePort()
  const dataDir = path.join(tempDir("log"), "data")
  const proc = spawnEzk(["server", "--host", "127.0.0.1", "--port", String(port), "--data-dir", dataDir, ...extra])
  let exited: CliRun | undefined
  void proc.exited.then((r) => (exited = r))
  try {
    await waitUntil(
      async () => {
        if (exited !== undefined) throw new Error(`ezk exited early (${exited.code}):\n${exited.stdout}${exited.stderr}`)
        return (await fourLetterWord(port, "ruok", "127.0.0.1", 500).catch(() => "")) === "imok"
      },
      10_000,
      "ezk answering ruok"
    )
  } finally {
    proc.kill("SIGTERM")
  }
  return proc.exited
}

describe("ezk logging flags", () => {
  it("--log-format json: every line is a JSON object with message and level", async () => {
    const r = await serveOnce(["--log-format", "json"])
    assert.strictEqual(r.code, 0, r.stdout + r.stderr)
    const all = lines(r.stdout + r.stderr)
    assert.isAtLeast(all.length, 3)
    const parsed = all.map((l) => {
      try {
        return JSON.parse(l) as { message?: unknown; logLevel?: unknown; timestamp?: unknown }
      } catch {
        throw new Error(`not a JSON line: ${l}`)
      }
    })
    for (const p of parsed) {
      assert.typeOf(p.message, "string")
      assert.typeOf(p.logLevel, "string")
      assert.typeOf(p.timestamp, "string")
    }
    assert.isTrue(parsed.some((p) => String(p.message).startsWith("ezk serving on 127.0.0.1:")), r.stdout)
    assert.isTrue(parsed.some((p) => p.message === "ezk stopped; txn log synced"), r.stdout)
  })

  it("--log-level warning: no info lines, warnings still shown", async () => {
    // An unknown key is a warning (and otherwise ignored), so there is one to see.
    const r = await serveOnce(["--log-level", "warning", "--set", "no.such.key=1"])
    assert.strictEqual(r.code, 0, r.stdout + r.stderr)
    const all = lines(r.stdout + r.stderr)
    assert.deepStrictEqual(
      all.filter((l) => !/level=(WARN|ERROR|FATAL)\b/.test(l)),
      [],
      "lines below warning"
    )
    assert.isTrue(all.some((l) => /level=WARN\b.*no\.such\.key/.test(l)), r.stdout + r.stderr)
  })
})
