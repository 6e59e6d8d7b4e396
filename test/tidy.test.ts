/**
 * Project bans (STYLE §2.1, after TigerBeetle's tidy.zig): the pure core stays pure, time and
 * randomness come from Effect's Clock/Random, and only the CLI runs an Effect as a program.
 */
import { assert, describe, it } from "@effect/vitest"
import { readdirSync, readFileSync, statSync } from "node:fs"
import * as path from "node:path"
import { fileURLToPath } from "node:url"

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..")

const sources = (dir: string): Array<string> =>
  readdirSync(path.join(root, dir)).flatMap((name) => {
    const rel = path.join(dir, name)
    return statSync(path.join(root, rel)).isDirectory() ? sources(rel) : rel.endsWith(".ts") ? [rel] : []
  })

/** Source text without comments, so prose may mention what code may not use. */
const code = (rel: string): string =>
  readFileSync(path.join(root, rel), "utf8")
    .replace(/\/\*[\s\S]*?\*\//g, "")
    .replace(/(^|[^:"'`])\/\/.*$/gm, "$1")

const offenders = (files: ReadonlyArray<string>, pattern: RegExp): Array<string> =>
  files.filter((f) => pattern.test(code(f)))

const pure = [...sources("src/wire"), ...sources("src/tree"), ...sources("src/server/pipeline"), ...sources("src/server/sessions"), "src/auth/Acl.ts", "src/server/ServerCore.ts", "src/server/CoreConfig.ts", "src/server/ServerStats.ts", "src/storage/TxnLogFormat.ts", "src/server/internal/configDecode.ts"]

describe("tidy", () => {
  it("the pure core imports no node:* module and no effectful Effect module", () => {
    assert.deepStrictEqual(offenders(pure, /from "node:/), [])
    assert.deepStrictEqual(offenders(pure, /import \{[^}]*\b(Effect|Layer|Queue|Clock|Random|Fiber)\b[^}]*\} from "effect"/), [])
  })

  it("time and randomness come from Effect's Clock and Random (or are injected)", () => {
    // HopTimes: a diagnostic of real per-hop times on real processes, off unless EZK_HOPS=1.
    const src = sources("src").filter((f) => f !== path.join("src", "server", "HopTimes.ts"))
    assert.deepStrictEqual(offenders(src, /\bDate\.now\(|\bMath\.random\(|\bperformance\.now\(|process\.hrtime/), [])
    // Timers live in Effect schedules (a socket's own idle timeout, `socket.setTimeout`, is fine).
    assert.deepStrictEqual(offenders(src, /(^|[^.\w])(setTimeout|setInterval)\(/m), [])
  })

  it("every socket goes through the Transport: only src/net/Tcp.ts imports node:net", () => {
    const src = sources("src").filter((f) => f !== path.join("src", "net", "Tcp.ts"))
    assert.deepStrictEqual(offenders(src, /from "node:(net|tls|dgram)"/), [])
  })

  it("only the CLI entry points run Effects as programs", () => {
    // The Promise facade is an entry point for non-Effect code; it runs Effects in this one module.
    const entries = [path.join("src", "cli", "main.ts"), path.join("src", "cli", "FastMain.ts"), path.join("src", "cli", "ShellMain.ts"), path.join("src", "client", "promise", "run.ts")]
    const src = sources("src").filter((f) => !entries.includes(f))
    assert.deepStrictEqual(offenders(src, /\bEffect\.run(Promise|Sync|Fork|Callback)\(|\brunMain\b/), [])
  })

  it("no test is skipped or focused unconditionally", () => {
    const tests = sources("test").filter((f) => f.endsWith(".test.ts"))
    assert.deepStrictEqual(offenders(tests, /\b(it|describe|test)\.(only|skip|todo)\(/), [])
    // A skip goes through skipIf with a check (test/support/requireTool.ts), never an options flag or a constant.
    assert.deepStrictEqual(offenders(tests, /\{\s*skip\s*:/), [])
    assert.deepStrictEqual(offenders(tests, /\.(skipIf|runIf)\(\s*!?\s*(true|false|undefined|null|\d+|"[^"]*"|'[^']*'|`[^`]*`)\s*\)/), [])
  })
})
