/**
 * The quorum core stays pure (STYLE §2.1/§2.2): no node:* module, no effectful Effect module, no
 * clock and no randomness. test/tidy.test.ts does not list src/quorum/core yet; this covers it.
 */
import { assert, describe, it } from "@effect/vitest"
import { readdirSync, readFileSync, statSync } from "node:fs"
import * as path from "node:path"
import { fileURLToPath } from "node:url"

const dir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../../src/quorum/core")
const files = (d: string): Array<string> =>
  readdirSync(d).flatMap((n) => (statSync(path.join(d, n)).isDirectory() ? files(path.join(d, n)) : n.endsWith(".ts") ? [path.join(d, n)] : []))
const code = (f: string): string =>
  readFileSync(f, "utf8").replace(/\/\*[\s\S]*?\*\//g, "").replace(/(^|[^:"'`])\/\/.*$/gm, "$1")

describe("quorum core purity", () => {
  it("imports only relative modules and uses no clock or randomness", () => {
    const all = files(dir)
    assert.isAbove(all.length, 5)
    const bad = all.filter((f) => /from "(?!\.)/.test(code(f)) || /\b(Date\.now|Math\.random|performance\.now|setTimeout|setInterval)\b/.test(code(f)))
    assert.deepStrictEqual(bad, [])
  })
})
